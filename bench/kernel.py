"""The optimizer kernel against sharp and bare Pillow: the original system's job, and sharp's published task."""

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import images, ssim
from bench.race import CPU_NOTE, LAYOUT, WORKERS, Race, plain_ratio, race
from bench.result import Goal, Measure, Result
from bench.stats import median
from bench.subjects import imgopt_optimizer, pillow_reencode, pillow_resize
from imgopt.domain.options import OptimizationOptions, OutputFormat

SUBJECTS = ("imgopt", "sharp", "pillow")


def kernel_original(quick: bool) -> Result:
    files = images.photo_variants(4 if quick else 100)
    rounds = 1 if quick else 7
    factories = {"imgopt": lambda: imgopt_optimizer(OptimizationOptions()), "pillow": lambda: pillow_reencode(50)}
    timed = race(factories, "original", files, rounds, sharp_cache=True)
    scores = _ssim_scores(files, timed.outputs)
    mean_ssim = {name: sum(values) / len(values) for name, values in scores.items()}
    total = timed.total_bytes()
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
        measures=_measures(timed, "images/s", "img", mean_ssim),
    )
    result.verdicts += [
        timed.ratio("imgopt", "sharp", "images/s", Goal(">=", 1.0)),
        timed.ratio("imgopt", "sharp", "images per CPU-second", per_cpu=True),
        plain_ratio(total, timed.missing, "imgopt", "sharp", "output bytes", Goal("<=", 1.0)),
        plain_ratio(mean_ssim, timed.missing, "imgopt", "sharp", "mean SSIM", Goal(">=", 1.0)),
        timed.ratio("pillow", "sharp", "images/s"),
        timed.ratio("pillow", "sharp", "images per CPU-second", per_cpu=True),
        plain_ratio(total, timed.missing, "pillow", "sharp", "output bytes"),
        plain_ratio(mean_ssim, timed.missing, "pillow", "sharp", "mean SSIM"),
        timed.ratio("imgopt", "pillow", "images/s"),
    ]
    result.details = {"images": len(files), "rounds": rounds, "workers": WORKERS, "output_bytes": total, "ssim": scores}
    return result


def kernel_sharp_task(quick: bool) -> Result:
    count = 4 if quick else 100
    files = [images.source_photo()] * count
    rounds = 1 if quick else 5
    size = (720, 588)
    options = OptimizationOptions(quality=80, max_width=size[0], max_height=size[1], format=OutputFormat.JPEG)
    factories = {"imgopt": lambda: imgopt_optimizer(options), "pillow": lambda: pillow_resize(size, 80)}
    timed = race(factories, "resize", files, rounds, sharp_cache=False)
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
        measures=_measures(timed, "ops/s", "ops"),
    )
    result.verdicts += [
        timed.ratio("imgopt", "sharp", "ops/s", Goal(">=", 1.0)),
        timed.ratio("imgopt", "sharp", "ops per CPU-second", per_cpu=True),
        timed.ratio("pillow", "sharp", "ops/s"),
        timed.ratio("pillow", "sharp", "ops per CPU-second", per_cpu=True),
        timed.ratio("imgopt", "pillow", "ops/s"),
    ]
    result.details = {"images": count, "rounds": rounds, "workers": WORKERS, "output_bytes": timed.total_bytes()}
    return result


def _measures(timed: Race, metric: str, unit: str, mean_ssim: dict[str, float] | None = None) -> list[Measure]:
    measures = []
    for subject in SUBJECTS:
        if subject in timed.missing:
            measures.append(Measure(subject, metric, None, note=timed.missing[subject]))
            continue
        rates, cpu_rates = timed.rates[subject], timed.cpu_rates[subject]
        measures += [
            Measure(subject, metric, median(rates), f"{unit}/s", rates),
            Measure(subject, "per CPU-s", median(cpu_rates), f"{unit}/CPU-s", cpu_rates),
            Measure(subject, "output MB", sum(map(len, timed.outputs[subject])) / 1e6, "MB"),
        ]
        if mean_ssim is not None:
            measures.append(Measure(subject, "mean SSIM", mean_ssim[subject]))
    return measures


def _ssim_scores(files: list[Path], outputs: dict[str, list[bytes]]) -> dict[str, list[float]]:
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
