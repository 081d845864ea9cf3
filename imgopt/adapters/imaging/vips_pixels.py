"""Still photos in libvips: which ones it takes, their loading, shrinking, colour, orientation and encoders."""

from dataclasses import dataclass

import pyvips
from PIL import Image

from imgopt.adapters.imaging.colour import needs_conversion
from imgopt.domain.formats import ImageFormat

STILL_SOURCES = frozenset({ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP})
_BANDS = {"srgb": (3, 4), "b-w": (1, 2)}


def still_photo(data: bytes, source: ImageFormat) -> bool:
    """Whether `data` is a format libvips takes here, and no animated PNG (libvips would read its first frame)."""
    if source is ImageFormat.PNG:
        return b"acTL" not in data[: data.find(b"IDAT")]
    return source in STILL_SOURCES


@dataclass(frozen=True, slots=True)
class VipsPixels:
    image: pyvips.Image

    @staticmethod
    def handles(header: pyvips.Image) -> bool:
        """8-bit sRGB or grey, one frame, no palette; grey with a profile of its own goes to Pillow."""
        icc = header.get("icc-profile-data") if header.get_typeof("icc-profile-data") else None
        return (
            header.format == "uchar"
            and header.bands in _BANDS.get(header.interpretation, ())
            and header.get_n_pages() == 1
            and not header.get_typeof("palette")
            and not (header.interpretation == "b-w" and needs_conversion(icc))
        )

    @classmethod
    def load(cls, data: bytes, source: ImageFormat, header: pyvips.Image, size: tuple[int, int]) -> "VipsPixels":
        """The pixels, a JPEG shrunk while decoding by the largest of 1/2, 1/4, 1/8 that stays at or above `size`."""
        width, height = size
        shrink = next((f for f in (8, 4, 2) if header.width // f >= width and header.height // f >= height), 1)
        if source is not ImageFormat.JPEG or shrink == 1:
            return cls(header)
        return cls(pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated", shrink=shrink))

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def rendered(self, size: tuple[int, int], opaque: bool) -> "VipsPixels":
        """Lanczos-3 to `size` (in alpha-weighted light), sRGB, upright, on white if `opaque`."""
        image = self.image
        if (image.width, image.height) != size:
            scales = size[0] / image.width, size[1] / image.height
            if image.hasalpha():
                resized = image.premultiply().resize(scales[0], vscale=scales[1], kernel="lanczos3")
                image = resized.unpremultiply().cast("uchar")
            else:
                image = image.resize(scales[0], vscale=scales[1], kernel="lanczos3")
        image = _srgb(image)
        if image.get_typeof("orientation"):
            image = image.autorot()
        if opaque and image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        return VipsPixels(image)

    def to_pillow(self) -> Image.Image:
        """The pixels as a Pillow image, for the encoders both optimizers share."""
        image = self.image
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.bands]
        return Image.frombuffer(mode, (image.width, image.height), image.write_to_memory(), "raw", mode, 0, 1)


def _srgb(image: pyvips.Image) -> pyvips.Image:
    """An embedded profile applied (perceptual intent, as Pillow's path); an unusable one ignored, as browsers do."""
    icc = image.get("icc-profile-data") if image.get_typeof("icc-profile-data") else None
    if not needs_conversion(icc):
        return image
    try:
        return image.icc_transform("srgb", embedded=True, intent="perceptual").copy_memory()
    except pyvips.Error:
        return image
