"""The optimizer kernel against sharp and bare Pillow: the original system's job, and sharp's published task."""

import math
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import images, sharp, ssim
from bench.result import Goal, Measure, Result, Verdict
from bench.stats import column, interleave, median, paired_ratios
from bench.subjects import Kernel, Unavailable, imgopt_optimizer, pillow_reencode, pillow_resize, run_threads
from bench.workspace import work_dir
from imgopt.domain.options import OptimizationOptions, OutputFormat

WORKERS = 2
SUBJECTS = ("imgopt", "sharp", "pillow")
LAYOUT = (
    f"{WORKERS} workers each: imgopt and bare Pillow on {WORKERS} Python threads (Pillow releases the GIL while "
    f"decoding and encoding); sharp with sharp.concurrency(1) and {WORKERS} images in flight on "
    f"UV_THREADPOOL_SIZE={WORKERS} — two images at a time, one thread each, on every side. Inputs are read into "
    "memory before the clock starts; each subject is warmed up on 2 images first; outputs stay in memory while timed."
)

CPU_NOTE = (
    "Per CPU-second = images over the subject process's CPU time (user + system) in the timed window: work per "
    "image, much less disturbed than wall time when other jobs share the machine; the goals use wall time."
)


def kernel_original(quick: bool) -> Result:
    files = images.photo_variants(4 if quick else 100)
    rounds = 1 if quick else 7
    kernels, missing = _python_subjects(
        {"imgopt": lambda: imgopt_optimizer(OptimizationOptions()), "pillow": lambda: pillow_reencode(50)}
    )
    rates, outputs, missing = _time(kernels, missing, "original", files, rounds, sharp_cache=True)
    similarity = _ssim(files, outputs)
    result = Result(
        "kernel-original",
        "The original's job: re-encode at quality 50, same size",
        method=(
            f"{len(files)} distinct {images.SOURCE}-sized JPEGs (variants of the corpus photo, quality "
            f"{images.RECIPE['quality']}); imgopt = PillowOptimizer.optimize(data, OptimizationOptions()); sharp = "
            "sharp(buf).jpeg({quality: 50}).toBuffer() (default settings, as the original ran it); pillow = "
            "Image.open(...).save(buf, 'JPEG', quality=50). "
            f"{LAYOUT} {rounds} interleaved rounds, rotating the order; medians; ratios paired per round. "
            f"{CPU_NOTE} Bytes = total output size; SSIM = mean over images of luma SSIM (11x11 Gaussian, sigma 1.5) "
            "of each output against its input."
        ),
    )
    for subject in SUBJECTS:
        if subject in missing:
            result.measures.append(Measure(subject, "images/s", None, note=missing[subject]))
            continue
        result.measures += [
            Measure(subject, "images/s", median(rates[subject]), "img/s", rates[subject]),
            Measure(subject, "per CPU-s", median(rates[f"{subject} cpu"]), "img/CPU-s", rates[f"{subject} cpu"]),
            Measure(subject, "output MB", sum(map(len, outputs[subject])) / 1e6, "MB"),
            Measure(subject, "mean SSIM", _mean(similarity[subject]), "", similarity[subject]),
        ]
    total = {subject: sum(map(len, produced)) for subject, produced in outputs.items()}
    mean_ssim = {subject: _mean(values) for subject, values in similarity.items()}
    result.verdicts += [
        _rate_ratio(rates, missing, "imgopt", "sharp", "images/s", Goal(">=", 1.0)),
        _rate_ratio(rates, missing, "imgopt", "sharp", "images per CPU-second", per_cpu=True),
        _plain_ratio(total, missing, "imgopt", "sharp", "output bytes", Goal("<=", 1.0)),
        _plain_ratio(mean_ssim, missing, "imgopt", "sharp", "mean SSIM", Goal(">=", 1.0)),
        _rate_ratio(rates, missing, "pillow", "sharp", "images/s"),
        _rate_ratio(rates, missing, "pillow", "sharp", "images per CPU-second", per_cpu=True),
        _plain_ratio(total, missing, "pillow", "sharp", "output bytes"),
        _plain_ratio(mean_ssim, missing, "pillow", "sharp", "mean SSIM"),
        _rate_ratio(rates, missing, "imgopt", "pillow", "images/s"),
    ]
    result.details = {"images": len(files), "rounds": rounds, "workers": WORKERS, "output_bytes": total}
    return result


def kernel_sharp_task(quick: bool) -> Result:
    count = 4 if quick else 100
    files = [images.source_photo()] * count
    rounds = 1 if quick else 5
    size = (720, 588)
    options = OptimizationOptions(quality=80, max_width=size[0], max_height=size[1], format=OutputFormat.JPEG)
    kernels, missing = _python_subjects(
        {"imgopt": lambda: imgopt_optimizer(options), "pillow": lambda: pillow_resize(size, 80)}
    )
    rates, outputs, missing = _time(kernels, missing, "resize", files, rounds, sharp_cache=False)
    result = Result(
        "kernel-sharp-task",
        "sharp's published task: 2725x2225 JPEG -> 720x588 Lanczos-3, JPEG quality 80",
        method=(
            f"{images.SOURCE} {count} times (as sharp's own benchmark, with sharp.cache(false)); imgopt = "
            "PillowOptimizer.optimize with maxWidth=720, maxHeight=588, quality=80, format=jpeg; sharp = "
            "sharp(buf).resize(720, 588, {kernel: 'lanczos3'}).jpeg({quality: 80}).toBuffer(); pillow = "
            f"Image.open, draft('RGB', (720, 588)), resize(LANCZOS), save JPEG quality 80. {LAYOUT} "
            f"{rounds} interleaved rounds, rotating the order; medians; ratios paired per round. {CPU_NOTE} "
            "Anchor: sharp's docs report ~89 ops/s for this task on 4 vCPUs."
        ),
    )
    for subject in SUBJECTS:
        if subject in missing:
            result.measures.append(Measure(subject, "ops/s", None, note=missing[subject]))
            continue
        result.measures += [
            Measure(subject, "ops/s", median(rates[subject]), "ops/s", rates[subject]),
            Measure(subject, "per CPU-s", median(rates[f"{subject} cpu"]), "ops/CPU-s", rates[f"{subject} cpu"]),
            Measure(subject, "output MB", sum(map(len, outputs[subject])) / 1e6, "MB"),
        ]
    result.verdicts += [
        _rate_ratio(rates, missing, "imgopt", "sharp", "ops/s", Goal(">=", 1.0)),
        _rate_ratio(rates, missing, "imgopt", "sharp", "ops per CPU-second", per_cpu=True),
        _rate_ratio(rates, missing, "pillow", "sharp", "ops/s"),
        _rate_ratio(rates, missing, "pillow", "sharp", "ops per CPU-second", per_cpu=True),
        _rate_ratio(rates, missing, "imgopt", "pillow", "ops/s"),
    ]
    result.details = {"images": count, "rounds": rounds, "workers": WORKERS}
    return result


def _python_subjects(factories: dict[str, Callable[[], Kernel]]) -> tuple[dict[str, Kernel], dict[str, str]]:
    kernels, missing = {}, {}
    for name, factory in factories.items():
        try:
            kernels[name] = factory()
        except Unavailable as exc:
            missing[name] = str(exc)
    return kernels, missing


def _time(
    kernels: dict[str, Kernel], missing: dict[str, str], task: str, files: list[Path], rounds: int, sharp_cache: bool
) -> tuple[dict[str, list[float]], dict[str, list[bytes]], dict[str, str]]:
    """Rates per subject over interleaved rounds (wall clock as "name", per CPU-second as "name cpu"),
    and each subject's outputs from its first round."""
    inputs = [file.read_bytes() for file in files]
    outputs: dict[str, list[bytes]] = {}
    runs = {}
    for name, kernel in kernels.items():
        run_threads(kernel, inputs[:2], WORKERS)  # warm-up: lazy imports, first allocations

        def timed(name: str = name, kernel: Kernel = kernel) -> dict[str, float]:
            seconds, cpu_seconds, produced = run_threads(kernel, inputs, WORKERS)
            outputs.setdefault(name, produced)
            return {"rate": len(inputs) / seconds, "cpu_rate": len(inputs) / cpu_seconds}

        runs[name] = timed
    try:
        folder = sharp.install()
    except sharp.SharpUnavailable as exc:
        missing = {**missing, "sharp": f"sharp unavailable: {exc}"}
    else:
        save_dir = work_dir("out", task)
        shutil.rmtree(save_dir)

        def timed_sharp() -> dict[str, float]:
            first = "sharp" not in outputs
            run = sharp.run(folder, task, files, WORKERS, save_dir=save_dir if first else None, cache=sharp_cache)
            if first:
                outputs["sharp"] = [(save_dir / f"{index}.jpg").read_bytes() for index in range(len(files))]
            return {"rate": len(files) / run.seconds, "cpu_rate": len(files) / run.cpu_seconds}

        runs["sharp"] = timed_sharp
    samples = interleave(runs, rounds)
    rates = {name: column(values, "rate") for name, values in samples.items()}
    rates |= {f"{name} cpu": column(values, "cpu_rate") for name, values in samples.items()}
    return rates, outputs, missing


def _ssim(files: list[Path], outputs: dict[str, list[bytes]]) -> dict[str, list[float]]:
    """Per subject, the SSIM of each output against its input; NaN where the sizes differ."""

    def one(index: int) -> dict[str, float]:
        reference = ssim.luma(files[index].read_bytes())
        scores = {}
        for name, produced in outputs.items():
            try:
                scores[name] = ssim.ssim(reference, ssim.luma(produced[index]))
            except ValueError:
                scores[name] = math.nan
        return scores

    # numpy and scipy release the GIL for most of the work, so two threads nearly halve the wait.
    with ThreadPoolExecutor(WORKERS) as pool:
        per_image = list(pool.map(one, range(len(files))))
    return {name: [scores[name] for scores in per_image] for name in outputs}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate_ratio(
    rates: dict[str, list[float]],
    missing: dict[str, str],
    candidate: str,
    reference: str,
    metric: str,
    goal: Goal | None = None,
    per_cpu: bool = False,
) -> Verdict:
    label = f"{candidate} / {reference} {metric}"
    if candidate in missing or reference in missing:
        return Verdict(label, None, goal=goal, note=missing.get(candidate) or missing[reference])
    series = " cpu" if per_cpu else ""
    ratios = paired_ratios(rates[candidate + series], rates[reference + series])
    return Verdict(label, median(ratios), goal=goal, samples=ratios)


def _plain_ratio(
    values: dict[str, float | None],
    missing: dict[str, str],
    candidate: str,
    reference: str,
    metric: str,
    goal: Goal | None = None,
) -> Verdict:
    label = f"{candidate} / {reference} {metric}"
    if candidate in missing or reference in missing:
        return Verdict(label, None, goal=goal, note=missing.get(candidate) or missing[reference])
    top, bottom = values.get(candidate), values.get(reference)
    if top is None or not bottom or math.isnan(top) or math.isnan(bottom):
        return Verdict(label, None, goal=goal, note="no value: an output differed in size from its input")
    return Verdict(label, top / bottom, goal=goal)
