"""SSIMULACRA2 against the `ssimulacra2` package, and against what the metric promises, on real photos."""

import io

import numpy as np
import pytest
import ssimulacra2.ssimulacra2 as package
from PIL import Image

from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2, bands, ssimulacra2
from imgopt.adapters.imaging.ssimulacra2_planes import blur, gaussian_taps, halved, linear_rgb, xyb_planes
from tests import ssimulacra2_reference as reference
from tests.support import CORPUS


def jpeg(image: Image.Image, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    # The centre 1024x768 of the corpus photo: every one of the six scales, and quick.
    return Image.open(CORPUS / "photo-2725x2225.jpg").convert("RGB").crop((850, 728, 1874, 1496))


def package_score(source: np.ndarray, candidate: np.ndarray, folder) -> float:
    Image.fromarray(source).save(folder / "source.png")
    Image.fromarray(candidate).save(folder / "candidate.png")
    return package.compute_ssimulacra2(folder / "source.png", folder / "candidate.png")


def libjxl_blur(image: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    return np.moveaxis(reference.blur(np.moveaxis(image, -1, 0).astype(np.float32)), 0, -1)


def libjxl_halved(image: np.ndarray, fx: int, fy: int) -> np.ndarray:
    return np.moveaxis(reference.halved(np.moveaxis(image, -1, 0)), 0, -1)


@pytest.mark.parametrize("quality", [20, 70])
def test_scores_agree_with_the_ssimulacra2_package_once_its_blur_and_halving_are_libjxls(
    photo, quality, tmp_path, monkeypatch
):
    source, candidate = np.asarray(photo), jpeg(photo, quality)
    # The package blurs with a true Gaussian mirrored at the edges and averages fewer pixels at odd edges;
    # libjxl's recursive Gaussian sees zeros beyond the edges and its halving repeats the last pixel.
    monkeypatch.setattr(package, "blur_image", libjxl_blur)
    monkeypatch.setattr(package, "downsample", libjxl_halved)

    score = ssimulacra2(source, candidate)

    assert score == pytest.approx(package_score(source, candidate, tmp_path), abs=0.02)


def test_the_package_as_published_differs_from_libjxl_by_its_blur(photo, tmp_path):
    source, candidate = np.asarray(photo), jpeg(photo, 35)

    score, theirs = ssimulacra2(source, candidate), package_score(source, candidate, tmp_path)

    assert 0.1 < abs(score - theirs) < 3


def test_the_blur_is_a_normalised_symmetric_gaussian_of_sigma_one_and_a_half_with_zeros_beyond_the_edges():
    line = np.zeros((21, 21), dtype=np.float32)
    line[:, 10] = 1
    flat = np.ones((30, 30), dtype=np.float32)

    across = blur(line)[10]
    plateau = blur(flat)

    offsets = np.arange(-10, 11)
    gaussian = np.exp(-(offsets**2) / (2 * 1.5**2)) / (1.5 * np.sqrt(2 * np.pi))
    assert np.count_nonzero(across) == 9
    assert np.allclose(across, across[::-1])
    assert across.sum() == pytest.approx(1, abs=1e-6)
    assert np.abs(across - gaussian).max() < 0.01
    assert plateau[15, 15] == pytest.approx(1, abs=1e-6)
    assert plateau[0, 15] < 0.8  # zeros beyond the edge, as libjxl's recursion starts from zero


def test_an_image_scores_one_hundred_against_itself(photo):
    pixels = np.asarray(photo)

    assert ssimulacra2(pixels, pixels) == pytest.approx(100)


def test_lower_jpeg_quality_scores_lower_and_the_published_anchors_hold(photo):
    source = Ssimulacra2(np.asarray(photo))

    scores = [source.score(jpeg(photo, quality)) for quality in (10, 20, 35, 70, 90)]

    assert scores == sorted(scores)
    # The tool's scale, on average over photos: libjpeg-turbo 4:2:0 at quality 20 about 30 ("low"), 35 about 50
    # ("medium"), 70 about 70 ("high"), 90 (4:4:4) about 85 ("excellent"); one photo lands near, not on, them.
    assert [round(score, -1) for score in scores[1:]] == pytest.approx([30, 50, 70, 85], abs=10)


def test_colour_hidden_under_full_transparency_does_not_count():
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[..., :3] = 120
    rgba[16:48, 16:48, 3] = 255
    recoloured = rgba.copy()
    recoloured[rgba[..., 3] == 0, :3] = (255, 0, 0)
    damaged = rgba.copy()
    damaged[20:40, 20:40, :3] = (255, 0, 0)

    source = Ssimulacra2(rgba)

    assert source.score(recoloured) == pytest.approx(100)
    assert source.score(damaged) < 50


def test_images_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match="one size"):
        ssimulacra2(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 17, 3), np.uint8))


@pytest.mark.parametrize("shape", [(21, 21), (3, 37, 53), (3, 200, 1), "photo"])
def test_the_blur_is_scipys_correlation_with_zeros_beyond_the_edges_to_the_last_place(photo, shape):
    # scipy (a bench and test tool, no longer a dependency) was the blur, then libvips bit for bit; now OpenCV.
    from scipy.ndimage import correlate1d

    if shape == "photo":
        planes = xyb_planes(linear_rgb(np.asarray(photo)))
    else:
        planes = np.random.default_rng(19).random(shape, dtype=np.float32) * 2 - 0.5
    taps = gaussian_taps()

    expected = correlate1d(correlate1d(planes, taps, axis=-1, mode="constant"), taps, axis=-2, mode="constant")

    assert np.array_equal(reference.blur(planes), expected)
    assert blur(planes).dtype == blur(planes, exact=False).dtype == np.float32
    assert np.abs(blur(planes) - expected).max() <= 2 * np.finfo(np.float32).eps
    assert np.abs(blur(planes, exact=False) - expected).max() <= 8 * np.finfo(np.float32).eps


@pytest.mark.parametrize("shape", [(8, 8), (7, 8), (8, 7), (7, 7), (1, 1), (5, 1)])
def test_halving_repeats_the_last_row_and_column_of_an_odd_side_as_padding_would(shape):
    pixels = np.random.default_rng(7).random((*shape, 3), dtype=np.float32)
    height, width = shape

    padded = np.pad(pixels, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    blocks = padded[0::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 0::2] + padded[1::2, 1::2]

    assert np.allclose(halved(pixels), blocks * np.float32(0.25), rtol=0, atol=1e-7)


def test_xyb_is_the_reference_ports_to_float_rounding(photo):
    pixels = np.asarray(photo)

    planes = xyb_planes(linear_rgb(pixels))

    # X is seven times a difference of cube roots, each a unit or so in the last place off numpy's cbrt.
    assert np.abs(planes - reference.positive_xyb(reference.linear_planes(pixels))).max() < 2e-6


def picture(name: str, mode: str) -> Image.Image:
    image = Image.open(CORPUS / name).convert(mode)
    if name == "photo-2725x2225.jpg":  # two in three pixels, so the test stays quick: odd sides, all six scales
        return image.crop((0, 0, 1817, 1483))
    return image


@pytest.mark.parametrize(
    ("name", "mode"),
    [("photo-2725x2225.jpg", "RGB"), ("flowers.jpeg", "RGB"), ("small-320x240.jpg", "RGB"), ("photo.webp", "RGB")]
    + [("paper-rgba-2048x1536.png", "RGBA")],
)
def test_scores_are_the_step_by_step_ports_to_float_rounding(name, mode):
    # The fast scorer skips the terms weighed zero and runs on OpenCV; the port it replaced is the reference.
    image = picture(name, mode)
    pixels = np.asarray(image)
    source, slow = Ssimulacra2(pixels), reference.Ssimulacra2(pixels)

    for quality in (25, 60, 90):
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
        candidate = np.asarray(Image.open(buffer).convert(mode))
        if mode == "RGBA":
            candidate = candidate.copy()
            candidate[..., 3] = pixels[..., 3]
        assert source.score(candidate) == pytest.approx(slow.score(candidate), abs=0.02)


def test_a_tiny_image_with_fewer_scales_weighs_its_terms_as_the_reference_does():
    pixels = np.random.default_rng(3).integers(0, 256, (40, 23, 3), dtype=np.uint8)
    noisy = np.clip(pixels + np.random.default_rng(4).normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)

    assert ssimulacra2(pixels, noisy) == pytest.approx(reference.ssimulacra2(pixels, noisy), abs=0.02)


@pytest.mark.parametrize("sampled", [(64, 64), (48, 48)])
def test_bands_that_tile_the_finest_scale_give_the_whole_images_score(photo, sampled):
    # 768 rows in 12 or 16 bands, each compared on its own with its blur's margins: every row counts
    # once, as the whole's, so the score is the whole's to float rounding.
    pixels = np.asarray(photo)
    pieces = bands(pixels.shape[0], sampled)
    candidate = jpeg(photo, 30)

    assert len(pieces) == pixels.shape[0] // sampled[0]
    assert Ssimulacra2(pixels, sampled).score(candidate) == pytest.approx(ssimulacra2(pixels, candidate), abs=1e-3)


def test_sampled_bands_are_spread_over_the_picture_and_count_only_their_own_rows():
    pieces = bands(1600, (16, 64))
    counted = [(rows.start + inner.start, rows.start + inner.stop) for rows, inner in pieces]

    assert len(pieces) == 25
    assert counted[0][0] == 0 and counted[-1][1] == 1600
    assert all(stop - start == 16 for start, stop in counted)
    assert all(later[0] - earlier[1] >= 40 for earlier, later in zip(counted, counted[1:], strict=False))
    assert all(rows.start >= 0 and rows.stop <= 1600 and rows.stop - rows.start <= 16 + 8 for rows, _ in pieces)
    assert bands(1600, None) == [(slice(0, 1600), slice(0, 1600))]


def test_a_sampled_score_estimates_the_whole_of_a_product_shot_within_a_point():
    # A bottle on a smooth sweep with grain: the bands read the whole to within the margin auto allows.
    y, x = np.mgrid[0:1200, 0:1200].astype(np.float32) / 1200
    backdrop = np.stack([200 + 40 * y - 20 * x, 210 + 30 * y, 235 - 25 * y + 10 * x], axis=-1)
    backdrop[200:900, 450:750] = np.array([50, 90, 160]) * (1 + 0.5 * np.sin(np.linspace(0, np.pi, 300)))[None, :, None]
    noisy = backdrop + np.random.default_rng(5).normal(0, 1.0, backdrop.shape)
    shot = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    pixels = np.asarray(shot)

    for quality in (25, 40, 60):
        candidate = jpeg(shot, quality)
        assert Ssimulacra2(pixels, (16, 64)).score(candidate) == pytest.approx(ssimulacra2(pixels, candidate), abs=1.0)
