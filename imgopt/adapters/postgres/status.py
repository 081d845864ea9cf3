"""Read models straight from the tables: status summaries, pages of products, delivery logs."""

from collections.abc import Iterator
from itertools import groupby
from uuid import UUID

from sqlalchemy import Engine, Row, text

from imgopt.adapters.postgres.outages import unavailable_on_outage
from imgopt.adapters.postgres.requests import COLUMNS, request_from
from imgopt.adapters.postgres.webhooks import DELIVERY_COLUMNS, delivery_from
from imgopt.application.ports import StatusReader
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.status import ImageDetail, ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery

_SUMMARY = text(
    f"""
    SELECT {COLUMNS},
        (SELECT count(*) FROM images.optimizerjobs j WHERE j.request_id = r.id AND j.status = 'processing')
        AS processing
    FROM images.requests r WHERE id = :id
    """
)

# LIMIT NULL is no limit: one statement reads a page or, streamed, the whole request.
_PRODUCTS = text(
    """
    SELECT p.line_no, p.serial, p.product_name, p.input_urls, j.position, j.status, j.attempts,
        j.output_url, j.failure_reason, j.media_type, j.bytes_in, j.bytes_out, j.width, j.height
    FROM (
        SELECT * FROM images.productimages
        WHERE request_id = :id AND line_no > :after ORDER BY line_no LIMIT :limit
    ) p
    LEFT JOIN images.optimizerjobs j ON j.request_id = p.request_id AND j.line_no = p.line_no
    ORDER BY p.line_no, j.position
    """
)

_DELIVERIES = text(
    f"SELECT {DELIVERY_COLUMNS} FROM images.webhookdeliveries WHERE request_id = :id ORDER BY created_at, id"
)

_ATTEMPTS = text(
    """
    SELECT a.delivery_id, a.attempted_at, a.status_code, a.error, a.duration_ms
    FROM images.webhookattempts a JOIN images.webhookdeliveries d ON d.id = a.delivery_id
    WHERE d.request_id = :id ORDER BY a.delivery_id, a.attempt
    """
)


class PostgresStatusReader(StatusReader):
    """Single reads run without a transaction (no BEGIN and ROLLBACK round trips: a status poll is one
    statement); a whole request's products stream through a server-side cursor, which needs one.
    The database being away is raised as Unavailable."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def summary(self, request_id: UUID) -> StatusSummary | None:
        with unavailable_on_outage(), self._autocommit() as connection:
            row = connection.execute(_SUMMARY, {"id": request_id}).first()
        return StatusSummary.of(request_from(row), row.processing) if row else None

    def products(self, request_id: UUID, after_line: int = 0, limit: int | None = None) -> Iterator[ProductDetail]:
        params = {"id": request_id, "after": after_line, "limit": limit}
        if limit is not None:
            with unavailable_on_outage(), self._autocommit() as connection:
                rows = connection.execute(_PRODUCTS, params).all()
            yield from _products(rows)
            return
        with unavailable_on_outage(), self._engine.connect() as connection, connection.begin():
            yield from _products(connection.execution_options(yield_per=2_000).execute(_PRODUCTS, params))

    def deliveries(self, request_id: UUID) -> list[tuple[Delivery, list[AttemptResult]]]:
        with unavailable_on_outage(), self._autocommit() as connection:
            deliveries = [delivery_from(row) for row in connection.execute(_DELIVERIES, {"id": request_id})]
            attempts: dict[str, list[AttemptResult]] = {delivery.id: [] for delivery in deliveries}
            for row in connection.execute(_ATTEMPTS, {"id": request_id}):
                attempts[row.delivery_id].append(
                    AttemptResult(row.attempted_at, row.status_code, row.error, row.duration_ms)
                )
        return [(delivery, attempts[delivery.id]) for delivery in deliveries]

    def _autocommit(self):
        return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")


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
        media_type=job.media_type,
        bytes_in=job.bytes_in,
        bytes_out=job.bytes_out,
        width=job.width,
        height=job.height,
    )
