"""The quality search's arithmetic on score curves written down: the lowest quality found, in few encodings."""

import pytest

from imgopt.adapters.imaging.auto_quality import QualitySearch


class Curve:
    """Scores of a quality, counting the qualities asked for (each is an encoding in real use)."""

    def __init__(self, score) -> None:
        self.score, self.asked = score, set()

    def __call__(self, quality: int) -> float:
        self.asked.add(quality)
        return self.score(quality)


def photo_like(quality: int) -> float:
    # Concave, as SSIMULACRA2 over JPEG quality is: steep at low qualities, flat near the top.
    return 100 - 2400 / (quality + 25)


@pytest.mark.parametrize("goal", [35.0, 50.0, 60.0, 71.5, 79.0])
def test_the_search_finds_the_lowest_quality_reaching_the_goal_in_few_encodings(goal):
    curve = Curve(photo_like)

    found = QualitySearch(70).lowest_reaching(curve, goal)

    assert photo_like(found) >= goal > photo_like(found - 1)
    assert len(curve.asked) <= 7  # halving from 10-95 takes 8


def test_a_goal_the_highest_quality_misses_gives_the_highest():
    assert QualitySearch(70).lowest_reaching(Curve(lambda quality: 50.0), 70) == 95


def test_a_goal_the_lowest_quality_reaches_gives_the_lowest():
    assert QualitySearch(70).lowest_reaching(Curve(lambda quality: 99.0), 70) == 10


def test_a_whole_image_scoring_below_the_mosaic_is_corrected_upwards_until_it_reaches_the_target():
    # The mosaic overstates the whole by ten points, as on a product shot's smooth backdrop.
    proxy, whole = Curve(photo_like), Curve(lambda quality: photo_like(quality) - 10)
    search = QualitySearch(70)

    first = search.lowest_reaching(proxy, 70 + 1.5)
    chosen = search._corrected(whole, proxy, first, 70)

    assert whole.score(chosen) >= 70 > whole.score(first)
    assert len(whole.asked) <= 3


def test_a_correction_that_overshot_steps_back_to_a_lower_quality_that_still_passes():
    # A whole image whose scores steepen as they rise: the first step, sized by a shallow slope, passes by far.
    proxy = Curve(photo_like)
    whole = Curve(lambda quality: 50 + 0.004 * quality**2)
    search = QualitySearch(70)

    chosen = search._corrected(whole, proxy, 30, 70)

    assert 70 <= whole.score(chosen) <= 72
    assert whole.score(chosen - 3) < 70


def test_without_a_mosaic_the_first_correction_assumes_the_smooth_images_slope_and_reaches_a_raised_goal():
    # A product shot's whole, scored in bands: no mosaic is asked, and the estimate must reach the goal
    # (the target and the bands' margin), not the target alone.
    whole = Curve(lambda quality: 55 + 0.4 * quality)
    search = QualitySearch(70)

    chosen = search._corrected(whole, None, 30, 71)

    lowest = 40  # 55 + 0.4 * 40 = 71
    assert whole.score(chosen) >= 71
    # The assumed slope (`BAND_SLOPE`, 0.35) is shallower than this curve's, so the step overshoots, by less than the
    # `EXCESS` (2 points) that would send it one step back.
    assert lowest <= chosen <= lowest + 5
    assert len(whole.asked) <= 3


# Near where photos end (q 59-62), few encodings; far from it, more.
@pytest.mark.parametrize(("goal", "most"), [(72.5, 3), (70.0, 3), (50.0, 6), (79.0, 6)])
def test_the_mosaic_only_search_lands_on_or_just_above_the_lowest_quality_in_few_encodings(goal, most):
    curve = Curve(photo_like)

    found, score = QualitySearch(70).predicted(curve, goal)

    lowest = next(quality for quality in range(10, 96) if photo_like(quality) >= goal)
    assert lowest <= found <= lowest + 1
    assert photo_like(found) >= goal
    assert score == pytest.approx(photo_like(found), abs=0.5)  # interpolated when not encoded
    assert len(curve.asked) <= most


def test_the_mosaic_only_search_gives_the_ends_of_the_range_when_the_goal_lies_beyond_them():
    search = QualitySearch(70)

    assert search.predicted(Curve(lambda quality: 50.0), 70)[0] == 95
    assert search.predicted(Curve(lambda quality: 99.0), 70)[0] == 10


def test_the_mosaic_only_search_on_a_steep_curve_stays_within_its_trials():
    # Heavy grain: the score climbs 1-2 a quality step and the goal lies in the eighties.
    curve = Curve(lambda quality: 30 + 0.0075 * quality**2)

    found, _ = QualitySearch(70).predicted(curve, 72.5)

    assert 30 + 0.0075 * found**2 >= 72.5 > 30 + 0.0075 * (found - 2) ** 2
    assert len(curve.asked) <= 6


def test_a_first_mosaic_score_just_below_the_goal_is_stepped_up_without_another_encoding():
    # A photo's mosaic near q60: 0.55 a quality step, the first score 0.8 short of the goal.
    curve = Curve(lambda quality: 71.7 + 0.55 * (quality - 60))

    found, score = QualitySearch(70).predicted(curve, 72.5)

    assert curve.asked == {60}
    assert found == 63  # the shallowest slope measured there, 0.35, says three steps; two would do
    assert curve.score(found) >= 72.5 and score >= 72.5
