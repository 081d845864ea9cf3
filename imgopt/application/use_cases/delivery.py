"""Deliver webhooks from the outbox: claimed under a lease, signed, retried on schedule, every attempt logged."""

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from imgopt.application.ports import EVERY_TENANT, Clock, UnitOfWorkFactory, WebhookSender
from imgopt.application.use_cases.status import ExportOutputCsv
from imgopt.domain.webhooks import AttemptResult, Delivery, RetrySchedule, Webhook, WebhookFormat, signature_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A claimed delivery and the webhook it goes to (None when the webhook is gone)."""

    delivery: Delivery
    webhook: Webhook | None


@dataclass(frozen=True, slots=True)
class ClaimDeliveries:
    """Claim up to `limit` due deliveries, at most one per webhook and none to `busy_webhooks`.

    A claimed delivery is hidden from other workers until its lease runs out: if this worker
    dies while sending, it falls due again then, under the same message id.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    lease: timedelta

    def __call__(self, limit: int, busy_webhooks: Collection[UUID] = ()) -> list[Dispatch]:
        now = self.clock.now()
        with self.uow() as uow:
            due = uow.deliveries.claim_due(limit, now, now + self.lease, busy_webhooks)
            dispatches = [Dispatch(delivery, uow.webhooks.get(delivery.webhook_id, EVERY_TENANT)) for delivery in due]
            uow.commit()
        return dispatches


@dataclass(frozen=True, slots=True)
class DeliverWebhook:
    """Send one delivery once and record the attempt.

    A delivery keeps its message id (`webhook-id`) across attempts; each attempt is signed
    afresh with its own timestamp (and, for a day after a rotation, with the old secret too).
    2xx ends it, 410 ends it and disables the webhook, anything
    else (3xx included: redirects are not followed) is retried on the schedule until it runs out.
    """

    uow: UnitOfWorkFactory
    sender: WebhookSender
    clock: Clock
    export_output_csv: ExportOutputCsv
    schedule: RetrySchedule

    def __call__(self, dispatch: Dispatch) -> AttemptResult:
        delivery, webhook = dispatch.delivery, dispatch.webhook
        if webhook is None or not webhook.enabled:
            result = AttemptResult(self.clock.now(), error="the webhook was disabled")
            self._save(delivery.cancelled(), result)
            return result
        body, content_type = self._body(delivery, webhook)
        now = self.clock.now()
        headers = signature_headers(webhook.signing_secrets(now), delivery.id, int(now.timestamp()), body)
        result = self.sender.send(webhook.url, headers, body, content_type)
        self._save(delivery.after(result, self.schedule), result, disable=webhook.id if result.gone else None)
        return result

    def _save(self, delivery: Delivery, result: AttemptResult, disable: UUID | None = None) -> None:
        with self.uow() as uow:
            uow.deliveries.record_attempt(delivery, result)
            if disable is not None:
                uow.webhooks.disable(disable)
            uow.commit()
        log.info(
            "webhook attempt %d: %s",
            delivery.attempts,
            result.status_code or result.error,
            extra={"delivery_id": delivery.id, "request_id": str(delivery.request_id)},
        )

    def _body(self, delivery: Delivery, webhook: Webhook) -> tuple[bytes, str]:
        if webhook.format is WebhookFormat.JSON:
            return json.dumps(delivery.payload, separators=(",", ":")).encode(), "application/json"
        csv = b"".join(self.export_output_csv(webhook.tenant_id, delivery.request_id))
        metadata = json.dumps({"requestId": str(delivery.request_id), **delivery.payload["data"]}).encode()
        return multipart_form(
            f"imgopt-{delivery.id}",
            [
                ("file", f"output-{delivery.request_id}.csv", "text/csv; charset=utf-8", csv),
                ("metadata", None, "application/json", metadata),
            ],
        )


def multipart_form(boundary: str, parts: list[tuple[str, str | None, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body from (name, filename, content type, data) parts."""
    chunks = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
