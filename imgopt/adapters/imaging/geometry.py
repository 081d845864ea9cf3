"""Sizes and orientation: fitting within bounds without upscaling, and turning photos upright."""

from typing import TypeVar

from PIL import ExifTags, Image

from imgopt.application.ports import OptimizeFailed

T = TypeVar("T")

# EXIF orientation value -> the transpose that turns the stored pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = frozenset(
    {Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE}
)


def upright_transpose(image: Image.Image) -> Image.Transpose | None:
    """The transpose the image's EXIF orientation asks for, or None when it is upright or says nothing usable."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except (SyntaxError, ValueError, TypeError, OSError):
        # Damaged EXIF costs the orientation hint, not the photo.
        return None
    return _UPRIGHT.get(orientation) if isinstance(orientation, int) else None


def turned(pair: tuple[T, T], transpose: Image.Transpose | None) -> tuple[T, T]:
    """A (width, height) pair seen through `transpose`: swapped by quarter turns, the same swap both ways."""
    return (pair[1], pair[0]) if transpose in _QUARTER_TURNS else pair


def fit(size: tuple[int, int], max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """`size` scaled down, aspect kept, to lie within the bounds; never scaled up."""
    width, height = size
    scale = min(1.0, (max_width or width) / width, (max_height or height) / height)
    if scale == 1.0:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_pixels(size: tuple[int, int], limit: int, frames: int = 1) -> None:
    """OptimizeFailed when width x height, times `frames`, is more than `limit`: checked before decoding."""
    width, height = size
    if width * height * frames > limit:
        shape = f"{width}x{height}" + (f" in {frames} frames" if frames > 1 else "")
        raise OptimizeFailed(f"image has too many pixels: {shape} is more than the limit of {limit:,}")
