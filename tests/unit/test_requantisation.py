import io

import numpy as np
import pytest
from PIL import Image

from imgopt.adapters.imaging.jpeg_tables import quantisation_tables
from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.requantisation import requantised_quality, source_quality
from imgopt.domain.options import OptimizationOptions, OutputFormat


def photo(width: int = 640, height: int = 480) -> Image.Image:
    """Soft gradients and a little grain: a photo to the classifier."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([90 + 60 * np.sin(x / 70), 120 + 50 * np.cos(y / 55), 100 + 40 * np.sin((x + y) / 90)], -1)
    return Image.fromarray(np.clip(pixels + rng.normal(0, 3, pixels.shape), 0, 255).astype(np.uint8))


def jpeg(quality: int, image: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (image or photo()).save(out, "JPEG", quality=quality, subsampling="4:2:0")
    return out.getvalue()


def tables_of(data: bytes) -> dict[int, list[int]]:
    with Image.open(io.BytesIO(data)) as image:
        return {index: list(table) for index, table in image.quantization.items()}


@pytest.mark.parametrize("quality", [20, 45, 50, 59, 60, 70, 75, 76, 90, 98])
def test_a_libjpeg_sources_quality_is_read_back_from_its_luma_table(quality):
    assert source_quality(tables_of(jpeg(quality))) == quality


def test_a_source_without_a_luma_table_has_no_quality():
    assert source_quality({}) is None
    assert source_quality({0: [1, 2, 3]}) is None


@pytest.mark.parametrize(
    ("source", "written"), [(45, 50), (59, 50), (60, 54), (65, 54), (75, 54), (76, 50), (80, 50), (95, 50)]
)
def test_at_the_default_quality_only_sources_saved_at_60_to_75_are_written_four_steps_finer(source, written):
    assert requantised_quality(50, tables_of(jpeg(source))) == written


def test_the_band_follows_the_callers_quality_by_the_ratio_of_steps():
    # At 80 libjpeg's steps are 0.4 of 50's: sources with 0.5-0.8 of that (quality 84-90) are the coarse ones.
    assert requantised_quality(80, tables_of(jpeg(86))) == 82
    assert requantised_quality(80, tables_of(jpeg(70))) == 80
    assert requantised_quality(80, tables_of(jpeg(95))) == 80
    assert requantised_quality(100, tables_of(jpeg(98))) == 100


def output_tables(data: bytes, options: OptimizationOptions) -> list[list[int]]:
    encoded = PillowOptimizer().optimize(data, options).data
    tables = tables_of(encoded)
    return [tables[0], tables[1]]


def test_the_optimizer_writes_a_coarse_jpeg_source_finer_at_its_own_size_and_no_other():
    assert output_tables(jpeg(70), OptimizationOptions()) == quantisation_tables(54)
    assert output_tables(jpeg(90), OptimizationOptions()) == quantisation_tables(50)
    # Resized, the source's blocks are gone: nothing to make up for.
    assert output_tables(jpeg(70), OptimizationOptions(max_width=320)) == quantisation_tables(50)
    # Another format's source has no steps of its own.
    png = io.BytesIO()
    Image.open(io.BytesIO(jpeg(70))).save(png, "PNG")
    assert output_tables(png.getvalue(), OptimizationOptions(format=OutputFormat.JPEG)) == quantisation_tables(50)
