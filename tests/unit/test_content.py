"""Which tables a JPEG gets: the kind of picture read from a sample of its blocks, and the tables for each kind."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from imgopt.adapters.imaging.content import GRID, TILE, Content, classify, sampled_blocks
from imgopt.adapters.imaging.encoders import Encoders
from imgopt.adapters.imaging.jpeg_tables import TEXTURE_OFFSET, quantisation_tables
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


def text_page(width: int = 1200, height: int = 900) -> Image.Image:
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    for top in range(40, height - 40, 28):
        draw.text((40, top), "Cotton shirt, sizes S to XL, in stock, shipping in two days.", fill=(30, 30, 30),
                  font=ImageFont.load_default(20))  # fmt: skip
    return page


def product_on_white(size: int = 1000) -> Image.Image:
    shot = Image.new("RGB", (size, size), "white")
    ImageDraw.Draw(shot).rounded_rectangle((300, 200, 700, 850), radius=60, fill=(180, 40, 40))
    return shot.filter(ImageFilter.GaussianBlur(2))


@pytest.mark.parametrize(
    ("draw", "kind"),
    [
        (weave, Content.TEXTURE),
        (smooth_photo, Content.PHOTO),
        (text_page, Content.PHOTO),
        (product_on_white, Content.PHOTO),
    ],
    ids=["weave", "smooth-photo", "text-page", "product-on-white"],
)
def test_a_texture_is_told_from_a_photo_a_page_of_text_and_a_product_on_white(draw, kind):
    assert classify(draw()) is kind


def test_the_kind_does_not_depend_on_the_mode_or_a_small_crop():
    assert classify(weave().convert("L")) is Content.TEXTURE
    assert classify(weave().crop((0, 0, 200, 150))) is Content.TEXTURE
    assert classify(smooth_photo().convert("CMYK")) is Content.PHOTO


def test_an_image_smaller_than_one_tile_is_a_photo():
    assert classify(weave(TILE - 1, 600)) is Content.PHOTO


def test_the_sample_is_a_bounded_number_of_blocks_on_the_jpeg_grid_whatever_the_size():
    big = Image.new("L", (6000, 4000), 128)
    blocks = sampled_blocks(big)

    assert blocks.shape == (GRID * GRID * (TILE // 8) ** 2, 8, 8)
    assert sampled_blocks(Image.new("L", (100, 40))).shape == (3 * (TILE // 8) ** 2, 8, 8)


def test_photos_keep_the_tuned_tables_and_textures_get_their_own_set_lower_on_libjpegs_scale():
    photo, texture = quantisation_tables(50), quantisation_tables(50, Content.TEXTURE)

    assert quantisation_tables(50, Content.PHOTO) == photo
    assert texture != photo
    # Set 4 at 50 + TEXTURE_OFFSET on libjpeg's scale: every step at least as coarse as at 50.
    assert all(
        coarse >= fine
        for coarse, fine in zip(texture[0], quantisation_tables(50 - TEXTURE_OFFSET, Content.TEXTURE)[0], strict=True)
    )
    assert all(1 <= value <= 255 for table in texture for value in table)


def jpeg_tables_of(data: bytes) -> list[list[int]]:
    with Image.open(io.BytesIO(data)) as image:
        return [list(image.quantization[index]) for index in (0, 1)]


def test_the_encoder_writes_each_kinds_tables_and_auto_qualitys_search_keeps_the_photo_tables():
    encoders = Encoders(avif_speed=6, png_compress_level=9)

    assert jpeg_tables_of(encoders.encode(weave(), ImageFormat.JPEG, 50, lossless=False)) == quantisation_tables(
        50, Content.TEXTURE
    )
    assert jpeg_tables_of(encoders.encode(smooth_photo(), ImageFormat.JPEG, 50, lossless=False)) == quantisation_tables(
        50
    )
    assert jpeg_tables_of(encoders.lossy(ImageFormat.JPEG)(weave(), 50)) == quantisation_tables(50)
