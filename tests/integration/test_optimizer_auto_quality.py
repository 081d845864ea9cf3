"""quality=auto: per image, the lowest quality that reaches a SSIMULACRA2 target, for both adapters."""

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from imgopt.adapters.imaging.auto_quality import (
    BAND_MARGIN,
    BANDS,
    SMOOTH,
    QualitySearch,
    decoded,
    pixels,
    sample,
    smooth_share,
)
from imgopt.adapters.imaging.encoders import Encoders
from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2, ssimulacra2
from imgopt.domain.formats import ImageFormat
from imgopt.domain.options import OptimizationOptions, OutputFormat
from tests.support import CORPUS, corpus_bytes

AUTO = OptimizationOptions(max_width=640, auto_quality=True)


def as_array(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("fmt", [OutputFormat.JPEG, OutputFormat.WEBP])
def test_auto_quality_reaches_the_target_on_the_whole_image_and_says_what_it_chose(optimizer, fmt):
    data = corpus_bytes("flowers.jpeg")

    result = optimizer.optimize(data, OptimizationOptions(max_width=960, format=fmt, auto_quality=True))

    # The same pipeline written losslessly is what the output is judged against.
    lossless = optimizer.optimize(data, OptimizationOptions(max_width=960, format=OutputFormat.PNG))
    assert 10 <= result.result.quality <= 95
    assert result.result.score >= 70
    assert ssimulacra2(as_array(lossless.data), as_array(result.data)) >= 68


# Real photos of several kinds, small enough to keep the test quick; the wider ones take the mosaic path.
REAL = [
    ("photo-2725x2225.jpg", OptimizationOptions(max_width=900, format=OutputFormat.JPEG, auto_quality=True)),
    ("flowers.jpeg", OptimizationOptions(max_width=900, format=OutputFormat.JPEG, auto_quality=True)),
    ("photo.webp", OptimizationOptions(format=OutputFormat.JPEG, auto_quality=True)),
    ("photo.webp", OptimizationOptions(format=OutputFormat.WEBP, auto_quality=True)),
    ("exif-orientation-6.jpg", OptimizationOptions(auto_quality=True)),
    ("cmyk.jpg", OptimizationOptions(auto_quality=True)),
]


@pytest.mark.parametrize(("name", "options"), REAL, ids=[f"{name}-{options.format.value}" for name, options in REAL])
def test_every_auto_output_of_real_photos_reaches_the_target_scored_whole_at_full_size(optimizer, name, options):
    data = corpus_bytes(name)

    result = optimizer.optimize(data, options)

    lossless = optimizer.optimize(data, replace(options, format=OutputFormat.PNG, auto_quality=False))
    assert (result.result.width, result.result.height) == (lossless.result.width, lossless.result.height)
    assert ssimulacra2(as_array(lossless.data), as_array(result.data)) >= 70
    assert result.result.score >= 70


def test_a_higher_target_costs_more_quality_and_bytes(adapter):
    data = corpus_bytes("flowers.jpeg")

    high = adapter(auto_quality_target=85).optimize(data, AUTO)
    default = adapter().optimize(data, AUTO)

    assert high.result.quality > default.result.quality
    assert len(high.data) > len(default.data)
    assert high.result.score >= 85 > default.result.score


def test_a_given_quality_reports_no_choice(optimizer):
    result = optimizer.optimize(corpus_bytes("flowers.jpeg"), OptimizationOptions(max_width=960, quality=70))

    assert (result.result.quality, result.result.score) == (None, None)


def test_a_lossless_output_has_no_quality_to_choose(optimizer):
    options = OptimizationOptions(max_width=512, format=OutputFormat.PNG, auto_quality=True)

    result = optimizer.optimize(corpus_bytes("paper-rgba-2048x1536.png"), options)

    assert (result.result.media_type, result.result.quality, result.result.score) == ("image/png", None, None)


def test_the_search_finds_the_lowest_quality_that_reaches_the_target_on_the_sample():
    image = Image.open(CORPUS / "photo-2725x2225.jpg").convert("RGB").crop((1024, 1024, 1536, 1536))
    encode = Encoders(avif_speed=6, png_compress_level=9).lossy(ImageFormat.JPEG)

    choice, data = QualitySearch(70)(image, encode)

    source = Ssimulacra2(pixels(image))
    assert choice.score == pytest.approx(source.score(decoded(data, 3)))
    assert choice.score >= 70
    assert source.score(decoded(encode(image, choice.quality - 1), 3)) < 70


def test_the_score_reported_is_the_whole_images_not_the_samples():
    shot = Image.open(CORPUS / "paper-rgba-2048x1536.png").convert("RGB").reduce(2)
    encode = Encoders(avif_speed=6, png_compress_level=9).lossy(ImageFormat.JPEG)

    choice, data = QualitySearch(70)(shot, encode)

    assert sample(shot).size == (768, 768) != shot.size
    assert Ssimulacra2(pixels(shot)).score(decoded(data, 3)) == pytest.approx(choice.score)
    assert choice.score >= 70


def test_a_calibrated_photo_takes_the_mosaics_choice_and_reaches_the_target_scored_whole():
    photo = Image.open(CORPUS / "photo-2725x2225.jpg").convert("RGB").crop((0, 0, 1600, 1200))
    encode = Encoders(avif_speed=6, png_compress_level=9).lossy(ImageFormat.JPEG)

    choice, data = QualitySearch(70)(photo, encode, calibrated=True)

    assert smooth_share(photo) < SMOOTH
    assert data == encode(photo, choice.quality)
    assert choice.score >= 72.5  # the mosaic's, asked for the margin above the target
    assert Ssimulacra2(pixels(photo)).score(decoded(data, 3)) >= 70


def test_an_image_with_wide_smooth_areas_is_scored_whole_even_when_calibrated():
    # A gradient backdrop, as a product shot's: the mosaic overstates its whole by up to 16 points. With
    # JPEG the whole's finest scale is scored in bands, an estimate asked for the margin above the target.
    ramp = np.linspace(60, 200, 1400, dtype=np.float32)[None, :, None].repeat(1000, axis=0).repeat(3, axis=2)
    shot = Image.fromarray(ramp.astype(np.uint8))
    encode = Encoders(avif_speed=6, png_compress_level=9).lossy(ImageFormat.JPEG)

    choice, data = QualitySearch(70)(shot, encode, calibrated=True)

    exact = Ssimulacra2(pixels(shot)).score(decoded(data, 3))
    assert smooth_share(shot) > SMOOTH
    assert Ssimulacra2(pixels(shot), BANDS).score(decoded(data, 3)) == pytest.approx(choice.score)
    assert choice.score >= 70 + BAND_MARGIN
    assert exact >= 70
    assert exact == pytest.approx(choice.score, abs=BAND_MARGIN)


def test_an_image_with_wide_smooth_areas_is_scored_exactly_whole_for_other_formats():
    ramp = np.linspace(60, 200, 1400, dtype=np.float32)[None, :, None].repeat(1000, axis=0).repeat(3, axis=2)
    shot = Image.fromarray(ramp.astype(np.uint8))
    encode = Encoders(avif_speed=6, png_compress_level=9).lossy(ImageFormat.WEBP)

    choice, data = QualitySearch(70)(shot, encode)

    assert Ssimulacra2(pixels(shot)).score(decoded(data, 3)) == pytest.approx(choice.score)
    assert choice.score >= 70


@pytest.mark.parametrize("target", [0, 100, -5])
def test_a_target_outside_the_scores_scale_is_refused(adapter, target):
    with pytest.raises(ValueError, match="between 0 and 100"):
        adapter(auto_quality_target=target)
