"""Textures written by mozjpeg's trellis quantisation, through libvips.

Rounding each DCT coefficient to its step is what libjpeg-turbo (and so Pillow) does; mozjpeg's trellis
instead picks, block by block, the coefficients that cost the fewest bits for the distortion they add.
On textures, where nearly every block is busy, that is worth 6-17% of the bytes at libjpeg's score
(`jpeg_tables.TEXTURE_OFFSET`); it costs 7-13 times Pillow's encoding time (some 45-50 ns a pixel),
so only textures take it. libvips (pyvips-binary ships it with mozjpeg) writes set 4 itself
(`quant_table=4`), scaled as libjpeg scales its tables: the same tables `quantisation_tables` gives.
"""

import pyvips
from PIL import Image

from imgopt.adapters.imaging.jpeg_tables import DETAIL_TABLE, texture_step

_BANDS = {"L": 1, "RGB": 3}


def trellis_jpeg(image: Image.Image, quality: int, subsampled: bool) -> bytes:
    """`image` (grey or RGB; anything else is made RGB) as a texture's JPEG at the caller's `quality`, no metadata."""
    if image.mode not in _BANDS:
        image = image.convert("RGB")
    pixels = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, _BANDS[image.mode], "uchar")
    return pixels.jpegsave_buffer(
        Q=texture_step(quality),
        quant_table=DETAIL_TABLE,
        trellis_quant=True,
        optimize_coding=True,
        subsample_mode="on" if subsampled else "off",
        keep="none",
    )
