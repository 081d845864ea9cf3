"""Cancel, retry and delete a request; rotate a webhook's secret; replay a delivery — on the fakes."""

from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks

from imgopt.application.errors import RequestNotFinished
from imgopt.domain.errors import IllegalTransition
from imgopt.domain.image_jobs import ImageFailure
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.webhooks import DeliveryStatus
from tests.unit.fakes import FixedClock
from tests.unit.world import World

JPEG = b"\xff\xd8\xff" + b"x" * 97
PHOTOS = {f"https://o.example/{n}.jpg": JPEG for n in range(1, 10)}


@pytest.fixture
def w() -> World:
    # Receivers check signature timestamps against real time.
    return World(FixedClock(datetime.now(UTC)), dict(PHOTOS))


def events(w: World) -> list[tuple[str, str]]:
    """(status, message id) of every request.completed event sent so far, in order."""
    sent = [standardwebhooks.Webhook(w.secret).verify(body, headers) | {"id": headers["webhook-id"]}
            for _, headers, body, _ in w.sender.sent]  # fmt: skip
    return [(event["data"]["status"], event["id"]) for event in sent]


def test_cancelling_cancels_what_waits_lets_what_runs_finish_and_announces_the_request_once(w):
    receipt = w.upload(*(f"{n},P{n},https://o.example/{n}.jpg" for n in range(1, 6)), webhook="https://h.example/in")
    w.secret = receipt.webhook.secret
    running = w.claim(2)

    changed = w.cancel(receipt.request_id)
    w.record([w.process_image(running[0]), running[1].failed(ImageFailure("timeout", True), w.retry, w.clock.now())])
    w.clock.advance(minutes=5)
    w.process()
    w.deliver()

    summary = w.status(receipt.request_id).summary
    assert (changed.status, changed.cancelled) == (RequestStatus.CANCELLED, 3)
    assert summary.status is RequestStatus.CANCELLED
    assert (summary.images.optimized, summary.images.cancelled, summary.images.pending) == (1, 4, 0)
    assert [status for status, _ in events(w)] == ["cancelled"]
    statuses = sorted(job["status"] for job in w.db.state.jobs_of(receipt.request_id))
    assert statuses == sorted([ImageStatus.OPTIMIZED] + [ImageStatus.CANCELLED] * 4)
    with pytest.raises(IllegalTransition):
        w.cancel(receipt.request_id)


def test_retrying_queues_the_failed_images_again_reopens_the_request_and_announces_it_again(w):
    receipt = w.upload(
        "1,Shirt,https://o.example/1.jpg", '2,Hat,"https://o.example/2.jpg,https://o.example/gone.jpg"',
        webhook="https://h.example/in",
    )  # fmt: skip
    w.secret = receipt.webhook.secret
    w.process()
    w.deliver()
    w.fetcher.images["https://o.example/gone.jpg"] = JPEG

    reopened = w.retry_request(receipt.request_id)
    w.process()
    w.deliver()

    summary = w.status(receipt.request_id).summary
    assert (reopened.status, reopened.failed, reopened.products_finished) == (RequestStatus.PROCESSING, 0, 1)
    assert (summary.status, summary.images.optimized, summary.images.failed) == (RequestStatus.COMPLETED, 3, 0)
    assert (summary.products.finished, summary.products.with_errors) == (2, 0)
    [first, second] = events(w)
    assert (first[0], second[0]) == ("completed_with_errors", "completed") and first[1] != second[1]
    with pytest.raises(IllegalTransition, match="0 failed images"):
        w.retry_request(receipt.request_id)


def test_deleting_removes_the_outputs_then_every_record_of_the_request(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    other = w.upload("1,P,https://o.example/2.jpg")
    w.process()
    w.deliver()

    w.delete(receipt.request_id)

    state = w.db.state
    assert [key.split("/")[0] for key in w.storage.files] == [str(other.request_id)]
    assert receipt.request_id not in state.requests and receipt.request_id not in state.products
    assert state.jobs_of(receipt.request_id) == [] and state.deliveries == {} and state.webhooks == {}


def test_a_request_still_running_is_not_deleted(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", "2,P,https://o.example/2.jpg")
    w.claim(1)
    w.cancel(receipt.request_id)

    with pytest.raises(RequestNotFinished, match="1 images not finished"):
        w.delete(receipt.request_id)

    assert receipt.request_id in w.db.state.requests


def test_after_a_rotation_both_secrets_verify_for_a_day_then_only_the_new_one(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", "2,P,https://o.example/2.jpg", webhook="https://h.example/in")
    old = receipt.webhook.secret

    rotated = w.rotate(receipt.webhook.id)
    w.process()
    w.deliver()
    w.clock.advance(hours=24)
    w.redeliver(next(iter(w.db.state.deliveries)))
    w.deliver()

    (_, during, body, _), (_, after, later_body, _) = w.sender.sent
    assert rotated.secret != old and rotated.previous_secret_until == w.clock.now()
    assert len(during["webhook-signature"].split()) == 2
    for secret in (old, rotated.secret):
        standardwebhooks.Webhook(secret).verify(body, during)
    # A day later (the clock moved, so signatures are checked as made at that time):
    sent_at = datetime.fromtimestamp(int(after["webhook-timestamp"]), UTC)
    signed = {
        s: standardwebhooks.Webhook(s).sign(after["webhook-id"], sent_at, later_body.decode())
        for s in (old, rotated.secret)
    }
    assert after["webhook-signature"] == signed[rotated.secret] != signed[old]


def test_a_redelivery_sends_the_same_message_under_the_same_id_and_logs_the_attempt(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    w.process()
    w.deliver()
    [delivery_id] = w.db.state.deliveries

    queued = w.redeliver(delivery_id)
    w.deliver()

    (_, first, body, _), (_, again, body_again, _) = w.sender.sent
    assert queued.status is DeliveryStatus.PENDING
    assert first["webhook-id"] == again["webhook-id"] == delivery_id and body == body_again
    [(delivery, attempts)] = w.deliveries(receipt.webhook.id).items
    assert (delivery.status, delivery.attempts, len(attempts)) == (DeliveryStatus.DELIVERED, 2, 2)


def test_a_pending_delivery_is_not_queued_twice(w):
    w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    w.process()

    with pytest.raises(IllegalTransition, match="still pending"):
        w.redeliver(next(iter(w.db.state.deliveries)))


def test_deleting_a_webhook_stops_its_deliveries(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    w.process()

    w.delete_webhook(receipt.webhook.id)

    assert w.deliver() == 0 and w.sender.sent == [] and w.list_webhooks().items == []


def test_a_delivery_under_way_when_its_webhook_is_deleted_is_not_logged(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    w.process()
    [dispatch] = w.claim_deliveries(1)

    w.delete_webhook(receipt.webhook.id)
    w.deliver_webhook(dispatch)

    assert w.db.state.deliveries == {} and w.db.state.attempts == {}


def test_a_page_of_deliveries_names_the_next(w):
    receipt = w.upload("1,P,https://o.example/1.jpg", webhook="https://h.example/in")
    w.process()
    w.deliver()
    w.clock.advance(seconds=1)
    w.redeliver(next(iter(w.db.state.deliveries)))

    page = w.deliveries(receipt.webhook.id, limit=1)

    assert len(page.items) == 1 and page.next is None
    assert timedelta(0) <= w.clock.now() - page.items[0][0].created_at
