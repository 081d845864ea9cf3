"""The benchmark suite's arithmetic: interleaving, paired ratios, goals and SSIM; how it decodes what it scores."""

import io

import numpy as np
from PIL import Image

from bench.encoders import Point, bits_per_pixel_at
from bench.perceptual import no_worse, pixels_of, rgb
from bench.result import Goal
from bench.ssim import ssim
from bench.stats import interleave, paired_ratios, percentile
from imgopt.adapters.imaging.ssimulacra2 import Ssimulacra2
from tests.support import corpus_bytes


def test_interleave_rotates_which_subject_goes_first():
    order = []
    runs = {name: (lambda name=name: order.append(name) or {"x": 1.0}) for name in ("a", "b", "c")}

    samples = interleave(runs, rounds=3)

    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert all(len(values) == 3 for values in samples.values())


def test_ratios_pair_the_samples_of_one_round():
    assert paired_ratios([10.0, 30.0], [5.0, 10.0]) == [2.0, 3.0]


def test_percentile_interpolates_between_samples():
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([0.0, 10.0], 0.99) == 9.9


def test_goals_say_whether_and_by_how_much_they_are_met():
    at_least = Goal(">=", 1.0)
    under = Goal("<", 300)

    assert at_least.describe(1.2) == "met, 20% above"
    assert at_least.describe(0.63) == "missed, 37% short"
    assert under.describe(150) == "met, 50% under"
    assert under.describe(600) == "missed, 100% over"
    assert Goal("<=", 1.0).describe(1.0001) == "missed, 0.01% over"


def test_ssim_is_one_for_identical_images_and_falls_as_noise_grows():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(64, 80)).astype(np.float32)

    def noisy(sigma: float) -> np.ndarray:
        return np.clip(image + rng.normal(0, sigma, size=image.shape), 0, 255).astype(np.float32)

    assert ssim(image, image) == 1.0
    assert 1.0 > ssim(image, noisy(10)) > ssim(image, noisy(40)) > 0.0


def test_the_share_of_images_no_worse_than_the_reference_and_the_smallest_margin():
    perceived = {"imgopt": [70.0, 65.5, 80.0], "sharp": [69.0, 65.5, 80.5]}

    verdict = no_worse(perceived, {}, "imgopt", "sharp")

    assert verdict.value == 2 / 3
    assert verdict.note == "smallest margin -0.50"
    assert verdict.met is False


def test_a_curve_is_read_between_its_points_at_a_given_score():
    points = [Point(40, 1.0, 60.0, 5.0), Point(60, 2.0, 70.0, 5.0), Point(50, 1.5, 64.0, 5.0)]

    assert bits_per_pixel_at(points, 67.0) == 1.75


def test_a_cmyk_source_is_scored_as_its_profile_shows_it_as_the_service_converts_it():
    data = corpus_bytes("cmyk.jpg")
    with Image.open(io.BytesIO(data)) as source:
        naive = np.asarray(source.convert("RGB"))
        shown = pixels_of(source)
    converted = io.BytesIO()
    Image.fromarray(shown).save(converted, "JPEG", quality=95)  # sRGB, as imgopt writes it

    assert np.abs(shown.astype(int) - naive.astype(int)).mean() > 5  # the profile moved the colours
    assert Ssimulacra2(rgb(data)).score(rgb(converted.getvalue())) > 80
