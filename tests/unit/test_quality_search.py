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
    chosen = search._corrected(whole, proxy, first)

    assert whole.score(chosen) >= 70 > whole.score(first)
    assert len(whole.asked) <= 3


def test_a_correction_that_overshot_steps_back_to_a_lower_quality_that_still_passes():
    # A whole image whose scores steepen as they rise: the first step, sized by a shallow slope, passes by far.
    proxy = Curve(photo_like)
    whole = Curve(lambda quality: 50 + 0.004 * quality**2)
    search = QualitySearch(70)

    chosen = search._corrected(whole, proxy, 30)

    assert 70 <= whole.score(chosen) <= 72
    assert whole.score(chosen - 3) < 70
