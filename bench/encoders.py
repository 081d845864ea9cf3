"""Bytes against SSIMULACRA2 for each encoder on distinct photos and product shots, drawn as curves in a PNG."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from bench import codecs, images, perceptual, shots
from bench.result import Measure, Result, Verdict
from bench.workspace import RESULTS, corpus_dir
from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2

JPEG_QUALITIES = (30, 40, 50, 60, 70, 80, 90)
PNG_QUALITIES = (40, 60, 80, 95)
REFERENCE = "libjpeg-turbo"
PLOT = RESULTS / "encoders.png"


def encoders(quick: bool) -> Result:
    photos, graphics = _inputs(quick)
    qualities = (40, 70) if quick else JPEG_QUALITIES
    jpeg = _curves(photos + graphics, codecs.JPEG, qualities)
    png = _curves(graphics, codecs.PNG, PNG_QUALITIES[1::2] if quick else PNG_QUALITIES)
    _plot(jpeg, png, PLOT)
    result = Result(
        "encoders",
        "Bytes against SSIMULACRA2, per encoder (the curves: bench/results/encoders.png)",
        method=(
            f"{len(photos)} photos (corpus photo variants at half size, flowers.jpeg, photo.webp) and "
            f"{len(graphics)} product shots (bench/shots.py) as JPEG at qualities {', '.join(map(str, qualities))}; "
            "the shots also as PNG. Per encoder and quality: bits per pixel over all images and the mean "
            "SSIMULACRA2 of each output against its source. Bytes at equal look: each curve read (linearly "
            f"between its points) at the score {REFERENCE} reaches at quality 50, over {REFERENCE}'s bytes there. "
            "Encode time: one thread, per megapixel. " + codecs.DESCRIPTION
        ),
    )
    anchor = _score_at(jpeg[REFERENCE], 50)
    for name, points in jpeg.items():
        result.measures += [
            Measure(name, "bits/pixel at the anchor", bits_per_pixel_at(points, anchor)),
            Measure(name, "encode ms/MP", float(np.median([point.milliseconds_per_mp for point in points]))),
        ]
        if name != REFERENCE:
            ratio = bits_per_pixel_at(points, anchor) / bits_per_pixel_at(jpeg[REFERENCE], anchor)
            result.verdicts.append(Verdict(f"{name} / {REFERENCE} bytes at SSIMULACRA2 {anchor:.1f}", ratio))
    for name, points in png.items():
        best = points[-1]
        result.measures += [
            Measure(name, "bits/pixel at the top quality", best.bits_per_pixel),
            Measure(name, "SSIMULACRA2 there", best.score),
            Measure(name, "encode ms/MP", float(np.median([point.milliseconds_per_mp for point in points]))),
        ]
    result.details = {
        "plot": str(PLOT),
        "curves": {name: [asdict(point) for point in points] for name, points in {**jpeg, **png}.items()},
    }
    return result


@dataclass
class Point:
    quality: int
    bits_per_pixel: float
    score: float
    milliseconds_per_mp: float


def _inputs(quick: bool) -> tuple[list[Image.Image], list[Image.Image]]:
    corpus = corpus_dir()
    if quick:
        label = Image.open(shots.product_shots()[1]).convert("RGB").crop((400, 400, 1200, 1200))
        return [Image.open(corpus / "photo.webp").convert("RGB")], [label]
    halves = [Image.open(path).convert("RGB").reduce(2) for path in images.photo_variants(2)]
    photos = halves + [Image.open(corpus / name).convert("RGB") for name in ("flowers.jpeg", "photo.webp")]
    return photos, [Image.open(path).convert("RGB") for path in shots.product_shots()]


def _curves(
    sources: list[Image.Image], encoders: dict[str, Callable[[Image.Image, int], bytes]], qualities: tuple[int, ...]
) -> dict[str, list[Point]]:
    pixels = sum(image.width * image.height for image in sources)

    def one(source: Image.Image) -> dict[tuple[str, int], tuple[int, float, float]]:
        reference = Ssimulacra2(perceptual.pixels_of(source))
        found = {}
        for name, encode in encoders.items():
            for quality in qualities:
                start = time.perf_counter()
                data = encode(source.copy(), quality)
                seconds = time.perf_counter() - start
                score = reference.score(perceptual.rgb(data, source.mode == "RGBA"))
                found[name, quality] = (len(data), score, seconds)
        return found

    with ThreadPoolExecutor(perceptual.WORKERS) as pool:
        per_image = list(pool.map(one, sources))
    curves = {}
    for name in encoders:
        curves[name] = [
            Point(
                quality,
                8 * sum(found[name, quality][0] for found in per_image) / pixels,
                float(np.mean([found[name, quality][1] for found in per_image])),
                1000 * sum(found[name, quality][2] for found in per_image) / (pixels / 1e6),
            )
            for quality in qualities
        ]
    return curves


def _score_at(points: list[Point], quality: int) -> float:
    return float(np.interp(quality, [p.quality for p in points], [p.score for p in points]))


def bits_per_pixel_at(points: list[Point], score: float) -> float:
    ordered = sorted(points, key=lambda point: point.score)
    return float(np.interp(score, [p.score for p in ordered], [p.bits_per_pixel for p in ordered]))


def _plot(jpeg: dict[str, list[Point]], png: dict[str, list[Point]], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 2, figsize=(13, 5.5))
    for axis, curves, title in ((axes[0], jpeg, "JPEG encoders"), (axes[1], png, "PNG: palette vs lossless")):
        for name, points in curves.items():
            axis.plot([p.bits_per_pixel for p in points], [p.score for p in points], marker="o", label=name)
            for point in points:
                axis.annotate(str(point.quality), (point.bits_per_pixel, point.score), fontsize=7, alpha=0.6)
        axis.set(title=title, xlabel="bits per pixel (all images)", ylabel="mean SSIMULACRA2")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
