"""The default job and quality=auto on the broad generated set, by category: bytes and SSIMULACRA2 against sharp."""

import math

from bench import perceptual, varied
from bench.race import CPU_NOTE, LAYOUT, plain_ratio, race
from bench.result import Goal, Measure, Result, Verdict
from bench.subjects import DEFAULT_ADAPTER, imgopt_optimizer
from imgopt.bootstrap.settings import Settings
from imgopt.domain.options import OptimizationOptions, OutputFormat

AUTO = OptimizationOptions(format=OutputFormat.JPEG, auto_quality=True)


def broad(quick: bool) -> Result:
    labelled = varied.varied_images(quick)
    categories = [category for category, _ in labelled]
    files = [path for _, path in labelled]
    target = Settings.from_env().auto_quality_target
    default = race({"default": lambda: imgopt_optimizer(OptimizationOptions())}, "original", files, 1, True)
    auto = race({"auto": lambda: imgopt_optimizer(AUTO)}, "q80", files, 1, sharp_cache=True)
    outputs = {"default": default.outputs["default"], "auto": auto.outputs["auto"]}
    for name, timed in (("sharp q50", default), ("sharp q80", auto)):
        if "sharp" in timed.outputs:
            outputs[name] = timed.outputs["sharp"]
    missing = {name: timed.missing.get("sharp", "") for name, timed in (("sharp q50", default), ("sharp q80", auto))}
    missing = {name: why for name, why in missing.items() if name not in outputs}
    perceived, per_score = perceptual.scores(files, outputs)
    result = Result(
        "broad",
        "The default job and quality=auto on generated images of many kinds, by category",
        method=(
            f"{len(files)} JPEGs drawn by bench/varied.py from fixed seeds (and the corpus photo): "
            + ", ".join(dict.fromkeys(categories))
            + f". default = the {DEFAULT_ADAPTER} adapter's optimize(data, OptimizationOptions()) against "
            "sharp(buf).jpeg({quality: 50}); auto = OptimizationOptions(format=jpeg, auto_quality=True), target "
            f"{target:g} (IMGOPT_AUTO_QUALITY_TARGET), against sharp(buf).jpeg({{quality: 80}}). Every output "
            "scored with SSIMULACRA2 against its source, whole, at full size. "
            f"{LAYOUT} One round each: speeds are for reference. {CPU_NOTE}"
        ),
    )
    for category in [*dict.fromkeys(categories), "all"]:
        picked = [index for index, name in enumerate(categories) if category in (name, "all")]
        result.measures += _row(category, picked, outputs, perceived, missing, target)
    result.verdicts += _verdicts(outputs, perceived, missing, target, default, auto)
    result.details = {
        "files": [path.name for path in files],
        "categories": categories,
        "output_bytes": {name: [len(data) for data in produced] for name, produced in outputs.items()},
        "ssimulacra2": perceived,
        "ssimulacra2_cpu_seconds_per_output": per_score,
    }
    result.notes.append(f"SSIMULACRA2: {per_score:.2f} CPU-seconds per output scored ({len(files)} sources)")
    return result


def _row(category, picked, outputs, perceived, missing, target) -> list[Measure]:
    def total(name: str) -> int:
        return sum(len(outputs[name][index]) for index in picked)

    def ratio(name: str, reference: str) -> float | None:
        return total(name) / total(reference) if reference not in missing and reference in outputs else None

    def at_least(name: str, reference: str) -> float | None:
        if reference in missing or reference not in outputs:
            return None
        return sum(1 for index in picked if perceived[name][index] >= perceived[reference][index])

    auto_scores = [perceived["auto"][index] for index in picked]
    return [
        Measure(category, "images", len(picked)),
        Measure(category, "default / sharp q50 bytes", ratio("default", "sharp q50"), "x"),
        Measure(category, "default ≥ sharp q50's score", at_least("default", "sharp q50")),
        Measure(category, "auto / sharp q80 bytes", ratio("auto", "sharp q80"), "x"),
        Measure(category, f"auto ≥ {target:g}", sum(1 for score in auto_scores if score >= target)),
        Measure(category, "auto min score", min(auto_scores)),
        Measure(category, "auto ≥ sharp q50's score", at_least("auto", "sharp q50")),
    ]


def _verdicts(outputs, perceived, missing, target, default, auto) -> list[Verdict]:
    total = {name: float(sum(map(len, produced))) for name, produced in outputs.items()}
    count = len(perceived["default"])
    verdicts = [
        plain_ratio(total, missing, "default", "sharp q50", "output bytes", Goal("<=", 0.85)),
        perceptual.no_worse(perceived, missing, "default", "sharp q50"),
        plain_ratio(total, missing, "auto", "sharp q80", "output bytes", Goal("<=", 0.8)),
        Verdict(
            f"auto images at or above the target {target:g}, scored at full size (share)",
            sum(1 for score in perceived["auto"] if not math.isnan(score) and score >= target) / count,
            goal=Goal(">=", 1.0),
        ),
        plain_ratio(total, missing, "auto", "sharp q50", "output bytes"),
        auto.ratio("auto", "sharp", "images/s (q80)", Goal(">=", 0.25)),
        auto.ratio("auto", "sharp", "images per CPU-second (q80)", per_cpu=True),
        default.ratio("default", "sharp", "images/s (q50)"),
    ]
    return verdicts
