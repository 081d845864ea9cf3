"""JPEG quantisation: mozjpeg's tables for each kind of picture, and how the caller's quality maps onto them.

libjpeg's own tables (JPEG Annex K, what sharp and Pillow use by default) spend bytes on fine detail
that SSIMULACRA2 barely sees. mozjpeg ships eight alternatives; its set 2 (tuned for MS-SSIM) gave
the most SSIMULACRA2 per byte on the photos measured (docs/performance.md), and works with any
libjpeg: here it is handed to Pillow's libjpeg-turbo, so encoding costs no more than before.
On textures (detail in the middle frequencies everywhere) set 2 loses 5-7 points against libjpeg's
tables at the same quality, and on grainy photos it spends the most bytes to keep the grain; its set 4
(tuned for PSNR-HVS-M) wins on both instead (`content.Content`). Textures are also the one kind written
with mozjpeg's trellis quantisation (`trellis.py`), which libvips offers and Pillow does not.
"""

import math
from dataclasses import dataclass

from imgopt.adapters.imaging.content import PHOTO, Content, Picture

# In natural (row-major) order, at libjpeg's scale 100 (quality 50).
_LUMA = (
    12, 17, 20, 21, 30, 34, 56, 63, 18, 20, 20, 26, 28, 51, 61, 55, 19, 20, 21, 26, 33, 58, 69, 55,
    26, 26, 26, 30, 46, 87, 86, 66, 31, 33, 36, 40, 46, 96, 100, 73, 40, 35, 46, 62, 81, 100, 111, 91,
    46, 66, 76, 86, 102, 121, 120, 101, 68, 90, 90, 96, 113, 102, 105, 103,
)  # fmt: skip
_CHROMA = (
    8, 12, 15, 15, 86, 96, 96, 98, 13, 13, 15, 26, 90, 96, 99, 98, 12, 15, 18, 96, 99, 99, 99, 99,
    17, 16, 90, 96, 99, 99, 99, 99, 96, 96, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)  # fmt: skip

# mozjpeg's set 4 (PSNR-HVS-M), for textures and grain: libvips 8.18 with mozjpeg writes it at Q 50 (quant_table=4).
_DETAIL_LUMA = (
    9, 10, 12, 14, 27, 32, 51, 62, 11, 12, 14, 19, 27, 44, 59, 73, 12, 14, 18, 25, 42, 59, 79, 78,
    17, 18, 25, 42, 61, 92, 87, 92, 23, 28, 42, 75, 79, 112, 112, 99, 40, 42, 59, 84, 88, 124, 132, 111,
    42, 64, 78, 95, 105, 126, 125, 99, 70, 75, 100, 102, 116, 100, 107, 98,
)  # fmt: skip
_DETAIL_CHROMA = (
    9, 10, 17, 19, 62, 89, 91, 97, 12, 13, 18, 29, 84, 91, 88, 98, 14, 19, 29, 93, 95, 95, 98, 97,
    20, 26, 84, 88, 95, 95, 98, 94, 26, 86, 91, 93, 97, 99, 98, 99, 99, 100, 98, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 97, 97, 99, 99, 99, 99, 97, 99,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _TableSet:
    """A luma and a chroma table in natural (row-major) order, at libjpeg's scale 100 (quality 50)."""

    luma: tuple[int, ...]
    chroma: tuple[int, ...]

    def at(self, luma_quality: int, chroma_quality: int) -> list[list[int]]:
        """Both tables scaled as libjpeg scales its own, each quality held to 1-100."""
        return [_scaled(self.luma, luma_quality), _scaled(self.chroma, chroma_quality)]


# mozjpeg's set 2 (MS-SSIM) for photos and pages of text; its set 4 (PSNR-HVS-M) for textures and grain.
_PHOTO_SET = _TableSet(_LUMA, _CHROMA)
_DETAIL_SET = _TableSet(_DETAIL_LUMA, _DETAIL_CHROMA)

# The caller's quality means "looks at least as good as libjpeg's tables at that quality". Measured on
# photos at quality 50 (docs/performance.md): the tuned luma table three steps higher on libjpeg's scale,
# the chroma table three steps lower, reaches sharp's SSIMULACRA2 on every photo with the fewest bytes.
LUMA_OFFSET = 3
CHROMA_OFFSET = -3
# Textures: set 4 four steps lower on libjpeg's scale, both tables, written with mozjpeg's trellis quantisation
# (`trellis.py`): it chooses each coefficient for rate and distortion, not by rounding alone. Fitted at quality 50
# on five textures drawn for it (not the broad bench's), checked on six more: at -4 every one scores at least
# libjpeg's (+0.23 to +3.27, held out +1.30 to +2.99), in 6-17% fewer bytes than set 4 rounded at -8, the
# rounded step that reaches it on all eleven (-10, the step before, missed on 5; docs/performance.md).
TEXTURE_OFFSET = -4
# mozjpeg's number for set 4, as libvips's `quant_table` takes it.
DETAIL_TABLE = 4
# Grainy photos: set 4 at GRAIN_OFFSET + GRAIN_SLOPE x the high band's share, rounded up. Fitted at quality 50 on
# four photos with grain drawn for it (sigma 5, 10, 12, 20; not the broad bench's), the step at which each
# reaches libjpeg's score +0.3: 38.9, 41.6, 42.2, 44.1 against 39.1, 41.5, 42.3, 44.2 by the line.
GRAIN_OFFSET = -12.4
GRAIN_SLOPE = 13.3
# Pages of text: the photo tables two steps lower. On five pages drawn for it (not the broad bench's), the
# photo tables at 50 read 0.8-2.2 above libjpeg's; two steps lower 0.04-0.97 above, for 2% fewer bytes.
TEXT_OFFSET = -2


def quantisation_tables(quality: int, picture: Picture = PHOTO) -> list[list[int]]:
    """Luma and chroma tables for the caller's `quality` (1-100) on `picture`, scaled as libjpeg scales its own."""
    if picture.content is Content.TEXTURE:
        return _DETAIL_SET.at(texture_step(quality), texture_step(quality))
    if picture.content is Content.GRAIN:
        offset = math.ceil(GRAIN_OFFSET + GRAIN_SLOPE * picture.high_share)
        return _DETAIL_SET.at(quality + offset, quality + offset)
    if picture.content is Content.TEXT:
        quality = max(1, quality + TEXT_OFFSET)
    return _PHOTO_SET.at(quality + LUMA_OFFSET, quality + CHROMA_OFFSET)


def texture_step(quality: int) -> int:
    """The step on libjpeg's scale (1-100) a texture's tables are scaled to for the caller's `quality`."""
    return min(100, max(1, quality + TEXTURE_OFFSET))


def libjpeg_scale(quality: int) -> int:
    """jpeg_quality_scaling(): the percentage libjpeg scales its tables by at `quality` (held to 1-100).

    50 keeps the tables (100), lower qualities grow them, higher ones shrink them (0 at 100).
    """
    quality = min(100, max(1, quality))
    return 5000 // quality if quality < 50 else 200 - 2 * quality


def _scaled(table: tuple[int, ...], quality: int) -> list[int]:
    scale = libjpeg_scale(quality)
    return [min(255, max(1, (value * scale + 50) // 100)) for value in table]
