"""Webhook registrations, deliveries and their Standard Webhooks signatures."""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from imgopt.domain.durations import parse_duration
from imgopt.domain.errors import DomainError, IllegalTransition

SECRET_PREFIX = "whsec_"
COMPLETED_EVENT = "request.completed"
# After a rotation the old secret still signs for this long, so receivers can switch without losing a message.
ROTATION_OVERLAP = timedelta(hours=24)


class WebhookFormat(StrEnum):
    JSON = "json"
    MULTIPART_CSV = "multipart-csv"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class InvalidWebhook(DomainError):
    code = "invalid_webhook"


class WebhookNotFound(DomainError):
    code = "webhook_not_found"


class DeliveryNotFound(DomainError):
    code = "delivery_not_found"


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where to announce finished requests: one request's, or, when `request_id` is None, every request
    of its tenant. After a rotation the previous secret keeps signing until `previous_secret_until`."""

    id: UUID
    url: str
    secret: str
    format: WebhookFormat
    created_at: datetime
    request_id: UUID | None = None
    enabled: bool = True
    tenant_id: UUID = field(kw_only=True)
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets each message is signed with: the current one, and the previous one while it overlaps."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotated(self, new_secret: str, now: datetime) -> "Webhook":
        return replace(
            self, secret=new_secret, previous_secret=self.secret, previous_secret_until=now + ROTATION_OVERLAP
        )


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Delays before each attempt; the first is usually zero. Its length is the number of attempts."""

    delays: tuple[timedelta, ...]

    @classmethod
    def parse(cls, text: str) -> "RetrySchedule":
        """From a comma-separated list such as '0,5s,5m,30m,2h'."""
        delays = []
        for item in text.split(","):
            try:
                delays.append(parse_duration(item))
            except ValueError as exc:
                raise InvalidWebhook(f"bad retry delay: {exc}") from None
        if not delays:
            raise InvalidWebhook("the retry schedule needs at least one attempt")
        return cls(tuple(delays))

    def delay_before(self, attempt: int) -> timedelta | None:
        """Delay before attempt number `attempt` (1-based), or None when no attempts are left."""
        return self.delays[attempt - 1] if attempt <= len(self.delays) else None


DEFAULT_RETRY_DELAYS = "0,5s,5m,30m,2h,5h,10h,10h"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """One try at delivering: the receiver's status code, or the error when there was no answer."""

    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one webhook: an outbox row, retried under the same message id until done."""

    id: str
    webhook_id: UUID
    request_id: UUID
    event_type: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: int = 0
    status: DeliveryStatus = DeliveryStatus.PENDING

    def after(self, result: AttemptResult, schedule: RetrySchedule) -> "Delivery":
        if self.status is not DeliveryStatus.PENDING:
            raise IllegalTransition(f"delivery {self.id} is already {self.status}")
        attempts = self.attempts + 1
        if result.succeeded:
            return replace(self, attempts=attempts, status=DeliveryStatus.DELIVERED, next_attempt_at=None)
        if result.gone:
            return replace(self, attempts=attempts, status=DeliveryStatus.CANCELLED, next_attempt_at=None)
        delay = schedule.delay_before(attempts + 1)
        if delay is None:
            return replace(self, attempts=attempts, status=DeliveryStatus.FAILED, next_attempt_at=None)
        return replace(self, attempts=attempts, next_attempt_at=result.at + delay)

    def redelivered(self, now: datetime) -> "Delivery":
        """Sent again as it was, under the same message id: one more attempt, not a new schedule."""
        if self.status is DeliveryStatus.PENDING:
            raise IllegalTransition(f"delivery {self.id} is still pending; it will be attempted anyway")
        return replace(self, status=DeliveryStatus.PENDING, next_attempt_at=now)

    def cancelled(self) -> "Delivery":
        """Given up without sending (its webhook was disabled); counted as the attempt that found out."""
        if self.status is not DeliveryStatus.PENDING:
            raise IllegalTransition(f"delivery {self.id} is already {self.status}")
        return replace(self, attempts=self.attempts + 1, status=DeliveryStatus.CANCELLED, next_attempt_at=None)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers; several secrets give several signatures, space-separated, any of which verifies."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets),
    }
