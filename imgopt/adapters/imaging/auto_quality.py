"""Auto quality: per image, the lowest quality whose encoding still reaches a SSIMULACRA2 target.

The search runs on a sample of the image, not the whole: a 3x3 mosaic of 256-pixel tiles spread
evenly over it, each cut on the 16-pixel grid from the image's corner and placed on that grid. There
JPEG's 8x8 blocks, its 2x2 chroma subsampling and WebP's macroblocks fall as they fall in the whole
image, so each tile is encoded as it is in the whole, block for block; the tiles cover the whole
picture, not just its centre. Still, a sample is not faithful for every picture: JPEG's banding on a
wide smooth backdrop shows at SSIMULACRA2's coarse scales, which a 768-pixel mosaic barely has (a
product shot scored 75 as a mosaic and 58 whole). So the whole image has the last word: encoded at
the sample's quality and scored, then `STEP` higher until it reaches the target.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2

TILE = 256
TILES = 3
STEP = 4
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

    def __call__(self, image: Image.Image, encode: Callable[[Image.Image, int], bytes]) -> tuple[Choice, bytes]:
        """The quality chosen for `image`, the score its encoding reached, and that encoding."""
        mosaic = sample(image)
        quality = self._bisection(mosaic, encode).quality
        whole = Ssimulacra2(pixels(image))
        while True:
            data = encode(image, quality)
            score = whole.score(decoded(data, whole.channels))
            if score >= self.target or quality >= self.highest:
                return Choice(quality, score), data
            quality = min(self.highest, quality + STEP)

    def _bisection(self, image: Image.Image, encode: Callable[[Image.Image, int], bytes]) -> Choice:
        """The lowest quality reaching the target on `image`, assuming scores rise with quality; else the highest."""
        source = Ssimulacra2(pixels(image))
        low, high = self.lowest, self.highest
        best = Choice(high, source.score(decoded(encode(image, high), source.channels)))
        while low < high and best.score >= self.target:
            middle = (low + high) // 2
            score = source.score(decoded(encode(image, middle), source.channels))
            if score >= self.target:
                best, high = Choice(middle, score), middle
            else:
                low = middle + 1
        return best


def sample(image: Image.Image) -> Image.Image:
    """The mosaic the search encodes: at most 768 pixels a side, the image itself when it is that small."""
    columns, rows = _spans(image.width), _spans(image.height)
    if len(columns) == len(rows) == 1:
        return image
    mosaic = Image.new(image.mode, (sum(size for _, size in columns), sum(size for _, size in rows)))
    top = 0
    for y, height in rows:
        left = 0
        for x, width in columns:
            mosaic.paste(image.crop((x, y, x + width, y + height)), (left, top))
            left += width
        top += height
    return mosaic


def _spans(length: int) -> list[tuple[int, int]]:
    """(start, size) of the tiles along one side: evenly spread, starting on the grid."""
    if length <= TILE * TILES:
        return [(0, length)]
    step = (length - TILE) / (TILES - 1)
    return [(int(index * step) // _GRID * _GRID, TILE) for index in range(TILES)]


def pixels(image: Image.Image) -> np.ndarray:
    """8-bit RGB, or RGBA when `image` has alpha, as SSIMULACRA2 takes them."""
    translucent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if translucent else "RGB"))


def decoded(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA" if channels == 4 else "RGB"))
