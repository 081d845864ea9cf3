"""JPEG quantisation: mozjpeg's tables tuned for MS-SSIM, and how the caller's quality maps onto them.

libjpeg's own tables (JPEG Annex K, what sharp and Pillow use by default) spend bytes on fine detail
that SSIMULACRA2 barely sees. mozjpeg ships eight alternatives; its set 2 (tuned for MS-SSIM) gave
the most SSIMULACRA2 per byte on the photos measured (docs/performance.md), and works with any
libjpeg: here it is handed to Pillow's libjpeg-turbo, so encoding costs no more than before.
"""

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

# The caller's quality means "looks at least as good as libjpeg's tables at that quality". Measured on
# photos at quality 50 (docs/performance.md): the tuned luma table three steps higher on libjpeg's scale,
# the chroma table three steps lower, reaches sharp's SSIMULACRA2 on every photo with the fewest bytes.
LUMA_OFFSET = 3
CHROMA_OFFSET = -3


def quantisation_tables(quality: int) -> list[list[int]]:
    """Luma and chroma tables for the caller's `quality` (1-100), scaled as libjpeg scales its own."""
    luma, chroma = min(100, quality + LUMA_OFFSET), max(1, quality + CHROMA_OFFSET)
    return [_scaled(_LUMA, luma), _scaled(_CHROMA, chroma)]


def _scaled(table: tuple[int, ...], quality: int) -> list[int]:
    # jpeg_quality_scaling(): 50 keeps the tables, lower qualities grow them, higher ones shrink them.
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (value * scale + 50) // 100)) for value in table]
