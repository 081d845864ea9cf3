"""What kind of picture an image is, read cheaply from a sample of its 8x8 luma blocks: photo, texture, grain, text.

JPEG quantises each 8x8 block's frequencies, so the statistics that tell which quantisation tables
suit a picture are those of its blocks, in the DCT. A few hundred blocks say it: up to 36 tiles of
32x32 pixels spread over the image on the 8-pixel grid (at most 576 blocks, under 1% of a
6-megapixel photo): about 0.6 ms of CPU on the corpus photo, some 2% of its whole job.

A **texture** keeps its detail in the middle frequencies everywhere (fabric, stone, foliage, weaves):
at least `MID_SHARE` of the sampled blocks' AC energy lies in the middle band (u + v from 2 to 5) —
0.86-0.89 on the textures of the training set (docs/performance.md), 0.27-0.53 on photos, 0.57-0.71 on text
— and no more than `FLAT_SHARE` of the blocks are flat (luma deviating by less than `FLAT_DEVIATION`):
text and product shots on white are mostly flat blocks, with their detail at the edges.

A **grainy** photo (high ISO, film grain) has as few flat blocks, at least `HIGH_SHARE` of its AC energy in
the highest band (u + v of 6 or more: 0.29-0.50 on the grainy photos fitted on, 0.01-0.09 on clean ones) and
blocks that vary strongly (median AC energy at least `GRAIN_ENERGY`, a deviation of 4 levels): a dark
night scene's faint grain has a high share of little energy, and the photo tables suit it.

A page of **text** is mostly flat (at least `TEXT_FLAT_SHARE` of the blocks) and its glyphs' edges put
little of the energy in the lowest band (u + v = 1: at most `TEXT_LOW_SHARE`; 0.13-0.19 on the pages
measured, 0.28-0.82 on product shots on white and smooth photos) and much in the highest (at least
`TEXT_HIGH_SHARE`; 0.16-0.20 on pages, 0.05-0.08 on product shots).

Everything else is a **photo**: the tables tuned on photos serve it, product shots on white included.
"""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image

TILE = 32
# Tiles per side of the sampling grid (fewer when the image is small), so at most this squared.
GRID = 6
FLAT_SHARE = 0.1
# A block is flat when its luma's standard deviation is below this (in 8-bit levels).
FLAT_DEVIATION = 1.0
MID_SHARE = 0.75
HIGH_SHARE = 0.2
GRAIN_ENERGY = 1000.0
TEXT_FLAT_SHARE = 0.5
TEXT_LOW_SHARE = 0.25
TEXT_HIGH_SHARE = 0.15
_BLOCK = 8


class Content(StrEnum):
    PHOTO = "photo"
    TEXTURE = "texture"
    GRAIN = "grain"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Picture:
    """The kind, and the share of the sampled AC energy in the highest band (how grainy a grainy photo is)."""

    content: Content
    high_share: float = 0.0


PHOTO = Picture(Content.PHOTO)


def _dct_matrix() -> np.ndarray:
    index = np.arange(_BLOCK)
    matrix = np.cos(np.pi * (2 * index[None, :] + 1) * index[:, None] / (2 * _BLOCK)) * np.sqrt(2 / _BLOCK)
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix()
_FREQUENCY = np.add.outer(np.arange(_BLOCK), np.arange(_BLOCK))
_MIDDLE = (_FREQUENCY >= 2) & (_FREQUENCY <= 5)
_HIGH = _FREQUENCY >= 6
_LOW = _FREQUENCY == 1


def classify(image: Image.Image) -> Picture:
    """`image`'s kind, from the luma of a sample of its blocks (any mode Pillow converts to L)."""
    blocks = sampled_blocks(image)
    if blocks.size == 0:
        return PHOTO
    energy = (_DCT @ (blocks - blocks.mean(axis=(1, 2), keepdims=True)) @ _DCT.T) ** 2
    ac = energy.sum(axis=(1, 2))  # the mean removed, so this is the AC energy: 64 x the block's variance
    total = float(ac.sum())
    if total == 0:
        return PHOTO
    flat = float(np.mean(ac < FLAT_DEVIATION**2 * _BLOCK * _BLOCK))
    high = float(energy[:, _HIGH].sum()) / total
    if flat >= TEXT_FLAT_SHARE:
        low = float(energy[:, _LOW].sum()) / total
        return Picture(Content.TEXT, high) if low <= TEXT_LOW_SHARE and high >= TEXT_HIGH_SHARE else PHOTO
    if flat > FLAT_SHARE:
        return PHOTO
    if float(energy[:, _MIDDLE].sum()) / total >= MID_SHARE:
        return Picture(Content.TEXTURE)
    if high >= HIGH_SHARE and float(np.median(ac)) >= GRAIN_ENERGY:
        return Picture(Content.GRAIN, high)
    return PHOTO


def sampled_blocks(image: Image.Image) -> np.ndarray:
    """(n, 8, 8) float luma blocks from tiles spread evenly over `image`, each on the 8-pixel grid."""
    tops, lefts = _starts(image.height), _starts(image.width)
    if not tops or not lefts:
        return np.empty((0, _BLOCK, _BLOCK), dtype=np.float32)
    if image.mode in ("P", "PA"):  # a palette's indices are no luma: its colours are
        image = image.convert("RGBA")
    # The tiles pasted side by side and converted at once: one conversion and one array instead of one a tile.
    mosaic = Image.new(image.mode, (TILE * len(lefts), TILE * len(tops)))
    for row, top in enumerate(tops):
        for column, left in enumerate(lefts):
            mosaic.paste(image.crop((left, top, left + TILE, top + TILE)), (column * TILE, row * TILE))
    luma = np.asarray(mosaic.convert("L"), dtype=np.float32)
    rows, columns = luma.shape[0] // _BLOCK, luma.shape[1] // _BLOCK
    return luma.reshape(rows, _BLOCK, columns, _BLOCK).transpose(0, 2, 1, 3).reshape(-1, _BLOCK, _BLOCK)


def _starts(length: int) -> list[int]:
    """Where the tiles begin along one side: up to GRID of them, evenly spread, on the block grid."""
    count = min(GRID, length // TILE)
    if count == 0:
        return []
    step = (length - TILE) / max(1, count - 1)
    return [int(index * step) // _BLOCK * _BLOCK for index in range(count)]
