"""Wire bodies built from what the use cases answer: a status with its details, a webhook delivery."""

import msgspec

from imgopt.adapters.status_documents import status_fields
from imgopt.application.use_cases.status import StatusReport
from imgopt.domain.webhooks import AttemptResult, Delivery
from imgopt.entrypoints.http import schemas
from imgopt.entrypoints.http.cursors import encode_line_cursor


def delivery_body(delivery: Delivery, attempts: list[AttemptResult]) -> schemas.DeliveryBody:
    return schemas.DeliveryBody(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_type=delivery.event_type,
        status=delivery.status.value,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        log=[msgspec.convert(attempt, schemas.AttemptBody, from_attributes=True) for attempt in attempts],
    )


def status_response(report: StatusReport) -> schemas.StatusResponse:
    """The status document the webhook also carries, plus the details when asked for."""
    fields = status_fields(report.summary, report.output_csv_url)
    if report.details is None:
        return schemas.StatusResponse(**fields)
    page = report.details
    details = schemas.DetailsBody(
        products=[schemas.product_body(product) for product in page.products],
        next_cursor=encode_line_cursor(page.next_after_line),
        webhook_deliveries=[delivery_body(delivery, attempts) for delivery, attempts in page.deliveries],
    )
    return schemas.StatusResponse(**fields, details=details)
