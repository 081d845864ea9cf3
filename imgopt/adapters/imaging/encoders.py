"""Writing images: each output format's encoder settings, for still images and animations."""

import io
from dataclasses import dataclass

from PIL import Image

from imgopt.domain.formats import ImageFormat


@dataclass(frozen=True, slots=True)
class Encoders:
    avif_speed: int
    png_compress_level: int

    def encode(self, image: Image.Image, fmt: ImageFormat, quality: int, lossless: bool) -> bytes:
        """`lossless` asks for exact pixels where the format offers a choice (WebP); PNG is always lossless."""
        buffer = io.BytesIO()
        _without_metadata(image).save(buffer, fmt.name, **self._settings(fmt, quality, lossless))
        return buffer.getvalue()

    def encode_animation(
        self, frames: list[Image.Image], durations: list[int], loop: int, fmt: ImageFormat, quality: int, lossless: bool
    ) -> bytes:
        buffer = io.BytesIO()
        first, *rest = [_without_metadata(frame) for frame in frames]
        settings = self._settings(fmt, quality, lossless)
        first.save(buffer, fmt.name, save_all=True, append_images=rest, duration=durations, loop=loop, **settings)
        return buffer.getvalue()

    def _settings(self, fmt: ImageFormat, quality: int, lossless: bool) -> dict:
        if fmt is ImageFormat.JPEG:
            # Optimized Huffman tables cost one pass more and save about 8% at no loss; chroma is kept
            # whole from quality 90, where subsampled colour edges become the most visible loss (as libvips).
            return {"quality": quality, "optimize": True, "subsampling": "4:4:4" if quality >= 90 else "4:2:0"}
        if fmt is ImageFormat.WEBP:
            return {"lossless": True} if lossless else {"quality": quality}
        if fmt is ImageFormat.AVIF:
            return {"quality": quality, "speed": self.avif_speed}
        if fmt is ImageFormat.PNG:
            return {"compress_level": self.png_compress_level}
        raise ValueError(f"imgopt does not write {fmt.name}")


def _without_metadata(image: Image.Image) -> Image.Image:
    # Encoders copy EXIF, XMP, ICC and comments from `info`; only a palette's transparent index is pixels.
    image.info = (
        {"transparency": image.info["transparency"]} if image.mode == "P" and "transparency" in image.info else {}
    )
    return image
