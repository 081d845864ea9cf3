"""Deliver due webhooks from the outbox: signed, retried on schedule, every attempt logged."""

import json
import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from imgopt.application.ports import Clock, UnitOfWorkFactory, WebhookSender
from imgopt.application.use_cases.status import ExportOutputCsv
from imgopt.domain.webhooks import AttemptResult, Delivery, RetrySchedule, Webhook, WebhookFormat, signature_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    worker_id: str
    schedule: RetrySchedule
    lease: timedelta = timedelta(minutes=2)
    batch: int = 20


class DeliverWebhooks:
    """Send every due delivery once, concurrently; return how many were attempted.

    A delivery keeps its message id (`webhook-id`) across attempts; each attempt is signed
    afresh with its own timestamp. 2xx ends it, 410 ends it and disables the webhook, anything
    else (3xx included: redirects are not followed) is retried on the schedule until it runs out.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sender: WebhookSender,
        clock: Clock,
        export_output_csv: ExportOutputCsv,
        executor: Executor,
        options: DeliveryOptions,
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self._export_output_csv = export_output_csv
        self._executor = executor
        self._options = options

    def __call__(self) -> int:
        now = self._clock.now()
        with self._uow() as uow:
            due = uow.deliveries.claim_due(self._options.worker_id, self._options.batch, now, now + self._options.lease)
            webhooks = {delivery.webhook_id: uow.webhooks.get(delivery.webhook_id) for delivery in due}
            uow.commit()
        attempts = [self._executor.submit(self._attempt, d, webhooks[d.webhook_id]) for d in due]
        for attempt in attempts:
            attempt.result()
        return len(due)

    def _attempt(self, delivery: Delivery, webhook: Webhook | None) -> None:
        if webhook is None or not webhook.enabled:
            self._save(delivery.cancelled(), AttemptResult(self._clock.now(), error="the webhook was disabled"))
            return
        body, content_type = self._body(delivery, webhook)
        timestamp = int(self._clock.now().timestamp())
        headers = signature_headers(webhook.secret, delivery.id, timestamp, body)
        result = self._sender.send(webhook.url, headers, body, content_type)
        self._save(delivery.after(result, self._options.schedule), result, disable=webhook.id if result.gone else None)

    def _save(self, delivery: Delivery, result: AttemptResult, disable: UUID | None = None) -> None:
        with self._uow() as uow:
            uow.deliveries.record_attempt(delivery, result)
            if disable is not None:
                uow.webhooks.disable(disable)
            uow.commit()
        log.info("webhook %s attempt %d: %s", delivery.id, delivery.attempts, result.status_code or result.error)

    def _body(self, delivery: Delivery, webhook: Webhook) -> tuple[bytes, str]:
        if webhook.format is WebhookFormat.JSON:
            return json.dumps(delivery.payload, separators=(",", ":")).encode(), "application/json"
        csv = b"".join(self._export_output_csv(delivery.request_id))
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
