import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks

from imgopt.application.use_cases.claiming import ClaimImages
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import FailureClass, ImageFailure, RetryPolicy, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.webhooks import DeliveryStatus, WebhookFormat
from tests.unit.fakes import FixedClock
from tests.unit.world import World

JPEG = b"\xff\xd8\xff" + b"x" * 97
STORED = StoredImage("k.jpg", "http://imgopt.test/files/k.jpg", ImageResult("image/jpeg", 100, 50, 4, 3))


@pytest.fixture
def world():
    def make(images: dict, statuses: list | None = None) -> World:
        # Receivers check signature timestamps against real time.
        return World(FixedClock(datetime.now(UTC)), images, statuses)

    return make


def test_every_image_is_fetched_optimized_stored_and_the_request_completed(world):
    w = world({f"https://o.example/{n}.jpg": JPEG for n in range(1, 8)})
    receipt = w.upload(*(f"{n},P{n},https://o.example/{n}.jpg" for n in range(1, 8)))

    recorded = w.process()

    assert recorded == 7
    summary = w.status(receipt.request_id).summary
    assert (summary.status, summary.images.optimized, summary.products.finished) == (RequestStatus.COMPLETED, 7, 7)
    assert (summary.bytes_in, summary.bytes_out) == (700, 350)
    assert len(w.storage.files) == 7
    assert all(re.fullmatch(rf"{receipt.request_id}/[0-9a-f]{{32}}\.jpg", key) for key in w.storage.files)


def test_a_permanent_failure_fails_that_image_alone(world):
    w = world({"https://o.example/1.jpg": JPEG, "https://o.example/2.jpg": b"<html>nope</html>"})
    receipt = w.upload('1,P,"https://o.example/1.jpg,https://o.example/2.jpg,https://o.example/3.jpg"')

    w.process()

    report = w.status(receipt.request_id, details=True)
    assert report.summary.status is RequestStatus.COMPLETED_WITH_ERRORS
    images = report.details.products[0].images
    assert [image.status for image in images] == [ImageStatus.OPTIMIZED, ImageStatus.FAILED, ImageStatus.FAILED]
    assert [image.failure_reason for image in images[1:]] == ["not an image: an HTML page", "HTTP 404 from the origin"]
    assert report.details.products[0].status is RequestStatus.COMPLETED_WITH_ERRORS


def test_a_request_whose_every_image_failed_is_failed(world):
    w = world({})
    receipt = w.upload("1,P,https://o.example/gone.jpg")

    w.process()

    assert w.status(receipt.request_id).summary.status is RequestStatus.FAILED


def test_a_transient_failure_is_retried_when_due_and_then_succeeds(world):
    url = "https://o.example/flaky.jpg"
    w = world({url: [ImageFailure("HTTP 503", transient=True), JPEG]})
    receipt = w.upload(f"1,P,{url}")

    w.process()
    pending = w.status(receipt.request_id).summary
    w.clock.advance(seconds=9)
    w.process()
    w.clock.advance(seconds=2)
    w.process()

    assert (pending.status, pending.images.pending) == (RequestStatus.PROCESSING, 1)
    assert w.fetcher.fetched == [url, url]
    [product] = w.status(receipt.request_id, details=True).details.products
    assert (product.images[0].status, product.images[0].attempts) == (ImageStatus.OPTIMIZED, 2)


def test_a_transient_failure_gives_up_after_the_last_attempt(world):
    url = "https://o.example/down.jpg"
    w = world({url: ImageFailure("timed out", transient=True)})
    receipt = w.upload(f"1,P,{url}")

    for _ in range(5):
        w.process()
        w.clock.advance(minutes=10)

    [product] = w.status(receipt.request_id, details=True).details.products
    assert product.images[0].failure_reason == "timed out (gave up after 3 attempts)"
    assert len(w.fetcher.fetched) == 3


def test_a_job_abandoned_too_often_fails_without_being_fetched(world):
    w = world({"https://o.example/1.jpg": JPEG})
    receipt = w.upload("1,P,https://o.example/1.jpg")
    dying_worker = ClaimImages(w.uow, w.clock, "dying-worker", timedelta(seconds=1))
    for _ in range(3):
        dying_worker(10)
        w.clock.advance(seconds=2)
        w.reclaim()

    w.process()

    [product] = w.status(receipt.request_id, details=True).details.products
    assert product.images[0].failure_reason == "abandoned: the worker holding it stopped 3 times"
    assert w.fetcher.fetched == []


def test_finishing_a_request_queues_a_signed_delivery_that_is_sent_once(world):
    w = world({"https://o.example/1.jpg": JPEG})
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://hooks.example/in")

    w.process()
    sent = w.deliver()

    assert (sent, w.deliver()) == (1, 0)
    [(url, headers, body, content_type)] = w.sender.sent
    assert (url, content_type) == ("https://hooks.example/in", "application/json")
    payload = standardwebhooks.Webhook(receipt.webhook.secret).verify(body, headers)
    assert payload["type"] == "request.completed"
    assert payload["data"]["requestId"] == str(receipt.request_id)
    assert payload["data"]["status"] == "completed"
    [(delivery, attempts)] = w.status(receipt.request_id, details=True).details.deliveries
    assert (delivery.status, delivery.attempts, [a.status_code for a in attempts]) == (
        DeliveryStatus.DELIVERED,
        1,
        [200],
    )


def test_a_failing_receiver_is_retried_on_schedule_with_the_same_message_id(world):
    w = world({"https://o.example/1.jpg": JPEG}, statuses=[500, "connection refused", 200])
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://hooks.example/in")
    w.process()

    w.deliver()
    assert w.deliver() == 0
    w.clock.advance(seconds=5)
    w.deliver()
    w.clock.advance(seconds=59)
    assert w.deliver() == 0
    w.clock.advance(seconds=1)
    w.deliver()

    ids = {headers["webhook-id"] for _, headers, _, _ in w.sender.sent}
    assert len(w.sender.sent) == 3 and len(ids) == 1
    [(delivery, attempts)] = w.status(receipt.request_id, details=True).details.deliveries
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [(a.status_code, a.error) for a in attempts] == [(500, None), (None, "connection refused"), (200, None)]


def test_a_receiver_that_is_gone_disables_its_webhook(world):
    w = world({"https://o.example/1.jpg": JPEG, "https://o.example/2.jpg": JPEG}, statuses=[410])
    w.register("https://hooks.example/all")
    w.upload("1,P,https://o.example/1.jpg")
    w.process()
    w.deliver()

    w.upload("1,P,https://o.example/2.jpg")
    w.process()

    assert w.deliver() == 0
    assert len(w.sender.sent) == 1


def test_the_multipart_format_sends_the_output_csv_and_metadata(world):
    w = world({"https://o.example/1.jpg": JPEG})
    receipt = w.upload(
        "5,Hat,https://o.example/1.jpg", webhook="https://hooks.example/in", webhook_format=WebhookFormat.MULTIPART_CSV
    )
    w.process()

    w.deliver()

    [(_, headers, body, content_type)] = w.sender.sent
    assert content_type.startswith("multipart/form-data; boundary=")
    sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = standardwebhooks.Webhook(receipt.webhook.secret).sign(headers["webhook-id"], sent_at, body.decode())
    assert headers["webhook-signature"] == expected
    assert b'name="file"; filename="output-' in body
    [key] = w.storage.files
    assert f"5,Hat,https://o.example/1.jpg,http://imgopt.test/files/{key}".encode() in body
    metadata = body.split(b'name="metadata"')[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--")[0]
    assert json.loads(metadata)["requestId"] == str(receipt.request_id)


def test_an_expired_lease_goes_back_to_the_queue_and_its_old_holder_cannot_record(world):
    w = world({"https://o.example/1.jpg": JPEG})
    receipt = w.upload("1,P,https://o.example/1.jpg")
    [abandoned] = ClaimImages(w.uow, w.clock, "dead-worker", timedelta(seconds=5))(1)

    before = w.reclaim()
    w.clock.advance(seconds=6)
    after = w.reclaim()
    w.process()
    late = RecordOutcomes(w.uow, w.clock, "dead-worker", w.announcer, w.webhook_work)([abandoned.succeeded(STORED)])

    assert (before, after, late) == (0, 1, [])
    assert w.image_work.notified == 2  # the upload, then the reclaim
    summary = w.status(receipt.request_id).summary
    assert (summary.status, summary.images.optimized) == (RequestStatus.COMPLETED, 1)


def test_released_images_are_due_at_once_without_losing_an_attempt(world):
    w = world({"https://o.example/1.jpg": JPEG})
    w.upload("1,P,https://o.example/1.jpg")
    [job] = w.claim(1)

    w.release([job])
    [again] = w.claim(1)

    assert (job.attempts, again.attempts, again.id) == (1, 1, job.id)


def test_a_storage_outage_of_a_minute_costs_retries_not_images():
    urls = [f"https://o.example/{n}.jpg" for n in range(5)]
    w = World(FixedClock(datetime.now(UTC)), dict.fromkeys(urls, JPEG), retry=RetryPolicy())
    receipt = w.upload(*(f"{n},P{n},{url}" for n, url in enumerate(urls, start=1)))

    w.storage.failing = True
    for _ in range(6):  # a minute without a writable disk; the worker tries whatever falls due
        w.process()
        w.clock.advance(seconds=10)
    during = w.status(receipt.request_id).summary
    w.storage.failing = False
    for _ in range(10):
        w.process()
        w.clock.advance(minutes=1)

    assert (during.images.failed, during.images.pending) == (0, 5)
    report = w.status(receipt.request_id, details=True)
    assert (report.summary.status, report.summary.images.optimized) == (RequestStatus.COMPLETED, 5)
    assert {image.attempts for product in report.details.products for image in product.images} == {3}


def test_an_image_that_fails_for_good_leaves_no_output_an_earlier_attempt_stored(world):
    url = "https://o.example/1.jpg"
    w = world({url: [JPEG, ImageFailure("HTTP 404 from o.example")]})
    receipt = w.upload(f"1,P,{url}")
    [job] = ClaimImages(w.uow, w.clock, "dying-worker", timedelta(seconds=5))(1)
    w.process_image(job)  # stored; then the worker died before recording it
    stored_by_the_dead = sorted(w.storage.files)

    w.clock.advance(seconds=6)
    w.reclaim()
    w.process()

    assert stored_by_the_dead == [job.output_key("jpg")]
    assert w.storage.files == {}
    [product] = w.status(receipt.request_id, details=True).details.products
    assert (product.images[0].status, product.images[0].output_url) == (ImageStatus.FAILED, None)


def test_a_failed_attempt_is_counted_by_where_it_failed():
    w = World(images={"https://o.example/a.jpg": JPEG, "https://o.example/b.jpg": b"<html>"})
    w.upload('1,P,"https://o.example/a.jpg,https://o.example/b.jpg,https://o.example/c.jpg"')
    w.storage.failing = True

    outcomes = [w.process_image(job) for job in w.claim(3)]

    assert [(o.status, o.failure) for o in outcomes] == [
        (ImageStatus.PENDING, FailureClass.STORAGE),
        (ImageStatus.FAILED, FailureClass.IMAGE),
        (ImageStatus.FAILED, FailureClass.FETCH),
    ]
