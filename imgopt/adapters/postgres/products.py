"""Products as uploaded: bulk-loaded with COPY, read back in file order with their images."""

import re
from collections.abc import Iterable, Iterator
from itertools import groupby
from uuid import UUID

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from imgopt.application.ports import ProductRepository
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.product_csv import ProductRow
from imgopt.domain.status import ImageDetail, ProductDetail

_COPY = "COPY images.productimages (request_id, line_no, serial, product_name, input_urls) FROM STDIN"
# About 32 KiB a write: psycopg's writer queues up to 1024 writes, so this bounds the backlog too.
_CHUNK_ROWS = 250
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAY_SPECIAL = re.compile(r'["\\]')


class PostgresProductRepository(ProductRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        # The queued writer sends from its own thread, so checking rows and loading them overlap.
        cursor = self._connection.connection.dbapi_connection.cursor()
        with cursor, cursor.copy(_COPY, writer=QueuedLibpqWriter(cursor)) as copy:
            prefix = f"{request_id}\t"
            lines: list[str] = []
            for line, serial, name, urls in rows:
                if _COPY_SPECIAL.search(name):
                    name = name.translate(_COPY_ESCAPES)
                lines.append(f"{prefix}{line}\t{serial}\t{name}\t{_array_literal(urls)}\n")
                if len(lines) == _CHUNK_ROWS:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))

    def details(self, request_id: UUID) -> Iterator[ProductDetail]:
        result = self._connection.execution_options(yield_per=2_000).execute(
            text(
                """
                SELECT p.line_no, p.serial, p.product_name, p.input_urls, j.position, j.status, j.attempts,
                    j.output_url, j.failure_reason, j.media_type, j.bytes_in, j.bytes_out, j.width, j.height
                FROM images.productimages p
                LEFT JOIN images.optimizerjobs j ON j.request_id = p.request_id AND j.line_no = p.line_no
                WHERE p.request_id = :id
                ORDER BY p.line_no, j.position
                """
            ),
            {"id": request_id},
        )
        for _, rows in groupby(result, key=lambda row: row.line_no):
            rows = list(rows)
            first = rows[0]
            jobs = {row.position: row for row in rows if row.position is not None}
            images = [_image(position, url, jobs.get(position)) for position, url in enumerate(first.input_urls)]
            yield ProductDetail(first.line_no, first.serial, first.product_name, images)


def _image(position: int, url: str, job) -> ImageDetail:
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


def _array_literal(urls: tuple[str, ...]) -> str:
    """A text[] literal in COPY text format: elements quoted, then COPY's own escaping."""
    if not _ARRAY_SPECIAL.search("".join(urls)):
        return '{"' + '","'.join(urls) + '"}'
    escaped = '","'.join(url.replace("\\", "\\\\").replace('"', '\\"') for url in urls)
    return ('{"' + escaped + '"}').translate(_COPY_ESCAPES)
