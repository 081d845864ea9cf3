"""A JPEG source quantised once already: how coarsely, and how much finer its second quantisation is made.

Re-encoding a JPEG quantises its pixels a second time. When the source's steps were already more than
half the output's, the two roundings compound: on photos saved at libjpeg quality 60-75 and written at
the default 50, the tuned tables (whose shape differs from the source's) fell up to 3.6 points under
sharp's SSIMULACRA2, which requantises in the source's own shape (docs/performance.md). So when the
source's luma steps are from `FINEST` to `COARSEST` of the output's, every step is made `REFINED` as large:
fitted at quality 50 on five photos saved at qualities 45-85 (not the broad bench's), four quality steps
finer (steps 0.92 as large; three left one short) brought all 25 saved at 60-75 to sharp's score or above
(+2.1 to +13.5), for 1-11% more bytes on them; two crops of the corpus photo, ten more, reached it on 9
(one at 65 stayed 1.1 under). Sources above 75 need nothing (+1.1 to +6.8 as they are, at 77-85), and
those below 60 were not brought there by any step tried.
"""

from collections.abc import Mapping, Sequence

from imgopt.adapters.imaging.jpeg_tables import libjpeg_scale

# JPEG Annex K's luma table (libjpeg's, at quality 50), in natural order: a source's steps are read against it.
_ANNEX_K_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
FINEST = 0.5
COARSEST = 0.8
REFINED = 0.92


def source_quality(tables: Mapping[int, Sequence[int]]) -> int | None:
    """The libjpeg quality whose luma table is as coarse as the source's (on the sum of its steps), None without one.

    Tables of other encoders (cameras, Photoshop, mozjpeg) are placed on the same scale by their coarseness.
    """
    luma = tables.get(0)
    if luma is None or len(luma) != len(_ANNEX_K_LUMA):
        return None
    return _quality(sum(luma) / sum(_ANNEX_K_LUMA))


def requantised_quality(quality: int, tables: Mapping[int, Sequence[int]]) -> int:
    """The quality to write a JPEG source of these quantisation `tables` at, for the caller's `quality`."""
    source = source_quality(tables)
    output = _scale(quality)
    if source is None or output == 0 or not FINEST <= _scale(source) / output <= COARSEST:
        return quality
    return max(quality, _quality(output * REFINED))


def _scale(quality: int) -> float:
    """libjpeg's scaling of its tables at `quality`, as a share: 1.0 at 50."""
    return libjpeg_scale(quality) / 100


def _quality(scale: float) -> int:
    """The quality whose scaling is nearest `scale`, within 1-100."""
    quality = 50 / scale if scale > 1 else 100 - 50 * scale
    return min(100, max(1, round(quality)))
