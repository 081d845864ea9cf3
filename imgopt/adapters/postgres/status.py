"""Read models straight from the tables: status summaries, pages of products, delivery logs."""

from collections.abc import Callable, Iterator
from itertools import groupby
from uuid import UUID

from sqlalchemy import Engine, Row, text

from imgopt.adapters.postgres.image_results import result_of, selected
from imgopt.adapters.postgres.outages import unavailable_on_outage
from imgopt.adapters.postgres.requests import COLUMNS, request_from
from imgopt.adapters.postgres.webhooks import DELIVERY_COLUMNS, WEBHOOK_COLUMNS, delivery_from, webhook_from
from imgopt.application.ports import Page, Position, Scope, StatusReader
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.status import ImageDetail, ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery, Webhook

# A NULL tenant is the worker's scope (every tenant); a caller's reads always name its own.
_OWNED = "(CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant)"
_PROCESSING = """(SELECT count(*) FROM images.optimizerjobs j WHERE j.request_id = r.id AND j.status = 'processing')
    AS processing"""

_SUMMARY = text(f"SELECT {COLUMNS}, {_PROCESSING} FROM images.requests r WHERE id = :id AND {_OWNED}")

_REQUESTS = text(
    f"""
    SELECT {COLUMNS}, {_PROCESSING} FROM images.requests r
    WHERE tenant_id = :tenant AND (CAST(:status AS text) IS NULL OR status = :status)
        AND (CAST(:after_at AS timestamptz) IS NULL OR (created_at, id) < (:after_at, CAST(:after_id AS uuid)))
    ORDER BY created_at DESC, id DESC LIMIT :limit
    """
)

_WEBHOOKS = text(
    f"""
    SELECT {WEBHOOK_COLUMNS} FROM images.webhookurls
    WHERE tenant_id = :tenant
        AND (CAST(:after_at AS timestamptz) IS NULL OR (created_at, id) < (:after_at, CAST(:after_id AS uuid)))
    ORDER BY created_at DESC, id DESC LIMIT :limit
    """
)

_WEBHOOK_DELIVERIES = text(
    f"""
    SELECT {DELIVERY_COLUMNS} FROM images.webhookdeliveries
    WHERE webhook_id = :webhook
        AND (CAST(:after_at AS timestamptz) IS NULL OR (created_at, id) < (:after_at, :after_id))
    ORDER BY created_at DESC, id DESC LIMIT :limit
    """
)

_WEBHOOK_OWNED = text(f"SELECT 1 FROM images.webhookurls WHERE id = :webhook AND {_OWNED}")

# LIMIT NULL is no limit: one statement reads a page or, streamed, the whole request.
_PRODUCTS = text(
    f"""
    SELECT p.line_no, p.serial, p.product_name, p.input_urls, j.position, j.status, j.attempts,
        j.output_url, j.failure_reason, {selected("j")}
    FROM (
        SELECT * FROM images.productimages
        WHERE request_id = :id AND line_no > :after
            AND EXISTS (SELECT 1 FROM images.requests WHERE id = :id AND {_OWNED})
        ORDER BY line_no LIMIT :limit
    ) p
    LEFT JOIN images.optimizerjobs j ON j.request_id = p.request_id AND j.line_no = p.line_no
    ORDER BY p.line_no, j.position
    """
)

_DELIVERIES = text(
    f"""
    SELECT {DELIVERY_COLUMNS} FROM images.webhookdeliveries
    WHERE request_id = :id AND EXISTS (SELECT 1 FROM images.requests WHERE id = :id AND {_OWNED})
    ORDER BY created_at, id
    """
)

_ATTEMPTS = text(
    """
    SELECT delivery_id, attempted_at, status_code, error, duration_ms FROM images.webhookattempts
    WHERE delivery_id = ANY(:ids) ORDER BY delivery_id, attempt
    """
)


class PostgresStatusReader(StatusReader):
    """Single reads run without a transaction (no BEGIN and ROLLBACK round trips: a status poll is one
    statement); a whole request's products stream through a server-side cursor, which needs one.
    The database being away is raised as Unavailable."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def summary(self, request_id: UUID, tenant_id: Scope) -> StatusSummary | None:
        with unavailable_on_outage(), self._autocommit() as connection:
            row = connection.execute(_SUMMARY, {"id": request_id, "tenant": tenant_id}).first()
        return StatusSummary.of(request_from(row), row.processing) if row else None

    def products(
        self, request_id: UUID, tenant_id: Scope, after_line: int = 0, limit: int | None = None
    ) -> Iterator[ProductDetail]:
        params = {"id": request_id, "tenant": tenant_id, "after": after_line, "limit": limit}
        if limit is not None:
            with unavailable_on_outage(), self._autocommit() as connection:
                rows = connection.execute(_PRODUCTS, params).all()
            yield from _products(rows)
            return
        with unavailable_on_outage(), self._engine.connect() as connection, connection.begin():
            yield from _products(connection.execution_options(yield_per=2_000).execute(_PRODUCTS, params))

    def deliveries(self, request_id: UUID, tenant_id: Scope) -> list[tuple[Delivery, list[AttemptResult]]]:
        with unavailable_on_outage(), self._autocommit() as connection:
            rows = connection.execute(_DELIVERIES, {"id": request_id, "tenant": tenant_id})
            return _with_attempts(connection, [delivery_from(row) for row in rows])

    def requests(self, tenant_id: UUID, status: str | None, after: Position | None, limit: int) -> Page[StatusSummary]:
        params = {"tenant": tenant_id, "status": status, **_after(after), "limit": limit + 1}
        with unavailable_on_outage(), self._autocommit() as connection:
            rows = connection.execute(_REQUESTS, params).all()
        summaries = [StatusSummary.of(request_from(row), row.processing) for row in rows]
        return _page(summaries, limit, lambda s: Position(s.created_at, str(s.request_id)))

    def webhooks(self, tenant_id: UUID, after: Position | None, limit: int) -> Page[Webhook]:
        with unavailable_on_outage(), self._autocommit() as connection:
            rows = connection.execute(_WEBHOOKS, {"tenant": tenant_id, **_after(after), "limit": limit + 1}).all()
        return _page([webhook_from(row) for row in rows], limit, lambda w: Position(w.created_at, str(w.id)))

    def webhook_deliveries(
        self, webhook_id: UUID, tenant_id: UUID, after: Position | None, limit: int
    ) -> Page[tuple[Delivery, list[AttemptResult]]] | None:
        with unavailable_on_outage(), self._autocommit() as connection:
            if connection.execute(_WEBHOOK_OWNED, {"webhook": webhook_id, "tenant": tenant_id}).first() is None:
                return None
            params = {"webhook": webhook_id, **_after(after), "limit": limit + 1}
            deliveries = [delivery_from(row) for row in connection.execute(_WEBHOOK_DELIVERIES, params)]
            logged = _with_attempts(connection, deliveries)
        return _page(logged, limit, lambda d: Position(d[0].created_at, d[0].id))

    def _autocommit(self):
        return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _after(after: Position | None) -> dict:
    return {"after_at": after.created_at if after else None, "after_id": after.id if after else None}


def _page(items: list, limit: int, position: Callable) -> Page:
    """`items` holds one more than a page when another page follows."""
    return Page(items[:limit], position(items[limit - 1]) if len(items) > limit else None)


def _with_attempts(connection, deliveries: list[Delivery]) -> list[tuple[Delivery, list[AttemptResult]]]:
    attempts: dict[str, list[AttemptResult]] = {delivery.id: [] for delivery in deliveries}
    if attempts:
        for row in connection.execute(_ATTEMPTS, {"ids": list(attempts)}):
            attempts[row.delivery_id].append(
                AttemptResult(row.attempted_at, row.status_code, row.error, row.duration_ms)
            )
    return [(delivery, attempts[delivery.id]) for delivery in deliveries]


def _products(rows) -> Iterator[ProductDetail]:
    for _, group in groupby(rows, key=lambda row: row.line_no):
        group = list(group)
        first = group[0]
        jobs = {row.position: row for row in group if row.position is not None}
        images = [_image(position, url, jobs.get(position)) for position, url in enumerate(first.input_urls)]
        yield ProductDetail(first.line_no, first.serial, first.product_name, images)


def _image(position: int, url: str, job: Row | None) -> ImageDetail:
    if job is None:
        return ImageDetail(position, url, ImageStatus.PENDING)
    return ImageDetail(
        position=position,
        input_url=url,
        status=ImageStatus(job.status),
        attempts=job.attempts,
        output_url=job.output_url,
        failure_reason=job.failure_reason,
        result=result_of(job),
    )
