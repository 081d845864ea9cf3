"""Pixels the encoders take: 8-bit grey or RGB with alpha kept, colour converted to sRGB."""

import io

from PIL import Image, ImageChops, ImageCms

from imgopt.application.ports import OptimizeFailed

_SIXTEEN_BIT_GREY = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
_CONVERTED = {"1": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "YCbCr": "RGB"}
_KEPT = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
PALETTE_MODES = frozenset({"1", "P", "PA"})


def eight_bit(image: Image.Image, keep_palette: bool = False) -> Image.Image:
    """`image` as L, LA, RGB, RGBA or CMYK (or P when `keep_palette`), transparency made an alpha channel."""
    mode = image.mode
    if mode == "P" and keep_palette:
        return image
    if mode in ("P", "L", "RGB") and "transparency" in image.info:
        return image.convert({"P": "RGBA", "L": "LA", "RGB": "RGBA"}[mode])
    if mode == "P":
        return image.convert("RGB")
    if mode in _SIXTEEN_BIT_GREY:
        # convert("L") would clip every tone above 255 to white: scaled first (+0.5 rounds) to keep them.
        return image.convert("I").point(lambda value: value / 257 + 0.5).convert("L")
    if mode in _CONVERTED:
        return image.convert(_CONVERTED[mode])
    if mode in _KEPT:
        return image
    raise OptimizeFailed(f"unsupported pixel format {mode}")


def translucent(image: Image.Image) -> bool:
    """Whether any pixel is less than fully opaque."""
    if image.mode in ("P", "L", "RGB"):
        return "transparency" in image.info
    return "A" in image.getbands() and image.getchannel("A").getextrema()[0] < 255


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """8-bit pixels (see `eight_bit`) as untagged sRGB in L, LA, RGB, RGBA or P: the profile is applied, not kept.

    A profile that cannot be read, or does not describe the pixels, is ignored, as browsers do.
    """
    profile = _profile(icc)
    space = profile.profile.xcolor_space.strip() if profile else None
    if image.mode == "P":
        if space != "RGB" or _is_srgb(profile):
            return image
        image = eight_bit(image)
    if image.mode == "CMYK":
        return (_transformed(image, profile, "CMYK", "RGB") if space == "CMYK" else None) or image.convert("RGB")
    if space == "GRAY" and image.mode in ("RGB", "RGBA") and _grey(image):
        # Pillow widens 16-bit grey with alpha to RGBA; the grey profile still describes it.
        image = image.convert("LA" if image.mode == "RGBA" else "L")
    if space == "GRAY" and image.mode in ("L", "LA"):
        return _grey_to_srgb(image, profile)
    if space == "RGB" and image.mode in ("RGB", "RGBA") and not _is_srgb(profile):
        return _transformed(image, profile, image.mode, image.mode) or image
    return image


def needs_conversion(icc: bytes | None) -> bool:
    """Whether an embedded profile describes colours other than sRGB's (one that cannot be read is ignored)."""
    profile = _profile(icc)
    return profile is not None and not _is_srgb(profile)


def flatten(image: Image.Image) -> Image.Image:
    """Opaque pixels for formats without alpha: transparent areas turn white, as they look on a web page."""
    if image.mode not in ("LA", "RGBA"):
        return image
    opaque = image.mode[:-1]
    background = Image.new(opaque, image.size, "white")
    background.paste(image.convert(opaque), mask=image.getchannel("A"))
    return background


def _profile(icc: bytes | None) -> ImageCms.ImageCmsProfile | None:
    if not icc:
        return None
    try:
        return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ImageCms.PyCMSError):
        return None


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    try:
        return "srgb" in ImageCms.getProfileDescription(profile).lower()
    except ImageCms.PyCMSError:
        return False


def _grey(image: Image.Image) -> bool:
    red, green, blue = image.split()[:3]
    return ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(green, blue).getbbox() is None


def _grey_to_srgb(image: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    # LittleCMS drops the alpha of LA pixels, so grey is converted alone and alpha put back.
    converted = _transformed(image.getchannel("L"), profile, "L", "RGB")
    if converted is None:
        return image
    grey = converted.convert("L")
    if image.mode == "LA":
        grey.putalpha(image.getchannel("A"))
    return grey


def _transformed(
    image: Image.Image, profile: ImageCms.ImageCmsProfile, mode_in: str, mode_out: str
) -> Image.Image | None:
    # Built per call, so threads never share a LittleCMS profile or transform.
    # Perceptual intent renders out-of-gamut colours the way browsers show the original.
    try:
        transform = ImageCms.buildTransform(
            profile, ImageCms.createProfile("sRGB"), mode_in, mode_out, ImageCms.Intent.PERCEPTUAL
        )
        return ImageCms.applyTransform(image, transform)
    except ImageCms.PyCMSError:
        return None
