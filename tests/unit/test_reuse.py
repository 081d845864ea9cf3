"""Re-uploads cost only what changed: sources remembered per tenant, asked back, reused, never purged under another."""

from datetime import UTC, datetime, timedelta

import pytest

from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.sources import SourceKey, SourcePlan, Validators
from tests.unit.fakes import FixedClock
from tests.unit.world import TENANT_B, World

JPEG = b"\xff\xd8\xff" + b"x" * 97
CHANGED = b"\xff\xd8\xff" + b"y" * 197
URL = "https://o.example/1.jpg"


@pytest.fixture
def w() -> World:
    return World(FixedClock(datetime(2026, 12, 1, tzinfo=UTC)), {URL: JPEG, "https://o.example/2.jpg": JPEG})


def images(w: World, request_id, tenant=None):
    world = w.acting_as(tenant) if tenant else w
    return [image for product in world.status(request_id, details=True).details.products for image in product.images]


def test_a_second_upload_asks_the_origin_with_the_etag_and_on_304_reuses_the_output(w):
    w.fetcher.etags[URL] = '"v1"'
    first = w.upload(f"1,P,{URL}")
    w.process()
    stored = dict(w.storage.files)

    second = w.upload(f"1,P,{URL}")
    w.process()

    assert w.fetcher.asked == [Validators(), Validators('"v1"')]
    assert w.storage.files == stored
    [before], [after] = images(w, first.request_id), images(w, second.request_id)
    assert (after.status, after.reused, after.output_url) == (ImageStatus.OPTIMIZED, True, before.output_url)
    assert not before.reused
    assert w.status(second.request_id).summary.status is RequestStatus.COMPLETED
    csv = b"".join(w.export(second.request_id)).decode().splitlines()
    assert csv[1].endswith(f",{before.output_url}")  # the earlier image's output


def test_the_same_bytes_again_without_validators_reuse_the_output(w):
    first = w.upload(f"1,P,{URL}")
    w.process()

    second = w.upload(f"1,P,{URL}")
    w.process()

    assert len(w.storage.files) == 1
    assert images(w, second.request_id)[0].reused
    assert images(w, second.request_id)[0].output_url == images(w, first.request_id)[0].output_url


def test_changed_bytes_are_optimized_again_into_a_new_output(w):
    w.upload(f"1,P,{URL}")
    w.process()
    w.fetcher.images[URL] = CHANGED

    second = w.upload(f"1,P,{URL}")
    w.process()

    [image] = images(w, second.request_id)
    assert (image.reused, image.result.bytes_in) == (False, len(CHANGED))
    assert len(w.storage.files) == 2


def test_other_options_make_another_output(w):
    w.upload(f"1,P,{URL}")
    w.process()

    second = w.upload(f"1,P,{URL}", options=OptimizationOptions(quality=80))
    w.process()

    assert not images(w, second.request_id)[0].reused
    assert w.fetcher.asked[-1] == Validators()
    assert len(w.storage.files) == 2


def under_producer(w: World, producer: str) -> None:
    """The worker as a new release of its optimizer would start: another producer."""
    w.optimizer.producer = producer
    w.use_cases.claim_images.reset()
    w.claim = w.use_cases.claim_images()


def test_an_output_another_producer_made_is_not_reused_though_the_source_is_unchanged(w):
    w.fetcher.etags[URL] = '"v1"'
    first = w.upload(f"1,P,{URL}")
    w.process()
    under_producer(w, "fake/2 auto=60")

    second = w.upload(f"1,P,{URL}")
    w.process()

    assert w.fetcher.asked == [Validators(), Validators()]  # asked for the bytes, not whether they changed
    [before], [after] = images(w, first.request_id), images(w, second.request_id)
    assert not after.reused and after.output_url != before.output_url
    assert len(w.storage.files) == 2

    third = w.upload(f"1,P,{URL}")
    w.process()

    assert w.fetcher.asked[-1] == Validators('"v1"')
    assert images(w, third.request_id)[0].output_url == after.output_url  # what the new producer made


def test_outputs_of_one_source_under_two_producers_are_two_keys():
    tenant, options = TENANT_B, OptimizationOptions()
    assert SourceKey.of(tenant, URL, options, "pillow/1") != SourceKey.of(tenant, URL, options, "pillow/2")
    assert SourceKey.of(tenant, URL, options, "pillow/1") == SourceKey.of(tenant, URL, options, "pillow/1")


def test_a_fetch_slower_than_the_lease_keeps_its_source_while_its_lease_is_extended(w):
    lease = timedelta(seconds=30)
    claim, extend = ClaimImages(w.uow, w.clock, "w1", lease), ExtendLeases(w.uow, w.clock, "w1", lease)
    w.upload(f"1,P,{URL}")
    [fetching] = claim(1)
    w.upload(f"1,P,{URL}")

    w.clock.advance(seconds=20)
    extend([fetching.id])
    w.clock.advance(seconds=20)  # past the lease taken at claim time, within the extended one
    [other] = claim(1)

    assert fetching.source.holds_fetch
    assert other.source.plan(other.request_id) is SourcePlan.WAIT


def test_a_tenant_never_reuses_what_another_fetched(w):
    w.fetcher.etags[URL] = '"v1"'
    w.upload(f"1,P,{URL}")
    w.process()

    theirs = w.acting_as(TENANT_B).upload(f"1,P,{URL}")
    w.process()

    assert w.fetcher.asked[-1] == Validators()
    [image] = images(w, theirs.request_id, TENANT_B)
    assert not image.reused
    assert len(w.storage.files) == 2


def test_the_same_url_in_many_rows_of_one_upload_is_fetched_once(w):
    receipt = w.upload(*(f"{n},P{n},{URL}" for n in range(1, 51)))

    w.process(batch=8)
    w.clock.advance(seconds=2)  # the others waited in the queue for the first
    w.process(batch=8)

    assert w.fetcher.fetched == [URL]
    found = images(w, receipt.request_id)
    assert {image.status for image in found} == {ImageStatus.OPTIMIZED}
    assert sum(not image.reused for image in found) == 1
    assert len({image.output_url for image in found}) == 1
    assert len(w.storage.files) == 1
    assert w.status(receipt.request_id).summary.status is RequestStatus.COMPLETED


def test_within_one_upload_a_source_fetched_already_is_not_asked_again(w):
    w.fetcher.etags[URL] = '"v1"'
    w.upload(f"1,P,{URL}")
    w.process()

    w.upload(f"1,P,{URL}", f"2,Q,{URL}")
    w.process(batch=1)
    w.clock.advance(seconds=2)
    w.process(batch=1)

    assert w.fetcher.asked == [Validators(), Validators('"v1"')]


def test_purging_the_first_upload_keeps_the_output_the_second_reuses(w):
    first = w.upload(f"1,P,{URL}")
    w.process()
    w.clock.advance(days=20)
    second = w.upload(f"1,P,{URL}")
    w.process()
    w.clock.advance(days=15)

    assert w.purge(timedelta(days=30)) == 1

    assert first.request_id not in w.db.state.requests
    [image] = images(w, second.request_id)
    assert image.output_url.removeprefix("http://imgopt.test/files/") in w.storage.files


def test_the_output_goes_with_the_last_image_pointing_at_it_and_is_then_forgotten(w):
    w.upload(f"1,P,{URL}")
    w.process()
    second = w.upload(f"1,P,{URL}")
    w.process()
    w.clock.advance(days=31)

    assert w.purge(timedelta(days=30)) == 2

    assert w.storage.files == {}
    third = w.upload(f"1,P,{URL}")
    w.process()
    assert not images(w, third.request_id)[0].reused
    assert len(w.storage.files) == 1
    assert second.request_id not in w.db.state.requests


def test_deleting_a_request_keeps_an_output_another_request_reuses(w):
    first = w.upload(f"1,P,{URL}")
    w.process()
    second = w.upload(f"1,P,{URL}")
    w.process()

    w.delete(first.request_id)

    assert len(w.storage.files) == 1
    assert images(w, second.request_id)[0].reused


def test_a_reuse_whose_output_was_purged_meanwhile_is_optimized_again(w):
    w.upload(f"1,P,{URL}")
    w.process()
    second = w.upload(f"1,P,{URL}")
    [job] = w.claim(1)
    outcome = w.process_image(job)
    w.clock.advance(days=31)
    assert w.purge(timedelta(days=30)) == 1
    assert w.storage.files == {}

    w.record([outcome])
    w.process()

    [image] = images(w, second.request_id)
    assert (image.status, image.reused, image.attempts) == (ImageStatus.OPTIMIZED, False, 1)
    assert image.output_url.removeprefix("http://imgopt.test/files/") in w.storage.files


def test_an_image_that_fails_leaves_the_output_it_would_have_reused(w):
    first = w.upload(f"1,P,{URL}")
    w.process()
    w.fetcher.images[URL] = b"<html>moved</html>"

    second = w.upload(f"1,P,{URL}")
    w.process()

    assert images(w, second.request_id)[0].status is ImageStatus.FAILED
    assert images(w, first.request_id)[0].output_url.removeprefix("http://imgopt.test/files/") in w.storage.files


def test_when_the_first_image_of_a_url_fails_for_good_the_others_fetch_on_their_own_at_once(w):
    missing = "https://o.example/gone.jpg"
    receipt = w.upload(*(f"{n},P{n},{missing}" for n in range(1, 11)))

    w.process(batch=4)
    w.clock.advance(seconds=2)
    w.process(batch=4)

    assert {image.status for image in images(w, receipt.request_id)} == {ImageStatus.FAILED}
    assert w.fetcher.fetched == [missing] * 10
