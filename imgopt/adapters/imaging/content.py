"""What kind of picture an image is, read cheaply from a sample of its 8x8 luma blocks: a photo or a texture.

JPEG quantises each 8x8 block's frequencies, so the statistics that tell which quantisation tables
suit a picture are those of its blocks, in the DCT. A few hundred blocks say it: up to 36 tiles of
32x32 pixels spread over the image on the 8-pixel grid (at most 576 blocks, under 1% of a
6-megapixel photo), so reading them costs well under a millisecond against some 30 of encoding.

A **texture** keeps its detail in the middle frequencies everywhere (fabric, stone, foliage, weaves):
at least `MID_SHARE` of the sampled blocks' AC energy lies in the middle band (u + v from 2 to 5) —
0.86-0.89 on the textures measured, 0.27-0.53 on photos, 0.57-0.71 on pages of text (docs/performance.md)
— and no more than `FLAT_SHARE` of the blocks are flat (luma deviating by less than `FLAT_DEVIATION`):
text and product shots on white are mostly flat blocks, with their detail at the edges. Everything
else is a **photo**: the tables tuned on photos serve text and product shots as well as any measured.
"""

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
_BLOCK = 8


class Content(StrEnum):
    PHOTO = "photo"
    TEXTURE = "texture"


def _dct_matrix() -> np.ndarray:
    index = np.arange(_BLOCK)
    matrix = np.cos(np.pi * (2 * index[None, :] + 1) * index[:, None] / (2 * _BLOCK)) * np.sqrt(2 / _BLOCK)
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix()
_FREQUENCY = np.add.outer(np.arange(_BLOCK), np.arange(_BLOCK))
_MIDDLE = (_FREQUENCY >= 2) & (_FREQUENCY <= 5)


def classify(image: Image.Image) -> Content:
    """`image`'s kind, from the luma of a sample of its blocks (any mode Pillow converts to L)."""
    blocks = sampled_blocks(image)
    if blocks.size == 0:
        return Content.PHOTO
    energy = (_DCT @ (blocks - blocks.mean(axis=(1, 2), keepdims=True)) @ _DCT.T) ** 2
    ac = energy.sum(axis=(1, 2))  # the mean removed, so this is the AC energy: 64 x the block's variance
    flat = float(np.mean(ac < FLAT_DEVIATION**2 * _BLOCK * _BLOCK))
    total = float(ac.sum())
    if flat <= FLAT_SHARE and total > 0 and float(energy[:, _MIDDLE].sum()) / total >= MID_SHARE:
        return Content.TEXTURE
    return Content.PHOTO


def sampled_blocks(image: Image.Image) -> np.ndarray:
    """(n, 8, 8) float luma blocks from tiles spread evenly over `image`, each on the 8-pixel grid."""
    tiles = []
    for top in _starts(image.height):
        for left in _starts(image.width):
            tile = image.crop((left, top, left + TILE, top + TILE)).convert("L")
            tiles.append(np.asarray(tile, dtype=np.float32))
    if not tiles:
        return np.empty((0, _BLOCK, _BLOCK), dtype=np.float32)
    stacked = np.stack(tiles)
    per_side = TILE // _BLOCK
    blocks = stacked.reshape(len(tiles), per_side, _BLOCK, per_side, _BLOCK).transpose(0, 1, 3, 2, 4)
    return blocks.reshape(-1, _BLOCK, _BLOCK)


def _starts(length: int) -> list[int]:
    """Where the tiles begin along one side: up to GRID of them, evenly spread, on the block grid."""
    count = min(GRID, length // TILE)
    if count == 0:
        return []
    step = (length - TILE) / max(1, count - 1)
    return [int(index * step) // _BLOCK * _BLOCK for index in range(count)]
