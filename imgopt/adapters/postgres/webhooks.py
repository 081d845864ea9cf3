"""Webhook registrations, and the outbox of their deliveries with every attempt logged."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Row, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import bindparam

from imgopt.application.ports import DeliveryRepository, Scope, WebhookRepository
from imgopt.domain.webhooks import AttemptResult, Delivery, DeliveryStatus, Webhook, WebhookFormat

DELIVERY_COLUMNS = "id, webhook_id, request_id, event_type, payload, created_at, next_attempt_at, attempts, status"
WEBHOOK_COLUMNS = """id, tenant_id, url, secret, format, created_at, request_id, enabled,
    previous_secret, previous_secret_until"""
_OWNED = "(CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant)"

# A request's own webhooks, and the global ones of its tenant only.
_FOR_REQUEST = text(
    f"""
    SELECT {WEBHOOK_COLUMNS} FROM images.webhookurls
    WHERE enabled AND (request_id = :id
        OR (request_id IS NULL AND tenant_id = (SELECT tenant_id FROM images.requests WHERE id = :id)))
    ORDER BY created_at, id
    """
)

_DELIVERY_OWNED = text(
    f"""
    SELECT {", ".join("d." + c for c in DELIVERY_COLUMNS.split(", "))} FROM images.webhookdeliveries d
    JOIN images.webhookurls w ON w.id = d.webhook_id
    WHERE d.id = :id AND (CAST(:tenant AS uuid) IS NULL OR w.tenant_id = :tenant)
    """
)


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
                INSERT INTO images.webhookurls (id, tenant_id, request_id, url, secret, format, enabled, created_at)
                VALUES (:id, :tenant_id, :request_id, :url, :secret, :format, :enabled, :created_at)
                """
            ),
            {
                "id": webhook.id,
                "tenant_id": webhook.tenant_id,
                "request_id": webhook.request_id,
                "url": webhook.url,
                "secret": webhook.secret,
                "format": webhook.format.value,
                "enabled": webhook.enabled,
                "created_at": webhook.created_at,
            },
        )

    def get(self, webhook_id: UUID, tenant_id: Scope) -> Webhook | None:
        row = self._connection.execute(
            text(f"SELECT {WEBHOOK_COLUMNS} FROM images.webhookurls WHERE id = :id AND {_OWNED}"),
            {"id": webhook_id, "tenant": tenant_id},
        ).first()
        return webhook_from(row) if row else None

    def for_request(self, request_id: UUID) -> list[Webhook]:
        return [webhook_from(row) for row in self._connection.execute(_FOR_REQUEST, {"id": request_id})]

    def save(self, webhook: Webhook) -> None:
        self._connection.execute(
            text(
                """
                UPDATE images.webhookurls
                SET secret = :secret, previous_secret = :previous_secret, previous_secret_until = :until
                WHERE id = :id
                """
            ),
            {
                "id": webhook.id,
                "secret": webhook.secret,
                "previous_secret": webhook.previous_secret,
                "until": webhook.previous_secret_until,
            },
        )

    def delete(self, webhook: Webhook) -> None:
        self._connection.execute(text("DELETE FROM images.webhookurls WHERE id = :id"), {"id": webhook.id})

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

    def get(self, delivery_id: str, tenant_id: Scope) -> Delivery | None:
        row = self._connection.execute(_DELIVERY_OWNED, {"id": delivery_id, "tenant": tenant_id}).first()
        return delivery_from(row) if row else None

    def save(self, delivery: Delivery) -> None:
        self._connection.execute(
            text(
                """
                UPDATE images.webhookdeliveries
                SET status = :status, next_attempt_at = :next_attempt_at, updated_at = now() WHERE id = :id
                """
            ),
            {"id": delivery.id, "status": delivery.status.value, "next_attempt_at": delivery.next_attempt_at},
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
        # The delivery may have been deleted, with its request or its webhook, while it was being sent.
        self._connection.execute(
            text(
                """
                INSERT INTO images.webhookattempts (delivery_id, attempt, attempted_at, status_code, error, duration_ms)
                SELECT id, :attempt, :at, :status_code, :error, :duration_ms FROM images.webhookdeliveries
                WHERE id = :id
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


def webhook_from(row: Row) -> Webhook:
    return Webhook(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        secret=row.secret,
        format=WebhookFormat(row.format),
        created_at=row.created_at,
        request_id=row.request_id,
        enabled=row.enabled,
        previous_secret=row.previous_secret,
        previous_secret_until=row.previous_secret_until,
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
