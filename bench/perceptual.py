"""SSIMULACRA2 of every output against its source, the source's half computed once for all subjects."""

import io
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench.result import Goal, Verdict
from imgopt.adapters.imaging.colour import eight_bit, to_srgb
from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2

WORKERS = 2


def rgb(data: bytes, alpha: bool = False) -> np.ndarray:
    """Decoded 8-bit RGB pixels (RGBA with `alpha`), as SSIMULACRA2 takes them."""
    with Image.open(io.BytesIO(data)) as image:
        return pixels_of(image, alpha)


def pixels_of(image: Image.Image, alpha: bool | None = None) -> np.ndarray:
    """Pixels as they look: an embedded colour profile (CMYK, Display P3, grey) applied, as browsers and imgopt do."""
    keep_alpha = image.mode == "RGBA" if alpha is None else alpha
    shown = to_srgb(eight_bit(image), image.info.get("icc_profile"))
    return np.asarray(shown.convert("RGBA" if keep_alpha else "RGB"))


def scores(sources: list[Path], outputs: dict[str, list[bytes]]) -> tuple[dict[str, list[float]], float]:
    """Per subject, each output's score against its source (NaN where the sizes differ); and seconds per score."""

    def one(index: int) -> dict[str, float]:
        reference = Ssimulacra2(rgb(sources[index].read_bytes()))
        found = {}
        for name, produced in outputs.items():
            try:
                found[name] = reference.score(rgb(produced[index]))
            except ValueError:
                found[name] = math.nan
        return found

    start = time.perf_counter()
    # numpy and scipy release the GIL for most of the work, so two threads nearly halve the wait.
    with ThreadPoolExecutor(WORKERS) as pool:
        per_image = list(pool.map(one, range(len(sources))))
    count = len(sources) * max(1, len(outputs))
    per_score = (time.perf_counter() - start) * WORKERS / count
    return {name: [found[name] for found in per_image] for name in outputs}, per_score


def at_least(candidate: list[float], reference: list[float]) -> int:
    """How many images the candidate scores at least as high as the reference on."""
    return sum(1 for mine, theirs in zip(candidate, reference, strict=True) if mine >= theirs)


def no_worse(perceived: dict[str, list[float]], missing: dict[str, str], candidate: str, reference: str) -> Verdict:
    """The share of images on which `candidate` scores at least `reference`'s, and the smallest margin."""
    label = f"images where {candidate}'s SSIMULACRA2 >= {reference}'s (share)"
    if reference in missing:
        return Verdict(label, None, goal=Goal(">=", 1.0), note=missing[reference])
    share = at_least(perceived[candidate], perceived[reference]) / len(perceived[reference])
    margin = min(mine - theirs for mine, theirs in zip(perceived[candidate], perceived[reference], strict=True))
    return Verdict(label, share, goal=Goal(">=", 1.0), note=f"smallest margin {margin:+.2f}")
