"""Upload requests: the aggregate's row, locked while a worker counts outcomes into it."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Row, text

from imgopt.application.ports import RequestRepository, Scope
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.options import OptimizationOptions, OutputFormat
from imgopt.domain.request import UploadRequest

COLUMNS = """id, tenant_id, status, quality, auto_quality, max_width, max_height, output_format, product_count,
    image_count, last_line, expanded_line, created_at, started_at, finished_at, optimized_count, failed_count,
    cancelled_count, bytes_in, bytes_out, products_finished, products_with_errors"""

_INSERT = text(
    """
    INSERT INTO images.requests (id, tenant_id, status, quality, auto_quality, max_width, max_height, output_format,
        product_count, image_count, last_line, created_at)
    VALUES (:id, :tenant_id, :status, :quality, :auto_quality, :max_width, :max_height, :format, :products, :images,
        :last_line, :created_at)
    """
)

_SAVE = text(
    """
    UPDATE images.requests
    SET status = :status, started_at = :started_at, finished_at = :finished_at, expanded_line = :expanded_line,
        optimized_count = :optimized, failed_count = :failed, cancelled_count = :cancelled,
        bytes_in = :bytes_in, bytes_out = :bytes_out,
        products_finished = :products_finished, products_with_errors = :products_with_errors
    WHERE id = :id
    """
)

# A NULL tenant is the worker's scope: every tenant. Unknown and foreign ids take the same path.
_FOR_UPDATE = text(
    f"""SELECT {COLUMNS} FROM images.requests
    WHERE id = :id AND (CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant) FOR UPDATE"""
)

# productimages has no foreign key (it would slow COPY down); the rest goes with the request.
_TERMINAL = [status.value for status in RequestStatus if status.is_terminal]
_FINISHED_BEFORE = text(
    f"""
    SELECT {COLUMNS} FROM images.requests
    WHERE finished_at < :moment AND status = ANY(:terminal)
    ORDER BY finished_at LIMIT :limit FOR UPDATE SKIP LOCKED
    """
)

_DELETE = text(
    """
    WITH products AS (DELETE FROM images.productimages WHERE request_id = :id)
    DELETE FROM images.requests WHERE id = :id
    """
)

_MANY_FOR_UPDATE = text(
    f"SELECT {COLUMNS} FROM images.requests WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
)

# Requests `r` with `front`, the line of their first job due (claims take them in that order, so it
# says how many are left): one index probe per request, where counting cost a scan.
WITH_FRONT = """
    images.requests r LEFT JOIN LATERAL (
        SELECT j.line_no FROM images.optimizerjobs j
        WHERE j.request_id = r.id AND j.status = 'pending' AND j.next_attempt_at <= :now
        ORDER BY j.next_attempt_at, j.id LIMIT 1) AS due(front) ON true
"""
RUNNING = "r.status IN ('pending', 'processing')"
# Products left to turn into jobs, and none due or the first within `:lines` of the last made.
SHORT_OF_JOBS = "r.expanded_line < r.last_line AND coalesce(r.expanded_line - front < :lines, true)"

# The ones with fewest due first: a new upload, with none, before an old one running low.
_SHORT_OF_JOBS = text(
    f"""
    SELECT {COLUMNS} FROM {WITH_FRONT} WHERE {RUNNING} AND {SHORT_OF_JOBS}
    ORDER BY front IS NOT NULL, r.expanded_line - front, r.created_at, r.id
    LIMIT :limit
    FOR UPDATE OF r SKIP LOCKED
    """
)


class PostgresRequestRepository(RequestRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, request: UploadRequest) -> None:
        self._connection.execute(
            _INSERT,
            {
                "id": request.id,
                "tenant_id": request.tenant_id,
                "status": request.status.value,
                "quality": request.options.quality,
                "auto_quality": request.options.auto_quality,
                "max_width": request.options.max_width,
                "max_height": request.options.max_height,
                "format": request.options.format.value,
                "products": request.product_count,
                "images": request.image_count,
                "last_line": request.last_line,
                "created_at": request.created_at,
            },
        )

    def get_for_update(self, request_id: UUID, tenant_id: Scope) -> UploadRequest | None:
        row = self._connection.execute(_FOR_UPDATE, {"id": request_id, "tenant": tenant_id}).first()
        return request_from(row) if row else None

    def get_many_for_update(self, request_ids: Collection[UUID]) -> dict[UUID, UploadRequest]:
        rows = self._connection.execute(_MANY_FOR_UPDATE, {"ids": list(request_ids)})
        return {row.id: request_from(row) for row in rows}

    def short_of_jobs(self, lines: int, now: datetime, limit: int) -> list[UploadRequest]:
        rows = self._connection.execute(_SHORT_OF_JOBS, {"lines": lines, "now": now, "limit": limit})
        return [request_from(row) for row in rows]

    def delete(self, request: UploadRequest) -> None:
        self._connection.execute(_DELETE, {"id": request.id})

    def finished_before(self, moment: datetime, limit: int) -> list[UploadRequest]:
        params = {"moment": moment, "limit": limit, "terminal": _TERMINAL}
        rows = self._connection.execute(_FINISHED_BEFORE, params)
        return [request_from(row) for row in rows]

    def save(self, request: UploadRequest) -> None:
        self._connection.execute(
            _SAVE,
            {
                "id": request.id,
                "status": request.status.value,
                "started_at": request.started_at,
                "finished_at": request.finished_at,
                "expanded_line": request.expanded_line,
                "optimized": request.optimized,
                "failed": request.failed,
                "cancelled": request.cancelled,
                "bytes_in": request.bytes_in,
                "bytes_out": request.bytes_out,
                "products_finished": request.products_finished,
                "products_with_errors": request.products_with_errors,
            },
        )


def request_from(row: Row) -> UploadRequest:
    return UploadRequest(
        id=row.id,
        tenant_id=row.tenant_id,
        options=options_from(row),
        created_at=row.created_at,
        product_count=row.product_count,
        image_count=row.image_count,
        last_line=row.last_line,
        expanded_line=row.expanded_line,
        status=RequestStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        optimized=row.optimized_count,
        failed=row.failed_count,
        cancelled=row.cancelled_count,
        bytes_in=row.bytes_in,
        bytes_out=row.bytes_out,
        products_finished=row.products_finished,
        products_with_errors=row.products_with_errors,
    )


def options_from(row: Row) -> OptimizationOptions:
    return OptimizationOptions(
        quality=row.quality,
        max_width=row.max_width,
        max_height=row.max_height,
        format=OutputFormat(row.output_format),
        auto_quality=row.auto_quality,
    )
