import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import standardwebhooks

from imgopt.domain.errors import IllegalTransition
from imgopt.domain.webhooks import (
    DEFAULT_RETRY_DELAYS,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    InvalidWebhook,
    RetrySchedule,
    sign,
    signature_headers,
)

SCHEDULE = RetrySchedule.parse(DEFAULT_RETRY_DELAYS)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_signatures_verify_with_the_standard_webhooks_library():
    body = json.dumps({"type": "request.completed", "data": {"requestId": "x"}}).encode()
    timestamp = int(datetime.now(UTC).timestamp())

    headers = signature_headers([SECRET], "msg_1", timestamp, body)

    assert standardwebhooks.Webhook(SECRET).verify(body, headers) == json.loads(body)


def test_a_tampered_body_does_not_verify():
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signature_headers([SECRET], "msg_1", timestamp, b'{"a":1}')

    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(b'{"a":2}', headers)


def test_the_signature_is_versioned_base64():
    assert sign(SECRET, "msg_1", 1700000000, b"{}").startswith("v1,")


def test_the_default_schedule_is_eight_attempts_the_first_retry_within_ten_seconds():
    delays = SCHEDULE.delays

    assert len(delays) == 8
    assert delays[:3] == (timedelta(0), timedelta(seconds=5), timedelta(minutes=5))
    assert delays[-1] == timedelta(hours=10)


@pytest.mark.parametrize("text", ["", "5x", "1,,2", "soon"])
def test_a_malformed_schedule_is_refused(text):
    with pytest.raises(InvalidWebhook):
        RetrySchedule.parse(text)


def delivery() -> Delivery:
    return Delivery("msg_1", UUID(int=1), UUID(int=2), "request.completed", {}, NOW, NOW)


def test_a_failed_attempt_schedules_the_next_from_the_schedule():
    schedule = RetrySchedule.parse("0,5s,1m")

    after_first = delivery().after(AttemptResult(NOW, 500), schedule)
    after_second = after_first.after(AttemptResult(NOW, None, "timed out"), schedule)
    after_third = after_second.after(AttemptResult(NOW, 502), schedule)

    assert after_first.next_attempt_at == NOW + timedelta(seconds=5)
    assert after_second.next_attempt_at == NOW + timedelta(minutes=1)
    assert (after_third.status, after_third.attempts, after_third.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)


@pytest.mark.parametrize(
    ("code", "status"),
    [(200, DeliveryStatus.DELIVERED), (204, DeliveryStatus.DELIVERED), (410, DeliveryStatus.CANCELLED)],
)
def test_success_and_gone_end_the_delivery(code, status):
    assert delivery().after(AttemptResult(NOW, code), SCHEDULE).status is status


def test_a_redirect_is_a_failure():
    assert delivery().after(AttemptResult(NOW, 302), SCHEDULE).status is DeliveryStatus.PENDING


def test_a_finished_delivery_takes_no_more_attempts():
    done = delivery().after(AttemptResult(NOW, 200), SCHEDULE)

    with pytest.raises(IllegalTransition):
        done.after(AttemptResult(NOW, 200), SCHEDULE)
