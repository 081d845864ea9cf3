from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from imgopt.domain.errors import InvalidOptions
from imgopt.domain.image_jobs import ImageFailure, ImageJob, RetryPolicy, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.options import ORIGINAL_QUALITY, OptimizationOptions, OutputFormat, Quality

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_default_is_the_originals_job():
    assert OptimizationOptions.parse() == OptimizationOptions(50, None, None, OutputFormat.ORIGINAL)


def test_form_values_are_parsed():
    assert OptimizationOptions.parse("80", " 1200 ", "", "WebP") == OptimizationOptions(
        80, 1200, None, OutputFormat.WEBP
    )


@pytest.mark.parametrize("quality", ["auto", " AUTO "])
def test_auto_quality_is_parsed_from_the_quality_field(quality):
    options = OptimizationOptions.parse(quality, "800")

    assert options == OptimizationOptions(max_width=800, auto_quality=True)


def test_a_number_asks_for_that_quality_not_auto():
    assert OptimizationOptions.parse("80").auto_quality is False


@pytest.mark.parametrize(
    ("text", "quality"),
    [("auto", Quality(auto=True)), (" Auto ", Quality(auto=True)), ("80", Quality(80)), (" 1 ", Quality(1)),
     (100, Quality(100))],
)  # fmt: skip
def test_a_quality_is_a_level_or_auto_and_reads_back_as_written(text, quality):
    assert Quality.parse(text) == quality
    assert Quality.parse(str(quality)) == quality


def test_the_original_quality_is_q50():
    assert (ORIGINAL_QUALITY.level, ORIGINAL_QUALITY.auto) == (50, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "between 1 and 100, got 0"), ("101", "between 1 and 100"), ("", "whole number or auto, got ''"),
     ("7.5", "whole number or auto, got '7.5'"), ("best", "whole number or auto")],
)  # fmt: skip
def test_a_quality_that_is_neither_a_level_nor_auto_is_refused_naming_quality(text, message):
    with pytest.raises(InvalidOptions, match=f"^quality must be .*{message}"):
        Quality.parse(text)


@pytest.mark.parametrize("left_out", [None, "", "  "])
def test_a_quality_left_out_is_the_default_given_and_the_other_fields_are_still_read(left_out):
    options = OptimizationOptions.parse(left_out, "800", None, "webp", default_quality=Quality(auto=True))

    assert options == OptimizationOptions(max_width=800, format=OutputFormat.WEBP, auto_quality=True)
    assert OptimizationOptions.parse(left_out, default_quality=Quality(65)).quality == 65


@pytest.mark.parametrize(("quality", "expected"), [("70", (70, False)), ("auto", (50, True))])
def test_a_quality_named_wins_over_the_default(quality, expected):
    for default in (Quality(auto=True), Quality(30)):
        options = OptimizationOptions.parse(quality, default_quality=default)

        assert (options.quality, options.auto_quality) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quality": "0"}, "quality must be between 1 and 100"),
        ({"quality": "high"}, "quality must be a whole number or auto, got 'high'"),
        ({"max_width": "-5"}, "maxWidth must be a whole number"),
        ({"max_height": "99999"}, "maxHeight must be between 1 and 16384"),
        ({"format": "gif"}, "format must be one of original, jpeg, webp, avif, png"),
    ],
)
def test_bad_options_name_the_field(fields, message):
    with pytest.raises(InvalidOptions, match=message):
        OptimizationOptions.parse(**fields)


def job(attempts: int) -> ImageJob:
    return ImageJob(7, UUID(int=1), 2, 0, "https://x.example/a.jpg", attempts)


def test_a_transient_failure_is_retried_after_minutes_growing_delays_by_default():
    policy = RetryPolicy()

    delays = [
        job(n).failed(ImageFailure("timeout", transient=True), policy, NOW).next_attempt_at - NOW for n in (1, 2, 3)
    ]

    assert delays == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=8)]
    assert job(1).failed(ImageFailure("timeout", transient=True), policy, NOW).status is ImageStatus.PENDING


def test_retry_delays_are_spread_by_a_quarter_either_way_and_capped():
    policy = RetryPolicy(max_attempts=10)

    earliest = policy.next_attempt_at(2, NOW, spread=0.0) - NOW
    latest = policy.next_attempt_at(2, NOW, spread=0.999) - NOW
    capped = policy.next_attempt_at(9, NOW, spread=0.5) - NOW

    assert earliest == timedelta(seconds=90)
    assert timedelta(seconds=149) < latest < timedelta(seconds=150)
    assert capped == timedelta(minutes=30)


def test_a_transient_failure_gives_up_after_the_last_attempt():
    outcome = job(4).failed(ImageFailure("HTTP 503", transient=True), RetryPolicy(max_attempts=4), NOW)

    assert outcome.status is ImageStatus.FAILED
    assert outcome.reason == "HTTP 503 (gave up after 4 attempts)"
    assert outcome.next_attempt_at is None


def test_a_permanent_failure_fails_at_once():
    outcome = job(1).failed(ImageFailure("HTTP 404"), RetryPolicy(), NOW)

    assert (outcome.status, outcome.reason, outcome.next_attempt_at) == (ImageStatus.FAILED, "HTTP 404", None)


def test_a_success_carries_its_output():
    stored = StoredImage("r/7.jpg", "http://h/files/r/7.jpg", ImageResult("image/jpeg", 1000, 400, 10, 10))

    outcome = job(1).succeeded(stored)

    assert (outcome.status, outcome.output) == (ImageStatus.OPTIMIZED, stored)


def test_a_released_job_gives_its_attempt_back():
    released = job(2).released()

    assert (released.status, released.attempts) == (ImageStatus.PENDING, 1)
