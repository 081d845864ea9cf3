"""What the API answers besides a status: upload receipts, webhook registrations and events, problems."""

from datetime import datetime
from uuid import UUID

from imgopt.client.status import Delivery, ImageCounts, Model, ProductCounts, Status


class WebhookSecret(Model):
    id: UUID
    webhook_url: str
    format: str
    secret: str
    warning: str | None = None


class UploadReceipt(Model):
    request_id: UUID
    status: str
    products: int
    images: int
    status_url: str
    webhook: WebhookSecret | None = None


class WebhookRegistration(Model):
    id: UUID
    webhook_url: str
    format: str
    secret: str
    created_at: datetime
    request_id: UUID | None = None
    warning: str | None = None
    """Set when the URL's host does not resolve right now: the webhook is kept, and every delivery checks again."""


class WebhookEvent(Model):
    """A verified webhook body: `data` is the status document of the request it announces."""

    type: str
    timestamp: datetime
    data: Status


class CsvProblem(Model):
    line: int
    message: str
    column: str | None = None


class Problem(Model):
    """An RFC 9457 problem document, as every imgopt error is answered."""

    status: int
    code: str = "http_error"
    title: str = ""
    detail: str = ""
    errors: list[CsvProblem] = []
    error_count: int | None = None


class RequestSummary(Model):
    """One request in `Client.requests()`."""

    request_id: UUID
    status: str
    created_at: datetime
    images: ImageCounts
    started_at: datetime | None = None
    finished_at: datetime | None = None
    products: ProductCounts | None = None


class RequestPage(Model):
    requests: list[RequestSummary]
    next_cursor: str | None = None


class RequestChange(Model):
    """What cancel and retry answer: the request as it now stands."""

    request_id: UUID
    status: str
    images: ImageCounts


class Webhook(Model):
    id: UUID
    webhook_url: str
    format: str
    enabled: bool
    created_at: datetime
    request_id: UUID | None = None
    previous_secret_expires_at: datetime | None = None


class WebhookPage(Model):
    webhooks: list[Webhook]
    next_cursor: str | None = None


class RotatedSecret(Model):
    """The new secret, shown once; until `previous_secret_expires_at` messages carry both signatures."""

    id: UUID
    secret: str
    previous_secret_expires_at: datetime


class DeliveryPage(Model):
    deliveries: list[Delivery]
    next_cursor: str | None = None


class Redelivery(Model):
    id: str
    webhook_id: UUID
    status: str
    next_attempt_at: datetime | None = None
