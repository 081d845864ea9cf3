import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Event

import pytest
import standardwebhooks

from imgopt.application.links import Links
from imgopt.application.use_cases.announcement import Announcer
from imgopt.application.use_cases.delivery import DeliverWebhooks, DeliveryOptions
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.processing import ProcessImages, WorkerOptions
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.status import ExportOutputCsv, GetStatus
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.model import ImageFailure, RetryPolicy
from imgopt.domain.product_csv import CsvLimits
from imgopt.domain.webhooks import DeliveryStatus, RetrySchedule, WebhookFormat
from tests.support import csv_bytes
from tests.unit.fakes import (
    AllowListUrlPolicy,
    FakeDatabase,
    FakeFetcher,
    FakeOptimizer,
    FakeSender,
    FakeStorage,
    FixedClock,
    SequentialIds,
)

JPEG = b"\xff\xd8\xff" + b"x" * 97


class World:
    """The worker's use cases on fakes, with a real thread pool."""

    def __init__(self, images: dict, statuses: list | None = None) -> None:
        self.db = FakeDatabase()
        self.uow = self.db.unit_of_work
        self.clock = FixedClock(datetime.now(UTC))  # receivers check signature timestamps against real time
        ids = SequentialIds()
        links = Links("http://imgopt.test")
        announcer = Announcer(self.clock, ids, links)
        self.register = RegisterWebhook(self.uow, self.clock, ids, AllowListUrlPolicy(), announcer)
        self.ingest = IngestCsv(self.uow, self.clock, ids, CsvLimits(), self.register)
        self.status = GetStatus(self.uow, links)
        self.fetcher = FakeFetcher(images)
        self.storage = FakeStorage()
        self.sender = FakeSender(self.clock, statuses)
        self.executor = ThreadPoolExecutor(2)
        retry = RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10))
        self.process = ProcessImages(
            self.uow,
            self.fetcher,
            FakeOptimizer(),
            self.storage,
            self.clock,
            announcer,
            self.executor,
            WorkerOptions("w1", concurrency=2, retry=retry),
        )
        self.deliver = DeliverWebhooks(
            self.uow,
            self.sender,
            self.clock,
            ExportOutputCsv(self.uow),
            self.executor,
            DeliveryOptions("w1", RetrySchedule.parse("0,5s,1m")),
        )

    def upload(self, *rows: str, webhook: str | None = None, webhook_format=WebhookFormat.JSON):
        return self.ingest(io.BytesIO(csv_bytes(*rows)), webhook_url=webhook, webhook_format=webhook_format)


@pytest.fixture
def world():
    worlds = []

    def make(images: dict, statuses: list | None = None) -> World:
        worlds.append(World(images, statuses))
        return worlds[-1]

    yield make
    for made in worlds:
        made.executor.shutdown()


def test_every_image_is_fetched_optimized_stored_and_the_request_completed(world):
    w = world({f"https://o.example/{n}.jpg": JPEG for n in range(1, 8)})
    receipt = w.upload(*(f"{n},P{n},https://o.example/{n}.jpg" for n in range(1, 8)))

    recorded = w.process()

    assert recorded == 7
    summary = w.status(receipt.request_id).summary
    assert (summary.status, summary.images.optimized, summary.products.finished) == (RequestStatus.COMPLETED, 7, 7)
    assert (summary.bytes_in, summary.bytes_out) == (700, 350)
    assert sorted(w.storage.files) == sorted(f"{receipt.request_id}/{n}.jpg" for n in range(1, 8))


def test_a_permanent_failure_fails_that_image_alone(world):
    w = world({"https://o.example/1.jpg": JPEG, "https://o.example/2.jpg": b"<html>nope</html>"})
    receipt = w.upload('1,P,"https://o.example/1.jpg,https://o.example/2.jpg,https://o.example/3.jpg"')

    w.process()

    report = w.status(receipt.request_id, details=True)
    assert report.summary.status is RequestStatus.COMPLETED_WITH_ERRORS
    images = report.products[0].images
    assert [image.status for image in images] == [ImageStatus.OPTIMIZED, ImageStatus.FAILED, ImageStatus.FAILED]
    assert [image.failure_reason for image in images[1:]] == ["not an image: an HTML page", "HTTP 404 from the origin"]
    assert report.products[0].status is RequestStatus.COMPLETED_WITH_ERRORS


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
    [product] = w.status(receipt.request_id, details=True).products
    assert (product.images[0].status, product.images[0].attempts) == (ImageStatus.OPTIMIZED, 2)


def test_a_transient_failure_gives_up_after_the_last_attempt(world):
    url = "https://o.example/down.jpg"
    w = world({url: ImageFailure("timed out", transient=True)})
    receipt = w.upload(f"1,P,{url}")

    for _ in range(5):
        w.process()
        w.clock.advance(minutes=10)

    [product] = w.status(receipt.request_id, details=True).products
    assert product.images[0].failure_reason == "timed out (gave up after 3 attempts)"
    assert len(w.fetcher.fetched) == 3


def test_a_job_abandoned_too_often_fails_without_being_fetched(world):
    w = world({"https://o.example/1.jpg": JPEG})
    receipt = w.upload("1,P,https://o.example/1.jpg")
    for _ in range(3):
        with w.uow() as uow:
            uow.jobs.claim("dying-worker", 10, w.clock.now(), w.clock.now() + timedelta(seconds=1))
            uow.commit()
        w.clock.advance(seconds=2)

    w.process()

    [product] = w.status(receipt.request_id, details=True).products
    assert product.images[0].failure_reason == "abandoned: the worker holding it stopped 3 times"
    assert w.fetcher.fetched == []


def test_a_stopped_worker_claims_nothing(world):
    w = world({"https://o.example/1.jpg": JPEG})
    w.upload("1,P,https://o.example/1.jpg")
    stop = Event()
    stop.set()

    assert w.process(stop) == 0
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
    [(delivery, attempts)] = w.status(receipt.request_id, details=True).deliveries
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
    [(delivery, attempts)] = w.status(receipt.request_id, details=True).deliveries
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
    assert f"5,Hat,https://o.example/1.jpg,http://imgopt.test/files/{receipt.request_id}/1.jpg".encode() in body
    metadata = body.split(b'name="metadata"')[1].split(b"\r\n\r\n", 1)[1].split(b"\r\n--")[0]
    assert json.loads(metadata)["requestId"] == str(receipt.request_id)


def test_a_busy_worker_takes_back_a_dead_workers_images_without_waiting_for_its_queue_to_drain(world):
    w = world({f"https://o.example/{n}.jpg": JPEG for n in range(1, 41)})
    w.upload(*(f"{n},P{n},https://o.example/{n}.jpg" for n in range(1, 41)))
    with w.uow() as uow:
        [abandoned] = uow.jobs.claim("dead-worker", 1, w.clock.now(), w.clock.now() + timedelta(seconds=5))
        uow.commit()
    fetch = w.fetcher.fetch

    def one_second_per_image(url: str):
        w.clock.advance(seconds=1)
        return fetch(url)

    w.fetcher.fetch = one_second_per_image

    w.process()

    assert f"https://o.example/{abandoned.line - 1}.jpg" in w.fetcher.fetched
    with w.uow() as uow:
        assert uow.requests.summary(abandoned.request_id).images.optimized == 40
