"""Upload requests and their status summaries."""

from uuid import UUID

from sqlalchemy import Connection, Row, text

from imgopt.application.ports import RequestRepository
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.model import UploadRequest
from imgopt.domain.options import OptimizationOptions, OutputFormat
from imgopt.domain.status import ImageCounts, ProductCounts, StatusSummary

WORK_CHANNEL = "imgopt_work"

_COLUMNS = """id, status, quality, max_width, max_height, output_format, product_count, image_count,
    created_at, started_at, finished_at"""


class PostgresRequestRepository(RequestRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, request: UploadRequest) -> None:
        """Insert the request; its products must be stored already (last_line is taken from them)."""
        self._connection.execute(
            text(
                """
                INSERT INTO images.requests (id, status, quality, max_width, max_height, output_format,
                    product_count, image_count, last_line, created_at)
                VALUES (:id, :status, :quality, :max_width, :max_height, :format, :products, :images,
                    coalesce((SELECT max(line_no) FROM images.productimages WHERE request_id = :id), 0),
                    :created_at)
                """
            ),
            {
                "id": request.id,
                "status": request.status.value,
                "quality": request.options.quality,
                "max_width": request.options.max_width,
                "max_height": request.options.max_height,
                "format": request.options.format.value,
                "products": request.product_count,
                "images": request.image_count,
                "created_at": request.created_at,
            },
        )
        self._connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WORK_CHANNEL})

    def get(self, request_id: UUID) -> UploadRequest | None:
        row = self._connection.execute(
            text(f"SELECT {_COLUMNS} FROM images.requests WHERE id = :id"), {"id": request_id}
        ).first()
        return _request(row) if row else None

    def get_for_update(self, request_id: UUID) -> UploadRequest | None:
        row = self._connection.execute(
            text(f"SELECT {_COLUMNS} FROM images.requests WHERE id = :id FOR UPDATE"), {"id": request_id}
        ).first()
        return _request(row) if row else None

    def save(self, request: UploadRequest) -> None:
        self._connection.execute(
            text(
                """
                UPDATE images.requests SET status = :status, started_at = :started_at, finished_at = :finished_at
                WHERE id = :id
                """
            ),
            {
                "id": request.id,
                "status": request.status.value,
                "started_at": request.started_at,
                "finished_at": request.finished_at,
            },
        )

    def summary(self, request_id: UUID) -> StatusSummary | None:
        row = self._connection.execute(
            text(
                f"""
                SELECT {_COLUMNS}, products_finished, products_with_errors, optimized_count, failed_count,
                    bytes_in, bytes_out,
                    (SELECT count(*) FROM images.optimizerjobs j
                     WHERE j.request_id = r.id AND j.status = 'processing') AS processing
                FROM images.requests r WHERE id = :id
                """
            ),
            {"id": request_id},
        ).first()
        if row is None:
            return None
        request = _request(row)
        return StatusSummary(
            request_id=request.id,
            status=request.status,
            options=request.options,
            created_at=request.created_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            products=ProductCounts(row.product_count, row.products_finished, row.products_with_errors),
            images=ImageCounts(row.image_count, row.processing, row.optimized_count, row.failed_count),
            bytes_in=row.bytes_in,
            bytes_out=row.bytes_out,
        )


def _request(row: Row) -> UploadRequest:
    return UploadRequest(
        id=row.id,
        options=options_from(row),
        created_at=row.created_at,
        product_count=row.product_count,
        image_count=row.image_count,
        status=RequestStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def options_from(row: Row) -> OptimizationOptions:
    return OptimizationOptions(
        quality=row.quality,
        max_width=row.max_width,
        max_height=row.max_height,
        format=OutputFormat(row.output_format),
    )
