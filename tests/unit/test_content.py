"""Which tables a JPEG gets: the kind of picture read from a sample of its blocks, and the tables for each kind."""

import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from imgopt.adapters.imaging.content import GRID, PHOTO, TILE, Content, Picture, classify, sampled_blocks
from imgopt.adapters.imaging.encoders import Encoders
from imgopt.adapters.imaging.jpeg_tables import (
    GRAIN_OFFSET,
    GRAIN_SLOPE,
    TEXT_OFFSET,
    TEXTURE_OFFSET,
    quantisation_tables,
)
from imgopt.domain.formats import ImageFormat


def weave(width: int = 1200, height: int = 900) -> Image.Image:
    """Cloth: a fine weave over slow tonal changes, detail in every block."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    tone = np.asarray(Image.fromarray(rng.random((9, 12), dtype=np.float32)).resize((width, height), Image.BICUBIC))
    pixels = 60 + 90 * tone + 45 * np.sin(x * 0.9) * np.sin(y * 0.9) + rng.normal(0, 2, (height, width))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")


def smooth_photo(width: int = 1200, height: int = 900) -> Image.Image:
    """A photo-like scene: soft shapes and gradients, a little grain, detail mostly at low frequencies."""
    rng = np.random.default_rng(2)
    canvas = Image.new("RGB", (width, height), (90, 120, 160))
    draw = ImageDraw.Draw(canvas)
    for _ in range(40):
        x, y, size = rng.integers(0, width), rng.integers(0, height), rng.integers(40, 300)
        draw.ellipse((x, y, x + size, y + size), fill=tuple(int(c) for c in rng.integers(20, 235, 3)))
    soft = np.asarray(canvas.filter(ImageFilter.GaussianBlur(6)), dtype=np.float32)
    return Image.fromarray(np.clip(soft + rng.normal(0, 3, soft.shape), 0, 255).astype(np.uint8))


def grainy_photo(sigma: float, width: int = 1200, height: int = 900) -> Image.Image:
    """The smooth photo as a small sensor at high ISO takes it: grain in every pixel and channel."""
    pixels = np.asarray(smooth_photo(width, height), dtype=np.float32)
    grain = np.random.default_rng(3).normal(0, sigma, pixels.shape)
    return Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))


def text_page(width: int = 1200, height: int = 900) -> Image.Image:
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    for top in range(40, height - 40, 22):
        draw.text((40, top), "Cotton shirt, sizes S to XL, in stock, shipping in two days.", fill=(30, 30, 30),
                  font=ImageFont.load_default(16))  # fmt: skip
    return page


def product_on_white(size: int = 1000) -> Image.Image:
    shot = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(shot).rounded_rectangle((300, 200, 700, 850), radius=60, fill=(180, 40, 40))
    return shot.filter(ImageFilter.GaussianBlur(2))


@pytest.mark.parametrize(
    ("draw", "kind"),
    [
        (weave, Content.TEXTURE),
        (lambda: grainy_photo(12), Content.GRAIN),
        (smooth_photo, Content.PHOTO),
        (lambda: grainy_photo(1.5), Content.PHOTO),
        (text_page, Content.TEXT),
        (lambda: text_page().filter(ImageFilter.GaussianBlur(3)), Content.PHOTO),
        (product_on_white, Content.PHOTO),
    ],
    ids=["weave", "grainy-photo", "smooth-photo", "faint-grain", "text-page", "blurred-page", "product-on-white"],
)
def test_textures_grain_and_text_are_told_from_photos_and_product_shots_on_white(draw, kind):
    assert classify(draw()).content is kind


def test_the_more_grain_the_larger_its_high_band_share():
    shares = [classify(grainy_photo(sigma)).high_share for sigma in (8, 12, 20)]

    assert shares == sorted(shares)
    assert shares[0] > 0.2


def test_the_kind_does_not_depend_on_the_mode_or_a_small_crop():
    assert classify(weave().convert("L")).content is Content.TEXTURE
    assert classify(weave().crop((0, 0, 200, 150))).content is Content.TEXTURE
    assert classify(smooth_photo().convert("CMYK")) == PHOTO
    assert classify(weave().quantize(256)).content is Content.TEXTURE


def test_an_image_smaller_than_one_tile_is_a_photo():
    assert classify(weave(TILE - 1, 600)) == PHOTO


def test_the_sample_is_a_bounded_number_of_blocks_on_the_jpeg_grid_whatever_the_size():
    big = Image.new("L", (6000, 4000), 128)
    blocks = sampled_blocks(big)

    assert blocks.shape == (GRID * GRID * (TILE // 8) ** 2, 8, 8)
    assert sampled_blocks(Image.new("L", (100, 40))).shape == (3 * (TILE // 8) ** 2, 8, 8)


def test_photos_keep_the_tuned_tables_and_textures_get_their_own_set_lower_on_libjpegs_scale():
    photo, texture = quantisation_tables(50), quantisation_tables(50, Picture(Content.TEXTURE))

    assert quantisation_tables(50, PHOTO) == photo
    assert texture != photo
    # Set 4 at 50 + TEXTURE_OFFSET on libjpeg's scale: every step at least as coarse as at 50.
    assert all(
        coarse >= fine
        for coarse, fine in zip(
            texture[0], quantisation_tables(50 - TEXTURE_OFFSET, Picture(Content.TEXTURE))[0], strict=True
        )
    )
    assert all(1 <= value <= 255 for table in texture for value in table)


def test_grainier_photos_get_set_four_at_a_higher_step_along_the_fitted_line():
    def step(share: float) -> int:
        """The step on libjpeg's scale quality 50 becomes; a texture's tables at q use q + TEXTURE_OFFSET."""
        return 50 + math.ceil(GRAIN_OFFSET + GRAIN_SLOPE * share)

    light, heavy = Picture(Content.GRAIN, 0.25), Picture(Content.GRAIN, 0.5)
    texture = Picture(Content.TEXTURE)

    assert quantisation_tables(50, light) == quantisation_tables(step(0.25) - TEXTURE_OFFSET, texture)
    assert quantisation_tables(50, heavy) == quantisation_tables(step(0.5) - TEXTURE_OFFSET, texture)
    assert sum(quantisation_tables(50, heavy)[0]) < sum(quantisation_tables(50, light)[0])


def test_a_page_of_text_gets_the_photo_tables_a_little_lower():
    assert quantisation_tables(50, Picture(Content.TEXT, 0.2)) == quantisation_tables(50 + TEXT_OFFSET)
    assert quantisation_tables(1, Picture(Content.TEXT, 0.2)) == quantisation_tables(1)


def jpeg_tables_of(data: bytes) -> list[list[int]]:
    with Image.open(io.BytesIO(data)) as image:
        return [list(image.quantization[index]) for index in (0, 1)]


def test_the_encoder_writes_each_kinds_tables_and_auto_qualitys_search_keeps_the_photo_tables():
    encoders = Encoders(avif_speed=6, png_compress_level=9)

    assert jpeg_tables_of(encoders.encode(weave(), ImageFormat.JPEG, 50, lossless=False)) == quantisation_tables(
        50, Picture(Content.TEXTURE)
    )
    grainy = grainy_photo(12)
    assert (
        jpeg_tables_of(encoders.encode(grainy, ImageFormat.JPEG, 50, lossless=False))
        == quantisation_tables(50, classify(grainy))
        != quantisation_tables(50)
    )
    assert jpeg_tables_of(encoders.encode(smooth_photo(), ImageFormat.JPEG, 50, lossless=False)) == quantisation_tables(
        50
    )
    assert jpeg_tables_of(encoders.encode(text_page(), ImageFormat.JPEG, 50, lossless=False)) == quantisation_tables(48)
    assert jpeg_tables_of(encoders.lossy(ImageFormat.JPEG)(weave(), 50)) == quantisation_tables(50)


def test_a_page_of_text_is_written_progressive_smaller_with_the_same_pixels_and_a_photo_is_not():
    encoders = Encoders(avif_speed=6, png_compress_level=9)
    page = text_page()
    progressive = encoders.encode(page, ImageFormat.JPEG, 50, lossless=False)
    baseline = io.BytesIO()
    page.save(baseline, "JPEG", qtables=quantisation_tables(48), optimize=True, subsampling="4:2:0")

    with Image.open(io.BytesIO(progressive)) as written, Image.open(baseline) as plain:
        assert written.info.get("progressive") and not plain.info.get("progressive")
        assert np.array_equal(np.asarray(written), np.asarray(plain))
    assert len(progressive) < 0.95 * len(baseline.getvalue())
    with Image.open(io.BytesIO(encoders.encode(smooth_photo(), ImageFormat.JPEG, 50, lossless=False))) as photo:
        assert not photo.info.get("progressive")


def test_a_texture_is_written_with_trellis_quantisation_smaller_than_rounding_to_the_same_tables():
    encoders = Encoders(avif_speed=6, png_compress_level=9)
    cloth = weave()
    trellised = encoders.encode(cloth, ImageFormat.JPEG, 50, lossless=False)
    rounded = io.BytesIO()
    cloth.save(rounded, "JPEG", qtables=quantisation_tables(50, Picture(Content.TEXTURE)), optimize=True)

    assert jpeg_tables_of(trellised) == jpeg_tables_of(rounded.getvalue())
    assert len(trellised) < 0.98 * len(rounded.getvalue())  # rounding to the same steps: 4.5% more here
    with Image.open(io.BytesIO(trellised)) as written:
        assert written.size == cloth.size and written.mode == "RGB"
        assert written.layer[0][1:3] == (2, 2) and written.layer[1][1:3] == (1, 1)  # luma whole, chroma halved
        assert not written.applist  # no JFIF, EXIF, XMP or profile: the pixels alone
        assert np.abs(np.asarray(written, dtype=np.float32) - np.asarray(cloth, dtype=np.float32)).mean() < 8


def test_a_texture_keeps_its_mode_and_whole_chroma_from_quality_90():
    encoders = Encoders(avif_speed=6, png_compress_level=9)
    grey = encoders.encode(weave().convert("L"), ImageFormat.JPEG, 50, lossless=False)
    fine = encoders.encode(weave(), ImageFormat.JPEG, 90, lossless=False)

    with Image.open(io.BytesIO(grey)) as written:
        assert written.mode == "L"
    with Image.open(io.BytesIO(fine)) as written:
        assert [layer[1:3] for layer in written.layer] == [(1, 1)] * 3
        assert [list(table) for table in written.quantization.values()] == quantisation_tables(
            90, Picture(Content.TEXTURE)
        )
