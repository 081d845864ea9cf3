"""Auto quality: per image, the lowest quality whose encoding still reaches a SSIMULACRA2 target.

The search runs on a sample of the image, not the whole: its centre, at most `SAMPLE` pixels a side,
cut on the 16-pixel grid from the image's corner. On that grid JPEG's 8x8 blocks, its 2x2 chroma
subsampling and WebP's macroblocks fall exactly where they fall in the whole image, so the sample
is encoded as the whole is, block for block: what it scores is what those blocks score in the whole.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2

SAMPLE = 768
_GRID = 16


@dataclass(frozen=True, slots=True)
class Choice:
    quality: int
    score: float


@dataclass(frozen=True, slots=True)
class QualitySearch:
    """Bisection on the encoder's quality between `lowest` and `highest`: about seven encodings of the sample."""

    target: float = 70.0
    lowest: int = 10
    highest: int = 95

    def __post_init__(self) -> None:
        if not 0 < self.target < 100:
            raise ValueError(
                f"the auto quality target must be a SSIMULACRA2 score between 0 and 100, not {self.target}"
            )

    def __call__(self, sample: np.ndarray, encode: Callable[[int], bytes]) -> Choice:
        """The lowest quality at which `encode` (the sample at that quality) reaches the target; else the highest.

        `sample` is the sample's pixels as `pixels` gives them.
        """
        source = Ssimulacra2(sample)
        low, high = self.lowest, self.highest
        best = Choice(high, source.score(decoded(encode(high), sample.shape[-1])))
        while low < high and best.score >= self.target:
            middle = (low + high) // 2
            score = source.score(decoded(encode(middle), sample.shape[-1]))
            if score >= self.target:
                best, high = Choice(middle, score), middle
            else:
                low = middle + 1
        return best


def sample_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the sample: the centre, cut on the 16-pixel grid."""
    left, top = _start(width), _start(height)
    return left, top, min(width, left + SAMPLE), min(height, top + SAMPLE)


def pixels(image: Image.Image) -> np.ndarray:
    """8-bit RGB, or RGBA when `image` has alpha, as SSIMULACRA2 takes them."""
    translucent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if translucent else "RGB"))


def decoded(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA" if channels == 4 else "RGB"))


def _start(length: int) -> int:
    return max(0, (length - SAMPLE) // 2) // _GRID * _GRID
