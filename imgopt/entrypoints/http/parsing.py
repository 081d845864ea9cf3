"""The API's own reading of ids, formats and states it takes as text, so that each refusal is worded as ours."""

from uuid import UUID

from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.webhooks import InvalidWebhook, WebhookFormat
from imgopt.entrypoints.http.errors import ApiError


def parse_uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value.strip())
    except (ValueError, AttributeError):
        raise ApiError(400, "invalid_id", f"{field} must be a UUID, got {value[:60]!r}") from None


def parse_format(value: str | None) -> WebhookFormat:
    try:
        return WebhookFormat((value or WebhookFormat.JSON).strip().lower())
    except ValueError:
        allowed = ", ".join(f.value for f in WebhookFormat)
        raise InvalidWebhook(f"format must be one of {allowed}, got {value!r}") from None


def parse_status(value: str | None) -> RequestStatus | None:
    """The state named by `?status=` (absent: every state); an empty or unknown one is a 400."""
    if value is None:
        return None
    try:
        return RequestStatus(value.strip().lower())
    except ValueError:
        allowed = ", ".join(status.value for status in RequestStatus)
        raise ApiError(400, "invalid_status", f"status must be one of {allowed}, got {value[:40]!r}") from None
