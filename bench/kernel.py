"""The optimizer kernel against sharp and bare Pillow: the original system's job, and sharp's published task."""

from bench import images, perceptual, ssim
from bench.race import CPU_NOTE, LAYOUT, WORKERS, Race, plain_ratio, race
from bench.result import Goal, Measure, Result
from bench.stats import median
from bench.subjects import DEFAULT_ADAPTER, imgopt_optimizer, pillow_reencode, pillow_resize
from imgopt.domain.options import OptimizationOptions, OutputFormat

# Scoring a 6-megapixel output costs about a second of CPU: --quick scores this many images only.
QUICK_SCORED = 1


def kernel_original(quick: bool) -> Result:
    files = images.photo_variants(4 if quick else 100)
    rounds = 1 if quick else 7
    factories = {"imgopt": lambda: imgopt_optimizer(OptimizationOptions()), "pillow": lambda: pillow_reencode(50)}
    timed = race(factories, "original", files, rounds, sharp_cache=True)
    scores = ssim.scores(files, timed.outputs)
    mean_ssim = {name: sum(values) / len(values) for name, values in scores.items()}
    scored = files[:QUICK_SCORED] if quick else files
    # Bare Pillow's outputs are sharp's bytes plus a JFIF header: scoring them again would say nothing new.
    judged = {name: out[: len(scored)] for name, out in timed.outputs.items() if name != "pillow"}
    perceived, per_score = perceptual.scores(scored, judged)
    mean_perceived = {name: sum(values) / len(values) for name, values in perceived.items()}
    total = timed.total_bytes()
    result = Result(
        "kernel-original",
        "The original's job: re-encode at quality 50, same size",
        method=(
            f"{len(files)} distinct {images.SOURCE}-sized JPEGs (variants of the corpus photo, quality "
            f"{images.RECIPE['quality']}); imgopt = the {DEFAULT_ADAPTER} adapter's optimize(data, "
            "OptimizationOptions()); sharp = "
            "sharp(buf).jpeg({quality: 50}).toBuffer() (default settings, as the original ran it); pillow = "
            "Image.open(...).save(buf, 'JPEG', quality=50). "
            f"{LAYOUT} {rounds} interleaved rounds, rotating the order; medians; ratios paired per round. "
            f"{CPU_NOTE} Bytes = total output size; SSIM = mean over images of luma SSIM (11x11 Gaussian, sigma 1.5) "
            "of each output against its input; SSIMULACRA2 likewise (imgopt.adapters.imaging.ssimulacra2), "
            f"{len(scored)} images, and per image: imgopt's score at least sharp's."
        ),
        measures=_measures(timed, "images/s", "img", mean_ssim, mean_perceived),
    )
    result.verdicts += [
        timed.ratio("imgopt", "sharp", "images/s", Goal(">=", 1.0)),
        timed.ratio("imgopt", "sharp", "images per CPU-second", per_cpu=True),
        plain_ratio(total, timed.missing, "imgopt", "sharp", "output bytes", Goal("<=", 0.85)),
        perceptual.no_worse(perceived, timed.missing, "imgopt", "sharp"),
        plain_ratio(mean_perceived, timed.missing, "imgopt", "sharp", "mean SSIMULACRA2"),
        plain_ratio(mean_ssim, timed.missing, "imgopt", "sharp", "mean SSIM"),
        timed.ratio("pillow", "sharp", "images/s"),
        timed.ratio("pillow", "sharp", "images per CPU-second", per_cpu=True),
        plain_ratio(total, timed.missing, "pillow", "sharp", "output bytes"),
        plain_ratio(mean_ssim, timed.missing, "pillow", "sharp", "mean SSIM"),
        timed.ratio("imgopt", "pillow", "images/s"),
    ]
    result.details = {
        "images": len(files),
        "rounds": rounds,
        "workers": WORKERS,
        "output_bytes": total,
        "ssim": scores,
        "ssimulacra2": perceived,
        "ssimulacra2_cpu_seconds_per_output": per_score,
    }
    result.notes.append(f"SSIMULACRA2: {per_score:.2f} CPU-seconds per output scored ({len(scored)} sources)")
    return result


def kernel_sharp_task(quick: bool) -> Result:
    count = 4 if quick else 100
    files = [images.source_photo()] * count
    rounds = 1 if quick else 9
    size = (720, 588)
    options = OptimizationOptions(quality=80, max_width=size[0], max_height=size[1], format=OutputFormat.JPEG)
    factories = {
        "imgopt": lambda: imgopt_optimizer(options),
        "imgopt-pillow": lambda: imgopt_optimizer(options, "pillow"),
        "pillow": lambda: pillow_resize(size, 80),
    }
    timed = race(factories, "resize", files, rounds, sharp_cache=False)
    result = Result(
        "kernel-sharp-task",
        "sharp's published task: 2725x2225 JPEG -> 720x588 Lanczos-3, JPEG quality 80",
        method=(
            f"{images.SOURCE} {count} times (as sharp's own benchmark, with sharp.cache(false)); imgopt = the "
            f"{DEFAULT_ADAPTER} adapter's optimize with maxWidth=720, maxHeight=588, quality=80, format=jpeg "
            "(imgopt-pillow: the Pillow adapter); sharp = "
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
        timed.ratio("imgopt-pillow", "sharp", "ops/s"),
        timed.ratio("imgopt", "pillow", "ops/s"),
    ]
    result.details = {"images": count, "rounds": rounds, "workers": WORKERS, "output_bytes": timed.total_bytes()}
    return result


def _measures(
    timed: Race, metric: str, unit: str, mean_ssim: dict[str, float] | None = None, perceived: dict | None = None
) -> list[Measure]:
    measures = []
    for subject in [*timed.rates, *timed.missing]:
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
        if perceived is not None and subject in perceived:
            measures.append(Measure(subject, "mean SSIMULACRA2", perceived[subject]))
    return measures
