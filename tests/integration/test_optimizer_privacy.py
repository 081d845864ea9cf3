"""No output carries EXIF, XMP, IPTC or GPS, even an original handed back unchanged; ICC profiles stay."""

import io

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageCms, PngImagePlugin

from imgopt.adapters.imaging.metadata import without_metadata
from imgopt.domain.formats import ImageFormat
from imgopt.domain.options import OptimizationOptions

GPS_IFD = 0x8825
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description photoshop:City="Secret Town"/></x:xmpmeta>'
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Example Camera Co"  # Make
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif.tobytes()


def tiny_photo() -> Image.Image:
    return Image.linear_gradient("L").resize((24, 16)).convert("RGB")


def noisy_photo() -> Image.Image:
    noise = np.random.default_rng(7).normal(128, 60, (160, 256, 3))
    return Image.fromarray(noise.clip(0, 255).astype(np.uint8))


def jpeg_with_gps() -> bytes:
    buffer = io.BytesIO()
    # Quality 5 and optimized tables: no re-encoding at the default quality comes out smaller.
    noisy_photo().save(buffer, "JPEG", quality=20, optimize=True, exif=exif_with_gps(), xmp=XMP, icc_profile=SRGB)
    return buffer.getvalue()


def png_with_gps() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "shot at home")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buffer = io.BytesIO()
    tiny_photo().quantize(4).save(buffer, "PNG", optimize=True, exif=exif_with_gps(), pnginfo=text)
    return buffer.getvalue()


def webp_with_gps() -> bytes:
    buffer = io.BytesIO()
    noisy_photo().save(buffer, "WEBP", quality=5, exif=exif_with_gps(), xmp=XMP)
    return buffer.getvalue()


SOURCES = {"jpeg": jpeg_with_gps, "png": png_with_gps, "webp": webp_with_gps}


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_an_original_handed_back_unchanged_loses_its_exif_gps_and_xmp_but_keeps_its_pixels_and_profile(optimizer, kind):
    # Each source is smaller than any re-encoding of it, so the never-larger rule hands it back.
    data = SOURCES[kind]()

    result = optimizer.optimize(data, OptimizationOptions())

    source, output = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(result.data))
    assert source.getexif().get_ifd(GPS_IFD)  # the source does carry a position
    assert output.format == source.format
    assert len(result.data) < len(data)
    assert not output.getexif()
    assert b"GPS" not in result.data and b"Secret Town" not in result.data and b"shot at home" not in result.data
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "Comment"} & output.info.keys()
    assert output.info.get("icc_profile") == source.info.get("icc_profile")
    assert ImageChops.difference(output.convert("RGB"), source.convert("RGB")).getbbox() is None
    assert kind != "jpeg" or output.info["icc_profile"] == SRGB


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_a_re_encoded_output_carries_no_exif_either(optimizer, kind):
    data = SOURCES[kind]()

    result = optimizer.optimize(data, OptimizationOptions(max_width=12))

    output = Image.open(io.BytesIO(result.data))
    assert output.width == 12
    assert not output.getexif()
    assert b"GPS" not in result.data and b"Secret Town" not in result.data


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        (ImageFormat.JPEG, b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 10),
        (ImageFormat.PNG, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xffIHDR"),
        (ImageFormat.WEBP, b"RIFF\x10\x00\x00\x00WEBPVP8X\xff\xff\x00\x00"),
        (ImageFormat.AVIF, b"\x00\x00\x00\x18ftypavif"),
    ],
)
def test_a_file_whose_layout_cannot_be_followed_is_left_to_re_encoding(fmt, data):
    assert without_metadata(data, fmt) is None
