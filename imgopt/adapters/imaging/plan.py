"""What happens to the pixels of one image: decoded size, colour, orientation, resize and the output format."""

from dataclasses import dataclass

from PIL import Image

from imgopt.adapters.imaging.colour import eight_bit, flatten, to_srgb
from imgopt.domain.formats import ImageFormat

# Lanczos after a box reduction to within 3x of the target: Pillow documents the result as
# indistinguishable from Lanczos all the way, for a fraction of the work on large reductions.
_REDUCING_GAP = 3.0


@dataclass(frozen=True, slots=True)
class Plan:
    """`size` is the output size as the pixels are stored, before `transpose` turns them upright."""

    size: tuple[int, int]
    transpose: Image.Transpose | None
    icc: bytes | None
    target: ImageFormat

    def render(self, frame: Image.Image, keep_palette: bool = False) -> Image.Image:
        """`frame` ready for the target's encoder: 8-bit, resized, sRGB, upright, flattened if the target is opaque."""
        pixels = eight_bit(frame, keep_palette)
        if pixels.size != self.size:
            pixels = pixels.resize(self.size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
        pixels = to_srgb(pixels, self.icc)
        if self.transpose is not None:
            pixels = pixels.transpose(self.transpose)
        return flatten(pixels) if self.target is ImageFormat.JPEG else pixels
