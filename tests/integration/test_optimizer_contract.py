"""The optimizer contract, run against both adapters (Pillow, libvips) on real images: the shared corpus, plus
images generated here with Pillow."""

import io
import struct
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageOps, ImageStat, JpegImagePlugin

from imgopt.adapters.imaging.jpeg_tables import quantisation_tables
from imgopt.application.ports import OptimizedImage, OptimizeFailed
from imgopt.domain.image_results import ImageResult
from imgopt.domain.options import OptimizationOptions, OutputFormat
from tests.support import CORPUS, corpus_bytes

DEFAULT = OptimizationOptions()
GOOD = {
    "photo-2725x2225.jpg": ("JPEG", "image/jpeg", "jpg", (2725, 2225)),
    "paper-rgba-2048x1536.png": ("PNG", "image/png", "png", (2048, 1536)),
    "exif-orientation-6.jpg": ("JPEG", "image/jpeg", "jpg", (600, 450)),
    "cmyk.jpg": ("JPEG", "image/jpeg", "jpg", (500, 333)),
    "photo.webp": ("WEBP", "image/webp", "webp", (1024, 772)),
    "animated.gif": ("WEBP", "image/webp", "webp", (80, 80)),
    "flowers.jpeg": ("JPEG", "image/jpeg", "jpg", (1920, 1080)),
    "grey16-alpha.png": ("PNG", "image/png", "png", (109, 96)),
    "small-320x240.jpg": ("JPEG", "image/jpeg", "jpg", (320, 240)),
}
BAD = ("truncated.jpg", "corrupt-header.jpg")


def corpus(name: str) -> bytes:
    return corpus_bytes(name)


def decoded(data: bytes) -> Image.Image:
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def encoded(image: Image.Image, fmt: str, **settings) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **settings)
    return buffer.getvalue()


def difference(a: Image.Image, b: Image.Image, size: tuple[int, int] = (60, 45)) -> float:
    """Mean absolute difference per channel (0-255) between small RGB versions of two images."""
    small_a, small_b = (image.convert("RGB").resize(size, Image.Resampling.BOX) for image in (a, b))
    return sum(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean) / 3


def gradient(mode: str, size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A smooth test image with detail in every channel, alpha falling from opaque to transparent."""
    red = Image.linear_gradient("L").resize(size)
    green = red.transpose(Image.Transpose.ROTATE_90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    alpha = Image.linear_gradient("L").rotate(90).resize(size)
    return Image.merge("RGBA", (red, green, blue, alpha)).convert(mode)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG that is nothing but a header announcing `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def gif_growing_to(width: int, height: int) -> bytes:
    """A 10x10 GIF followed by a second frame so large that it stretches the canvas to `width` x `height`."""
    still = encoded(Image.new("P", (10, 10)), "GIF")
    pixel = b"\x02\x02\x44\x01\x00"  # LZW code size 2, one sub-block holding one pixel, terminator
    return still.removesuffix(b";") + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + pixel + b";"


def frame_durations(data: bytes) -> list[int]:
    image = Image.open(io.BytesIO(data))
    durations = []
    for index in range(image.n_frames):
        image.seek(index)
        image.load()
        durations.append(image.info["duration"])
    return durations


@pytest.mark.parametrize("name", sorted(GOOD))
def test_every_good_corpus_image_comes_out_valid_no_larger_in_its_family_and_the_right_size(optimizer, name):
    data = corpus(name)
    pillow_format, media_type, extension, size = GOOD[name]

    result = optimizer.optimize(data, DEFAULT)

    image = decoded(result.data)
    assert (image.format, result.result.media_type, result.extension) == (pillow_format, media_type, extension)
    assert image.size == (result.result.width, result.result.height) == size
    assert len(result.data) <= len(data)


def test_the_original_job_on_a_photo_is_a_real_re_encoding_with_the_tuned_tables_for_quality_fifty(optimizer):
    data = corpus("photo-2725x2225.jpg")

    result = optimizer.optimize(data, DEFAULT)

    image = decoded(result.data)
    reference = Image.open(io.BytesIO(data))
    assert len(result.data) < 0.5 * len(data)
    assert difference(image, reference) < 3
    assert [list(image.quantization[index]) for index in (0, 1)] == quantisation_tables(50)


@pytest.mark.parametrize(("name", "reason"), [("truncated.jpg", "truncated"), ("corrupt-header.jpg", "JPEG")])
def test_a_damaged_corpus_file_fails_with_a_reason(optimizer, name, reason):
    data = corpus(name)

    with pytest.raises(OptimizeFailed, match=reason):
        optimizer.optimize(data, DEFAULT)


def test_bad_files_fail_alone_in_a_batch_of_good_ones(optimizer):
    names = sorted(GOOD) + list(BAD)

    outcomes = {}
    for name in names:
        try:
            outcomes[name] = optimizer.optimize(corpus(name), DEFAULT)
        except OptimizeFailed as failure:
            outcomes[name] = failure

    assert {name for name, outcome in outcomes.items() if isinstance(outcome, OptimizeFailed)} == set(BAD)
    assert all(str(outcomes[name]) for name in BAD)


def test_a_photo_with_exif_orientation_six_comes_out_upright_with_no_orientation_left(optimizer):
    data = corpus("exif-orientation-6.jpg")
    source = Image.open(io.BytesIO(data))
    upright = ImageOps.exif_transpose(source)

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert source.size == (450, 600)
    assert image.size == (600, 450)
    assert difference(image, upright) < difference(image, upright.transpose(Image.Transpose.ROTATE_180)) / 4
    assert image.getexif().get(0x0112) is None


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_metadata_is_stripped_in_every_output_format(optimizer, fmt):
    data = corpus("small-320x240.jpg")
    source = Image.open(io.BytesIO(data))

    image = decoded(optimizer.optimize(data, OptimizationOptions(format=fmt)).data)

    assert {"exif", "xmp", "icc_profile"} <= source.info.keys()
    assert not {"exif", "xmp", "icc_profile", "comment"} & image.info.keys()
    assert not image.getexif()


def test_a_png_loses_its_profile_and_text_chunks(optimizer):
    data = corpus("grey16-alpha.png")

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert {"icc_profile", "XML:com.adobe.xmp"} <= Image.open(io.BytesIO(data)).info.keys()
    assert not image.info.keys() & {"icc_profile", "xmp", "XML:com.adobe.xmp"}


@pytest.mark.parametrize(("quality", "sampling"), [(50, 2), (89, 2), (90, 0), (100, 0)])
def test_jpeg_colour_is_subsampled_below_quality_ninety_only(optimizer, quality, sampling):
    data = corpus("flowers.jpeg")

    result = optimizer.optimize(data, OptimizationOptions(quality=quality, format=OutputFormat.JPEG, max_width=960))

    assert JpegImagePlugin.get_sampling(decoded(result.data)) == sampling


def test_a_cmyk_photo_becomes_srgb_close_to_its_own_profile_conversion(optimizer):
    data = corpus("cmyk.jpg")
    source = Image.open(io.BytesIO(data))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(source.info["icc_profile"]))
    reference = ImageCms.profileToProfile(source, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert source.mode == "CMYK"
    assert image.mode == "RGB"
    assert difference(image, reference) < 3
    assert difference(source.convert("RGB"), reference) > 8  # a conversion ignoring the profile would fail


@pytest.mark.parametrize("options", [DEFAULT, OptimizationOptions(max_width=300)], ids=["same-size", "resized"])
def test_an_embedded_rgb_profile_is_applied_rather_than_dropped(optimizer, options):
    data = corpus("exif-orientation-6.jpg")
    source = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(source.info["icc_profile"]))
    reference = ImageCms.profileToProfile(source, profile, ImageCms.createProfile("sRGB"))

    image = decoded(optimizer.optimize(data, options).data)

    assert difference(image, reference) < 3
    assert difference(source, reference) > 8  # the profile matters: dropping it would show


def test_a_translucent_png_keeps_every_pixel_and_its_alpha(optimizer):
    source = gradient("RGBA")
    data = encoded(source, "PNG", compress_level=0)

    result = optimizer.optimize(data, DEFAULT)

    image = decoded(result.data)
    assert len(result.data) < len(data)
    assert image.mode == "RGBA"
    assert ImageChops.difference(image, source).getbbox() is None


def test_the_paper_png_keeps_its_alpha(optimizer):
    data = corpus("paper-rgba-2048x1536.png")
    source = Image.open(io.BytesIO(data))

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert image.mode == "RGBA"
    assert ImageChops.difference(image.getchannel("A"), source.getchannel("A")).getbbox() is None


def test_sixteen_bit_grey_with_alpha_stays_grey_with_its_faint_alpha(optimizer):
    data = corpus("grey16-alpha.png")

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert image.mode == "LA"
    assert image.getchannel("L").getextrema() == (0, 0)
    assert image.getchannel("A").getextrema() == (0, 16)  # 4116 of 65535 at most, as in the source


def test_sixteen_bit_grey_keeps_its_tones_instead_of_clipping_to_white(optimizer):
    source = Image.linear_gradient("L").resize((64, 64)).point(lambda value: value * 257, "I").convert("I;16")
    data = encoded(source, "PNG", compress_level=0)

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    darkest, lightest = source.getextrema()
    assert image.mode == "L"
    assert image.getextrema() == (round(darkest / 257), round(lightest / 257)) == (2, 253)
    source_mean = sum(struct.unpack(f"<{64 * 64}H", source.tobytes())) / (64 * 64)
    assert abs(ImageStat.Stat(image).mean[0] - source_mean / 257) < 0.5


def test_a_palette_png_stays_a_lossless_palette_with_its_transparency(optimizer):
    source = gradient("RGB").quantize(16)
    source.info["transparency"] = 3
    data = encoded(source, "PNG", compress_level=0, transparency=3)

    image = decoded(optimizer.optimize(data, DEFAULT).data)

    assert image.mode == "P"
    assert image.info["transparency"] == 3
    assert ImageChops.difference(image.convert("RGBA"), source.convert("RGBA")).getbbox() is None


def test_an_image_that_cannot_shrink_comes_back_unchanged(optimizer):
    data = encoded(Image.open(CORPUS / "small-320x240.jpg"), "JPEG", quality=10, optimize=True)

    result = optimizer.optimize(data, DEFAULT)

    assert result == OptimizedImage(data, "jpg", ImageResult("image/jpeg", len(data), len(data), 320, 240))


def test_an_animation_that_cannot_shrink_comes_back_unchanged(optimizer):
    once = optimizer.optimize(corpus("animated.gif"), DEFAULT)

    again = optimizer.optimize(once.data, DEFAULT)

    assert (again.data, again.extension) == (once.data, once.extension)
    assert again.result == replace(once.result, bytes_in=len(once.data))


def test_a_requested_conversion_happens_even_when_the_result_is_larger(optimizer):
    data = encoded(Image.open(CORPUS / "small-320x240.jpg"), "JPEG", quality=10, optimize=True)

    result = optimizer.optimize(data, OptimizationOptions(format=OutputFormat.PNG))

    assert (result.result.media_type, decoded(result.data).format) == ("image/png", "PNG")
    assert len(result.data) > len(data)


def test_a_tiff_is_always_converted_for_the_web_even_when_larger(optimizer):
    data = encoded(Image.new("RGB", (64, 64), (10, 120, 200)), "TIFF", compression="tiff_lzw")

    result = optimizer.optimize(data, DEFAULT)

    assert (result.result.media_type, decoded(result.data).format) == ("image/jpeg", "JPEG")


@pytest.mark.parametrize(
    ("mode", "media_type", "out_mode"),
    [
        ("RGB", "image/jpeg", "RGB"),
        ("CMYK", "image/jpeg", "RGB"),
        ("RGBA", "image/webp", "RGBA"),
        ("1", "image/webp", "RGB"),
    ],
)
def test_a_tiff_becomes_jpeg_when_opaque_and_webp_when_translucent_or_bilevel(optimizer, mode, media_type, out_mode):
    data = encoded(gradient(mode), "TIFF")

    result = optimizer.optimize(data, DEFAULT)

    assert (result.result.media_type, decoded(result.data).mode) == (media_type, out_mode)


def test_an_opaque_tiff_with_an_alpha_channel_is_still_a_photo(optimizer):
    data = encoded(gradient("RGB").convert("RGBA"), "TIFF")

    result = optimizer.optimize(data, DEFAULT)

    assert result.result.media_type == "image/jpeg"


def test_an_animated_gif_becomes_an_animated_webp_keeping_its_timing_and_loop(optimizer):
    data = corpus("animated.gif")
    source = Image.open(io.BytesIO(data))
    source_durations = []
    for index in range(source.n_frames):
        source.seek(index)
        source_durations.append(source.info["duration"])

    result = optimizer.optimize(data, DEFAULT)

    image = decoded(result.data)
    assert image.n_frames > 1
    assert sum(frame_durations(result.data)) == sum(source_durations) == 900
    assert image.info["loop"] == 0


def test_a_still_gif_becomes_a_lossless_webp(optimizer):
    source = gradient("RGB").quantize(32)
    data = encoded(source, "GIF")

    result = optimizer.optimize(data, DEFAULT)

    image = decoded(result.data)
    assert (result.result.media_type, result.extension) == ("image/webp", "webp")
    assert ImageChops.difference(image.convert("RGB"), source.convert("RGB")).getbbox() is None


@pytest.mark.parametrize(("fmt", "pillow_format"), [(OutputFormat.PNG, "PNG"), (OutputFormat.AVIF, "AVIF")])
def test_an_animation_converted_to_another_animated_format_keeps_its_frames(optimizer, fmt, pillow_format):
    data = corpus("animated.gif")

    result = optimizer.optimize(data, OptimizationOptions(format=fmt))

    image = decoded(result.data)
    assert (image.format, image.n_frames > 1) == (pillow_format, True)
    assert sum(frame_durations(result.data)) == 900


def test_an_animation_converted_to_jpeg_keeps_its_first_frame(optimizer):
    data = corpus("animated.gif")
    first = Image.open(io.BytesIO(data)).convert("RGBA")
    on_white = Image.alpha_composite(Image.new("RGBA", first.size, "white"), first)

    result = optimizer.optimize(data, OptimizationOptions(format=OutputFormat.JPEG))

    assert difference(decoded(result.data), on_white) < 6


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("flowers.jpeg", OutputFormat.JPEG), ("photo.webp", OutputFormat.WEBP), ("small-320x240.jpg", OutputFormat.AVIF)],
)
def test_lower_quality_gives_a_smaller_file(optimizer, name, fmt):
    data = corpus(name)

    low = optimizer.optimize(data, OptimizationOptions(quality=20, format=fmt))
    high = optimizer.optimize(data, OptimizationOptions(quality=80, format=fmt))

    assert len(low.data) < len(high.data)


def test_png_stays_lossless_whatever_the_quality(optimizer):
    source = gradient("RGBA")
    data = encoded(source, "PNG", compress_level=0)

    outputs = [optimizer.optimize(data, OptimizationOptions(quality=q)) for q in (1, 50, 100)]

    assert all(ImageChops.difference(decoded(o.data), source).getbbox() is None for o in outputs)


@pytest.mark.parametrize(
    ("fmt", "pillow_format", "media_type", "extension"),
    [
        (OutputFormat.JPEG, "JPEG", "image/jpeg", "jpg"),
        (OutputFormat.WEBP, "WEBP", "image/webp", "webp"),
        (OutputFormat.AVIF, "AVIF", "image/avif", "avif"),
        (OutputFormat.PNG, "PNG", "image/png", "png"),
    ],
)
def test_each_output_format_can_be_asked_for(optimizer, fmt, pillow_format, media_type, extension):
    data = corpus("small-320x240.jpg")

    result = optimizer.optimize(data, OptimizationOptions(format=fmt))

    image = decoded(result.data)
    assert (image.format, result.result.media_type, result.extension) == (pillow_format, media_type, extension)
    assert image.size == (result.result.width, result.result.height) == (320, 240)
    assert difference(image, Image.open(CORPUS / "small-320x240.jpg")) < 6


def test_an_avif_stays_avif(optimizer):
    data = encoded(Image.open(CORPUS / "small-320x240.jpg"), "AVIF", quality=95)

    result = optimizer.optimize(data, DEFAULT)

    assert (result.result.media_type, decoded(result.data).format) == ("image/avif", "AVIF")
    assert len(result.data) < len(data)


@pytest.mark.parametrize("fmt", [OutputFormat.WEBP, OutputFormat.AVIF, OutputFormat.PNG])
def test_alpha_survives_conversion_to_formats_that_hold_it(optimizer, fmt):
    source = gradient("RGBA")
    data = encoded(source, "PNG")

    result = optimizer.optimize(data, OptimizationOptions(format=fmt))

    alpha = decoded(result.data).getchannel("A")
    assert difference(alpha, source.getchannel("A")) < 4


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_is_flattened_onto_white_for_jpeg(optimizer, mode):
    source = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    source.paste((200, 30, 30, 255), (32, 0, 64, 32))
    data = encoded(source.convert(mode), "PNG")

    image = decoded(optimizer.optimize(data, OptimizationOptions(format=OutputFormat.JPEG)).data)

    assert image.format == "JPEG"
    assert min(image.convert("L").crop((0, 0, 28, 32)).getextrema()) >= 250
    assert max(image.convert("L").crop((36, 0, 64, 32)).getextrema()) < 200


@pytest.mark.parametrize(
    ("options", "size"),
    [
        (OptimizationOptions(max_width=800), (800, 653)),
        (OptimizationOptions(max_height=445), (545, 445)),
        (OptimizationOptions(max_width=800, max_height=100), (122, 100)),
        (OptimizationOptions(max_width=5000, max_height=5000), (2725, 2225)),
    ],
)
def test_max_width_and_height_keep_the_aspect_and_never_upscale(optimizer, options, size):
    data = corpus("photo-2725x2225.jpg")

    result = optimizer.optimize(data, options)

    assert decoded(result.data).size == (result.result.width, result.result.height) == size


def test_a_jpeg_shrunk_while_decoding_still_looks_like_a_full_lanczos_resize(optimizer):
    data = corpus("photo-2725x2225.jpg")

    image = decoded(optimizer.optimize(data, OptimizationOptions(max_width=640)).data)

    reference = Image.open(io.BytesIO(data)).resize(image.size, Image.Resampling.LANCZOS)
    assert image.size == (640, 523)
    assert difference(image, reference, image.size) < 5


def test_max_width_applies_to_the_upright_photo(optimizer):
    data = corpus("exif-orientation-6.jpg")

    result = optimizer.optimize(data, OptimizationOptions(max_width=300))

    assert decoded(result.data).size == (result.result.width, result.result.height) == (300, 225)


def test_a_small_image_is_never_upscaled(optimizer):
    data = corpus("small-320x240.jpg")

    result = optimizer.optimize(data, OptimizationOptions(max_width=1000, max_height=1000))

    assert (result.result.width, result.result.height) == (320, 240)


def test_a_resized_png_keeps_its_alpha(optimizer):
    data = corpus("paper-rgba-2048x1536.png")

    result = optimizer.optimize(data, OptimizationOptions(max_width=512))

    image = decoded(result.data)
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (512, 384))


def test_a_resized_animation_keeps_its_frames(optimizer):
    data = corpus("animated.gif")

    result = optimizer.optimize(data, OptimizationOptions(max_width=40))

    image = decoded(result.data)
    assert (image.size, image.n_frames > 1) == ((40, 40), True)


def test_an_image_with_more_pixels_than_the_limit_is_refused(adapter):
    optimizer = adapter(max_pixels=320 * 240 - 1)

    with pytest.raises(OptimizeFailed, match=r"too many pixels: 320x240 is more than the limit of 76,799"):
        optimizer.optimize(corpus("small-320x240.jpg"), DEFAULT)


@pytest.mark.parametrize(("width", "height"), [(10_000, 6_000), (100_000, 100_000)])
def test_a_header_claiming_huge_dimensions_is_refused_before_decoding(optimizer, width, height):
    data = png_claiming(width, height)

    with pytest.raises(OptimizeFailed, match="too many pixels"):
        optimizer.optimize(data, DEFAULT)


def test_an_image_pillow_only_warns_about_still_fails(optimizer):
    data = png_claiming(10_000, 10_000)

    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(OptimizeFailed, match="too many pixels"):
        optimizer.optimize(data, DEFAULT)


def test_pillows_bomb_warning_fails_the_image_when_warnings_are_errors(optimizer):
    data = png_claiming(10_000, 10_000)

    with warnings.catch_warnings(), pytest.raises(OptimizeFailed, match="too many pixels"):
        warnings.simplefilter("error")
        optimizer.optimize(data, DEFAULT)


def test_a_gif_frame_that_stretches_the_canvas_past_the_limit_is_refused(optimizer):
    data = gif_growing_to(8_000, 8_000)

    with pytest.raises(OptimizeFailed, match="too many pixels: 8000x8000 in 2 frames"):
        optimizer.optimize(data, DEFAULT)


def test_an_animation_whose_frames_together_exceed_the_limit_is_refused(adapter):
    optimizer = adapter(max_pixels=80 * 80 * 10)

    with pytest.raises(OptimizeFailed, match="80x80 in 30 frames"):
        optimizer.optimize(corpus("animated.gif"), DEFAULT)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "an HTML page"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>', "XML or SVG"),
        (encoded(Image.new("RGB", (8, 8)), "BMP"), "a BMP image"),
        (b"", "not a recognised image format"),
    ],
)
def test_anything_but_an_allowed_image_format_is_refused(optimizer, data, reason):
    with pytest.raises(OptimizeFailed, match=f"not an allowed image format: {reason}"):
        optimizer.optimize(data, DEFAULT)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + b"garbage" * 10,
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,
        b"GIF89a\x00\x00\x00",
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(20),
        b"\x00\x00\x00\x18ftypavif" + bytes(20),
        b"II*\x00" + b"\xff" * 20,
    ],
)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_file_with_the_right_signature_and_nothing_behind_it_fails_with_a_reason(optimizer, data):
    with pytest.raises(OptimizeFailed) as failure:
        optimizer.optimize(data, DEFAULT)

    assert str(failure.value)
    assert "<_io.BytesIO" not in str(failure.value)


def test_a_pixel_format_without_a_web_equivalent_fails_with_a_reason(optimizer):
    data = encoded(Image.new("F", (8, 8), 0.5), "TIFF")

    with pytest.raises(OptimizeFailed, match="unsupported pixel format F"):
        optimizer.optimize(data, DEFAULT)


def test_damaged_exif_costs_the_orientation_not_the_photo(optimizer):
    data = encoded(
        Image.open(CORPUS / "small-320x240.jpg"), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05"
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = optimizer.optimize(data, DEFAULT)

    assert (result.result.width, result.result.height) == (320, 240)


def test_concurrent_optimizations_each_give_the_same_result_as_alone(optimizer):
    names = ["photo-2725x2225.jpg", "cmyk.jpg", "paper-rgba-2048x1536.png", "photo.webp", "animated.gif",
             "exif-orientation-6.jpg", "grey16-alpha.png", "truncated.jpg"]  # fmt: skip
    options = OptimizationOptions(max_width=400)

    def attempt(name: str) -> OptimizedImage | str:
        try:
            return optimizer.optimize(corpus(name), options)
        except OptimizeFailed as failure:
            return f"failed: {failure}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(attempt, names * 2))

    assert concurrent == [attempt(name) for name in names * 2]
    assert [isinstance(outcome, str) for outcome in concurrent[:8]] == [False] * 7 + [True]


def test_pillows_global_limits_are_left_alone(optimizer):
    limit, truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES

    optimizer.optimize(corpus("flowers.jpeg"), DEFAULT)
    with pytest.raises(OptimizeFailed):
        optimizer.optimize(corpus("truncated.jpg"), DEFAULT)

    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == (limit, truncated) == (178_956_970 // 2, False)


@pytest.mark.parametrize(
    "settings", [{"max_pixels": 0}, {"avif_speed": 11}, {"avif_speed": -1}, {"png_compress_level": 10}]
)
def test_settings_out_of_range_are_refused_when_the_optimizer_is_built(adapter, settings):
    with pytest.raises(ValueError):
        adapter(**settings)
