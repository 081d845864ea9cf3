"""Which format an image is written in: the caller's choice, else its own family made web-ready."""

from PIL import Image

from imgopt.adapters.imaging.colour import PALETTE_MODES, translucent
from imgopt.domain.formats import ImageFormat
from imgopt.domain.options import OutputFormat

# GIF's palette and LZW lose to lossless WebP on size, frames and durations kept, in every current browser.
_FAMILY = {
    ImageFormat.JPEG: ImageFormat.JPEG,
    ImageFormat.PNG: ImageFormat.PNG,
    ImageFormat.WEBP: ImageFormat.WEBP,
    ImageFormat.AVIF: ImageFormat.AVIF,
    ImageFormat.GIF: ImageFormat.WEBP,
}
# Formats able to hold an animation: as a source, every frame is read; as the output, every frame is kept.
ANIMATED = frozenset({ImageFormat.GIF, ImageFormat.PNG, ImageFormat.WEBP, ImageFormat.AVIF})
# Formats whose encoders trade quality for size: the ones auto quality searches.
LOSSY = frozenset({ImageFormat.JPEG, ImageFormat.WEBP, ImageFormat.AVIF})
# Formats a browser shows as they are, so an original in one of them can be handed back untouched.
WEB_READY = frozenset(_FAMILY)


def output_format(source: ImageFormat, requested: OutputFormat, image: Image.Image) -> ImageFormat:
    """The format to write `image` (decoded from `source`) in.

    TIFF is not shown by browsers, so it always changes: a photo to JPEG; pixels with transparency or
    a palette (scans, line art) to WebP, which keeps both.
    """
    if requested is not OutputFormat.ORIGINAL:
        return ImageFormat(requested.value)
    if source is ImageFormat.TIFF:
        return ImageFormat.WEBP if image.mode in PALETTE_MODES or translucent(image) else ImageFormat.JPEG
    return _FAMILY[source]
