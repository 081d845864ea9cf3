"""Webhook registrations, and the outbox of their deliveries with every attempt logged."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Row, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from imgopt.application.ports import DeliveryRepository, WebhookRepository
from imgopt.domain.webhooks import AttemptResult, Delivery, DeliveryStatus, Webhook, WebhookFormat

_WEBHOOK_COLUMNS = "id, url, secret, format, created_at, request_id, enabled"
DELIVERY_COLUMNS = "id, webhook_id, request_id, event_type, payload, created_at, next_attempt_at, attempts, status"


# One delivery per webhook at a time, oldest first: a slow receiver holds up only its own deliveries.
_CLAIM_DUE = text(
    f"""
    WITH due AS (
        SELECT DISTINCT ON (webhook_id) id, webhook_id FROM images.webhookdeliveries
        WHERE status = 'pending' AND next_attempt_at <= :now AND webhook_id <> ALL(CAST(:skip AS uuid[]))
        ORDER BY webhook_id, next_attempt_at, id),
    picked AS (
        SELECT d.id FROM images.webhookdeliveries d JOIN due ON due.id = d.id
        ORDER BY d.next_attempt_at LIMIT :limit FOR UPDATE OF d SKIP LOCKED)
    UPDATE images.webhookdeliveries d SET next_attempt_at = :lease_until, updated_at = :now
    FROM picked WHERE d.id = picked.id
    RETURNING {", ".join("d." + c for c in DELIVERY_COLUMNS.split(", "))}
    """
)


class PostgresWebhookRepository(WebhookRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, webhook: Webhook) -> None:
        self._connection.execute(
            text(
                """
                INSERT INTO images.webhookurls (id, request_id, url, secret, format, enabled, created_at)
                VALUES (:id, :request_id, :url, :secret, :format, :enabled, :created_at)
                """
            ),
            {
                "id": webhook.id,
                "request_id": webhook.request_id,
                "url": webhook.url,
                "secret": webhook.secret,
                "format": webhook.format.value,
                "enabled": webhook.enabled,
                "created_at": webhook.created_at,
            },
        )

    def get(self, webhook_id: UUID) -> Webhook | None:
        row = self._connection.execute(
            text(f"SELECT {_WEBHOOK_COLUMNS} FROM images.webhookurls WHERE id = :id"), {"id": webhook_id}
        ).first()
        return _webhook(row) if row else None

    def for_request(self, request_id: UUID) -> list[Webhook]:
        rows = self._connection.execute(
            text(
                f"""
                SELECT {_WEBHOOK_COLUMNS} FROM images.webhookurls
                WHERE enabled AND (request_id = :id OR request_id IS NULL) ORDER BY created_at, id
                """
            ),
            {"id": request_id},
        )
        return [_webhook(row) for row in rows]

    def disable(self, webhook_id: UUID) -> None:
        self._connection.execute(
            text("UPDATE images.webhookurls SET enabled = false, disabled_at = now() WHERE id = :id"),
            {"id": webhook_id},
        )


class PostgresDeliveryRepository(DeliveryRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, delivery: Delivery) -> None:
        self._connection.execute(
            text(
                """
                INSERT INTO images.webhookdeliveries (id, webhook_id, request_id, event_type, payload, status,
                    attempts, next_attempt_at, created_at, updated_at)
                VALUES (:id, :webhook_id, :request_id, :event_type, :payload, :status, :attempts,
                    :next_attempt_at, :created_at, :created_at)
                """
            ).bindparams(bindparam("payload", type_=JSONB)),
            {
                "id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "request_id": delivery.request_id,
                "event_type": delivery.event_type,
                "payload": delivery.payload,
                "status": delivery.status.value,
                "attempts": delivery.attempts,
                "next_attempt_at": delivery.next_attempt_at,
                "created_at": delivery.created_at,
            },
        )

    def claim_due(
        self, limit: int, now: datetime, lease_until: datetime, skip_webhooks: Collection[UUID] = ()
    ) -> list[Delivery]:
        # Pushing next_attempt_at to the end of the lease hides the delivery from other workers
        # while it is sent; if this worker dies, it falls due again when the lease runs out.
        rows = self._connection.execute(
            _CLAIM_DUE, {"now": now, "limit": limit, "lease_until": lease_until, "skip": list(skip_webhooks)}
        )
        return sorted((delivery_from(row) for row in rows), key=lambda d: (d.created_at, d.id))

    def record_attempt(self, delivery: Delivery, result: AttemptResult) -> None:
        self._connection.execute(
            text(
                """
                UPDATE images.webhookdeliveries
                SET status = :status, attempts = :attempts, next_attempt_at = :next_attempt_at, updated_at = :at
                WHERE id = :id
                """
            ),
            {
                "id": delivery.id,
                "status": delivery.status.value,
                "attempts": delivery.attempts,
                "next_attempt_at": delivery.next_attempt_at,
                "at": result.at,
            },
        )
        self._connection.execute(
            text(
                """
                INSERT INTO images.webhookattempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
                VALUES (:id, :attempt, :at, :status_code, :error, :duration_ms)
                """
            ),
            {
                "id": delivery.id,
                "attempt": delivery.attempts,
                "at": result.at,
                "status_code": result.status_code,
                "error": result.error,
                "duration_ms": result.duration_ms,
            },
        )


def _webhook(row: Row) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        secret=row.secret,
        format=WebhookFormat(row.format),
        created_at=row.created_at,
        request_id=row.request_id,
        enabled=row.enabled,
    )


def delivery_from(row: Row) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        request_id=row.request_id,
        event_type=row.event_type,
        payload=row.payload,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        status=DeliveryStatus(row.status),
    )
