"""Writing images: each output format's encoder settings, for still images and animations."""

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

from imgopt.adapters.imaging.content import PHOTO, Content, Picture, classify
from imgopt.adapters.imaging.jpeg_tables import quantisation_tables
from imgopt.adapters.imaging.trellis import trellis_jpeg
from imgopt.domain.formats import ImageFormat


@dataclass(frozen=True, slots=True)
class Encoders:
    avif_speed: int
    png_compress_level: int

    def encode(
        self, image: Image.Image, fmt: ImageFormat, quality: int, lossless: bool, picture: Picture | None = None
    ) -> bytes:
        """`lossless` asks for exact pixels where the format offers a choice (WebP); PNG is always lossless.

        A JPEG's tables suit its kind of `picture`, read from the image (`classify`) unless given; textures
        are written with trellis quantisation (`trellis.py`).
        """
        if fmt is ImageFormat.JPEG and picture is None:
            picture = classify(image)
        if fmt is ImageFormat.JPEG and picture.content is Content.TEXTURE:
            return _without_jfif_header(trellis_jpeg(image, quality, _subsampled(quality)))
        with _output() as output:
            settings = self._settings(fmt, quality, lossless, picture or PHOTO)
            _without_metadata(image).save(output, fmt.name, **settings)
            data = _contents(output)
        return _without_jfif_header(data) if fmt is ImageFormat.JPEG else data

    def lossy(self, fmt: ImageFormat) -> Callable[[Image.Image, int], bytes]:
        """`encode` for `fmt` at any quality, as auto quality calls it: with the photo tables on every image,
        so a mosaic and its whole are encoded alike (the search judges the score, whatever the tables)."""
        return lambda image, quality: self.encode(image, fmt, quality, lossless=False, picture=PHOTO)

    def encode_animation(
        self, frames: list[Image.Image], durations: list[int], loop: int, fmt: ImageFormat, quality: int, lossless: bool
    ) -> bytes:
        first, *rest = [_without_metadata(frame) for frame in frames]
        settings = self._settings(fmt, quality, lossless, PHOTO)
        with _output() as output:
            first.save(output, fmt.name, save_all=True, append_images=rest, duration=durations, loop=loop, **settings)
            return _contents(output)

    def _settings(self, fmt: ImageFormat, quality: int, lossless: bool, picture: Picture) -> dict:
        if fmt is ImageFormat.JPEG:
            # Optimized Huffman tables cost one pass more and save about 8% at no loss; chroma is kept
            # whole from quality 90, where subsampled colour edges become the most visible loss (as libvips).
            # Pages of text are written progressive: the same coefficients, so the same pixels, and their
            # long runs of zeros code 8-11% smaller in spectral scans (photos come out 0.3-1% larger).
            subsampling = "4:2:0" if _subsampled(quality) else "4:4:4"
            tables = quantisation_tables(quality, picture)
            progressive = picture.content is Content.TEXT
            return {"qtables": tables, "optimize": True, "subsampling": subsampling, "progressive": progressive}
        if fmt is ImageFormat.WEBP:
            return {"lossless": True} if lossless else {"quality": quality}
        if fmt is ImageFormat.AVIF:
            return {"quality": quality, "speed": self.avif_speed}
        if fmt is ImageFormat.PNG:
            return {"compress_level": self.png_compress_level}
        raise ValueError(f"imgopt does not write {fmt.name}")


def _subsampled(quality: int) -> bool:
    return quality < 90


def _without_metadata(image: Image.Image) -> Image.Image:
    # Encoders copy EXIF, XMP, ICC and comments from `info`; only a palette's transparent index is pixels.
    image.info = (
        {"transparency": image.info["transparency"]} if image.mode == "P" and "transparency" in image.info else {}
    )
    return image


@contextlib.contextmanager
def _output() -> Iterator[BinaryIO]:
    """A file in memory with a real descriptor.

    Pillow encodes into a file that has a descriptor with the GIL released, but holds the GIL while
    it encodes into a BytesIO: with two threads, JPEG encoding measured 1.96 cores busy this way
    and 1.00 the other.
    """
    if hasattr(os, "memfd_create"):
        with os.fdopen(os.memfd_create("imgopt-output", os.MFD_CLOEXEC), "w+b") as output:
            yield output
    else:
        with tempfile.TemporaryFile() as output:
            yield output


def _contents(output: BinaryIO) -> bytes:
    output.flush()
    output.seek(0)
    return output.read()


_JFIF_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _without_jfif_header(data: bytes) -> bytes:
    """The JPEG without its JFIF APP0 segment: 18 bytes that say little but pixel density, which
    decoders do without (camera JPEGs carry none). libvips, and so sharp, write none either."""
    if data.startswith(_JFIF_HEADER):
        return data[:2] + data[20:]
    return data
