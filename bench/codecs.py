"""The encoders compared by bench/encoders.py, each as (image, quality) -> bytes."""

import io

import pyjpegli
import pyvips
from PIL import Image

from imgopt.adapters.imaging.encoders import Encoders
from imgopt.domain.formats import ImageFormat

_IMGOPT = Encoders(avif_speed=6, png_compress_level=9)

DESCRIPTION = (
    "libjpeg-turbo = Pillow save(quality, optimize=True, 4:2:0), byte-identical to sharp's jpeg(); imgopt = "
    "imgopt's JPEG encoder (libjpeg-turbo with mozjpeg's MS-SSIM-tuned tables, luma three steps up); jpegli = "
    "pyjpegli.encode(quality); mozjpeg = libvips jpegsave with trellis quantisation, optimised scans, "
    "progressive, overshoot deringing, mozjpeg's default tables (set 3); PNG lossless = Pillow, zlib level 9; "
    "palette = libvips pngsave(palette=True, Q) (libimagequant), dithered."
)


def _pillow(image: Image.Image, quality: int) -> bytes:
    output = io.BytesIO()
    image.save(output, "JPEG", quality=quality, optimize=True, subsampling="4:2:0")
    return output.getvalue()


def _jpegli(image: Image.Image, quality: int) -> bytes:
    return pyjpegli.encode(image.tobytes(), image.width, image.height, quality)


def _vips(image: Image.Image) -> pyvips.Image:
    return pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, len(image.getbands()), "uchar")


def _mozjpeg(image: Image.Image, quality: int) -> bytes:
    return _vips(image).jpegsave_buffer(
        Q=quality,
        optimize_coding=True,
        trellis_quant=True,
        optimize_scans=True,
        interlace=True,
        overshoot_deringing=True,
        quant_table=3,
        keep="none",
    )


def _palette(image: Image.Image, quality: int) -> bytes:
    return _vips(image).pngsave_buffer(palette=True, Q=quality, compression=9, keep="none")


JPEG = {
    "libjpeg-turbo": _pillow,
    "imgopt": lambda image, quality: _IMGOPT.encode(image, ImageFormat.JPEG, quality, False),
    "jpegli": _jpegli,
    "mozjpeg": _mozjpeg,
}
PNG = {
    "PNG lossless": lambda image, quality: _IMGOPT.encode(image, ImageFormat.PNG, quality, True),
    "PNG palette (libimagequant)": _palette,
}
