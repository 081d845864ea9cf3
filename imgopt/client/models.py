"""What the API answers besides a status: upload receipts, webhook registrations and events, problems."""

from datetime import datetime
from uuid import UUID

from imgopt.client.status import Model, Status


class WebhookSecret(Model):
    id: UUID
    webhook_url: str
    format: str
    secret: str


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
