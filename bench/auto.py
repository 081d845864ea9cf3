"""quality=auto against sharp at quality 80: bytes, and every image's SSIMULACRA2 against the target."""

from bench import images, perceptual, shots
from bench.race import CPU_NOTE, LAYOUT, plain_ratio, race
from bench.result import Goal, Measure, Result, Verdict
from bench.stats import median
from bench.subjects import DEFAULT_ADAPTER, imgopt_optimizer
from bench.workspace import corpus_dir
from imgopt.bootstrap.settings import Settings
from imgopt.domain.options import OptimizationOptions, OutputFormat

OPTIONS = OptimizationOptions(format=OutputFormat.JPEG, auto_quality=True)


def auto_quality(quick: bool) -> Result:
    # --quick: one small corpus photo, as the search and the scoring cost about a second a megapixel.
    photos = [corpus_dir() / "small-320x240.jpg"] if quick else images.photo_variants(10)
    files = photos + ([] if quick else shots.product_shots())
    target = Settings.from_env().auto_quality_target
    timed = race({"imgopt": lambda: imgopt_optimizer(OPTIONS)}, "q80", files, 1, sharp_cache=True)
    perceived, per_score = perceptual.scores(files, timed.outputs)
    total = timed.total_bytes()
    result = Result(
        "auto-quality",
        f"quality=auto (SSIMULACRA2 target {target:g}) against sharp's quality 80",
        method=(
            f"{len(photos)} photos ({images.SOURCE} variants; --quick: small-320x240.jpg) and "
            "product shots drawn by bench/shots.py (white background, a label with text, a gradient sweep), all "
            f"written as JPEG; imgopt = the {DEFAULT_ADAPTER} adapter with OptimizationOptions(format=jpeg, "
            "auto_quality=True), the target from IMGOPT_AUTO_QUALITY_TARGET; sharp = "
            "sharp(buf).jpeg({quality: 80}). Each output scored with SSIMULACRA2 against its source, whole at "
            "full size, here: the search scores a sample, and the whole only for images with wide smooth areas "
            f"(the product shots), so this is the check the product no longer makes on photos. {LAYOUT} One round. "
            f"{CPU_NOTE}"
        ),
    )
    for subject in timed.outputs:
        scores = perceived[subject]
        result.measures += [
            Measure(subject, "output MB", total[subject] / 1e6, "MB"),
            Measure(subject, "min SSIMULACRA2", min(scores)),
            Measure(subject, "mean SSIMULACRA2", sum(scores) / len(scores)),
            Measure(subject, "images/s", median(timed.rates[subject]), "img/s", timed.rates[subject]),
        ]
    reached = sum(1 for score in perceived["imgopt"] if score >= target) / len(files)
    result.verdicts += [
        plain_ratio(total, timed.missing, "imgopt", "sharp", "output bytes", Goal("<=", 0.8)),
        Verdict(f"images at or above the target {target:g} at full size (share)", reached, goal=Goal(">=", 1.0)),
        timed.ratio("imgopt", "sharp", "images/s", Goal(">=", 0.25)),
        timed.ratio("imgopt", "sharp", "images per CPU-second", per_cpu=True),
    ]
    result.details = {
        "files": [file.name for file in files],
        "ssimulacra2": perceived,
        "output_bytes": total,
        "ssimulacra2_cpu_seconds_per_output": per_score,
    }
    return result
