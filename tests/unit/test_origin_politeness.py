"""Origins as someone's server, on fakes: Retry-After read, a rest honoured, a slot always given back."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from imgopt.adapters.net.fetcher import retry_after_seconds
from imgopt.adapters.net.politeness import PoliteFetcher
from imgopt.application.ports import FetchedImage, FetchFailed, ImageFetcher, OriginResting, OriginSlot, OriginSlots
from imgopt.bootstrap.settings import Settings, SettingsError
from imgopt.domain.image_jobs import ImageFailure, ImageJob, RetryPolicy
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.origins import OriginLimits, origin_of
from imgopt.domain.sources import Validators

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("99999", 600.0),  # capped
        ("Sun, 06 Dec 2026 12:00:05 GMT", 5.0),
        ("Sun, 06 Dec 2026 11:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-3", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date_and_capped(header, seconds):
    assert retry_after_seconds(header, 600.0, now=NOW) == seconds


def test_a_transient_failure_with_retry_after_is_retried_then_not_on_the_policys_schedule():
    job = ImageJob(7, UUID(int=1), 2, 0, "https://x.example/a.jpg", 1)
    outcome = job.failed(ImageFailure("HTTP 429", True, retry_after=2.0), RetryPolicy(), NOW, spread=0.0)
    assert outcome.status is ImageStatus.PENDING
    assert outcome.next_attempt_at == NOW + timedelta(seconds=2)
    later = job.failed(ImageFailure("HTTP 429", True, retry_after=2.0), RetryPolicy(), NOW, spread=0.99)
    assert NOW + timedelta(seconds=2) < later.next_attempt_at < NOW + timedelta(seconds=2.5)


def test_a_try_that_waited_for_its_origins_turn_does_not_count_as_an_attempt():
    job = ImageJob(7, UUID(int=1), 2, 0, "https://x.example/a.jpg", attempts=4)
    policy = RetryPolicy(max_attempts=4)
    waited = job.failed(ImageFailure("every slot taken", True, charged=False), policy, NOW, spread=0.0)
    tried = job.failed(ImageFailure("HTTP 500", True), policy, NOW, spread=0.0)
    assert (waited.status, waited.attempts) == (ImageStatus.PENDING, 3)
    assert (tried.status, tried.attempts) == (ImageStatus.FAILED, 4)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Shop.Example/p/1.jpg?x=1", "shop.example"),
        ("http://user:pw@shop.example:8080/a.jpg", "shop.example:8080"),
        ("https://[2001:db8::1]:443/a.jpg", "[2001:db8::1]:443"),
        ("https://shop.example#frag", "shop.example"),
    ],
)
def test_an_origin_is_the_host_and_port_of_the_url_without_user_info(url, origin):
    assert origin_of(url) == origin


class Slots(OriginSlots):
    def __init__(self, free: int = 1, resting: float | None = None) -> None:
        self.free, self.resting = free, resting
        self.rests: list[tuple[str, float]] = []
        self.given_back: list[OriginSlot] = []

    def take(self, origin: str) -> OriginSlot | None:
        if self.resting is not None:
            raise OriginResting(origin, self.resting)
        if not self.free:
            return None
        self.free -= 1
        return OriginSlot(origin, self.free)

    def give_back(self, slot: OriginSlot) -> None:
        self.free += 1
        self.given_back.append(slot)

    def rest(self, origin: str, seconds: float) -> None:
        self.rests.append((origin, seconds))


class Answers(ImageFetcher):
    def __init__(self, failure: FetchFailed | None = None) -> None:
        self.failure = failure

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage:
        if self.failure:
            raise self.failure
        return FetchedImage(b"\xff\xd8\xff", "image/jpeg")


def polite(fetcher: ImageFetcher, slots: Slots, backoffs: list[int] | None = None) -> PoliteFetcher:
    clock = iter(range(1000))
    return PoliteFetcher(fetcher, slots, 5.0, (backoffs if backoffs is not None else []).append,
                         monotonic=lambda: float(next(clock)), sleep=lambda seconds: None)  # fmt: skip


def test_a_download_holds_a_slot_of_its_origin_and_gives_it_back():
    slots = Slots()
    polite(Answers(), slots).fetch("https://shop.example/a.jpg")
    assert slots.given_back == [OriginSlot("shop.example", 0)]


def test_a_429_with_retry_after_rests_the_origin_counts_it_and_still_gives_the_slot_back():
    slots, backoffs = Slots(), []
    busy = FetchFailed(ImageFailure("HTTP 429 from shop.example", True, retry_after=2.0), 429)
    with pytest.raises(FetchFailed):
        polite(Answers(busy), slots, backoffs).fetch("https://shop.example/a.jpg")
    assert (slots.rests, backoffs, slots.free) == ([("shop.example", 2.0)], [429], 1)


def test_an_origin_resting_is_not_asked_and_the_image_waits_for_it():
    with pytest.raises(FetchFailed) as failed:
        polite(Answers(), Slots(resting=7.5)).fetch("https://shop.example/a.jpg")
    assert failed.value.failure.transient and failed.value.failure.retry_after == 7.5
    assert not failed.value.failure.charged
    assert "shop.example asked to be left alone" in failed.value.failure.reason


def test_an_origin_whose_slots_stay_taken_fails_the_try_as_transient_and_uncharged_after_the_wait():
    with pytest.raises(FetchFailed) as failed:
        polite(Answers(), Slots(free=0)).fetch("https://shop.example/a.jpg")
    assert failed.value.failure.transient and failed.value.failure.retry_after is None
    assert not failed.value.failure.charged  # a worker that died holding the slots must not use up the attempts
    assert "already has as many downloads as it may have" in failed.value.failure.reason


def test_a_wait_for_a_slot_ends_at_once_when_the_worker_stops():
    fetcher = PoliteFetcher(Answers(), Slots(free=0), 60.0, [].append)
    fetcher.close()
    with pytest.raises(FetchFailed, match="stopped waiting for a download slot of shop.example"):
        fetcher.fetch("https://shop.example/a.jpg")


def test_the_user_agent_names_the_product_and_the_contact_when_one_is_set():
    assert Settings().user_agent.startswith("imgopt/")
    contact = Settings(user_agent_contact="https://ops.example/bot").user_agent
    assert contact.endswith(" (image optimizer; +https://ops.example/bot)")
    with pytest.raises(SettingsError, match="IMGOPT_USER_AGENT_CONTACT must be an http"):
        Settings(user_agent_contact="call me")
    with pytest.raises(SettingsError, match="IMGOPT_ORIGIN_CONCURRENCY must be 1 to 1000"):
        Settings(origin_concurrency=0)


def test_an_operator_can_give_some_origins_another_cap_by_host_port_or_domain():
    limits = OriginLimits.parse(
        4, "cdn.shopify.com=32, *.cloudfront.net=16, *.example.com=2, a.b.example.com=9, x:8443=3"
    )

    assert limits.of(origin_of("https://CDN.shopify.com/s/1.jpg")) == 32
    assert limits.of(origin_of("https://cdn.shopify.com:443/s/1.jpg")) == 32  # a host's cap covers its ports
    assert limits.of(origin_of("https://d111.cloudfront.net/a.jpg")) == 16
    assert limits.of(origin_of("https://cloudfront.net/a.jpg")) == 4  # `*.domain` is the hosts under it only
    assert limits.of(origin_of("https://a.b.example.com/a.jpg")) == 9  # the host named wins over its domain
    assert limits.of(origin_of("https://c.example.com/a.jpg")) == 2
    assert (limits.of("x:8443"), limits.of("x"), limits.of("[::1]:8080")) == (3, 4, 4)
    assert Settings(origin_concurrency_overrides="img.example=7").origin_limits.of("img.example") == 7


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ("cdn.example", "'cdn.example' is not host=N"),
        ("https://cdn.example=8", "is not host=N"),
        ("cdn.example/path=8", "is not host=N"),
        ("cdn.example=0", "N must be 1 to 1000"),
        ("cdn.example=many", "N must be 1 to 1000"),
    ],
)
def test_an_origin_cap_override_that_cannot_be_read_is_refused_naming_the_entry(overrides, says):
    with pytest.raises(SettingsError, match=f"IMGOPT_ORIGIN_CONCURRENCY_OVERRIDES: .*{says}"):
        Settings(origin_concurrency_overrides=overrides)
