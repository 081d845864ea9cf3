"""Products as uploaded, bulk-loaded with COPY, and how far their images have come."""

import re
from collections.abc import Collection, Iterable
from uuid import UUID

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from imgopt.application.ports import ProductRepository
from imgopt.domain.product_csv import ProductRow
from imgopt.domain.request import ProductProgress

_COPY = "COPY images.productimages (request_id, line_no, serial, product_name, input_urls) FROM STDIN"
# About 32 KiB a write: psycopg's writer queues up to 1024 writes, so this bounds the backlog too.
_CHUNK_ROWS = 250
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAY_SPECIAL = re.compile(r'["\\]')
# A product's jobs are created together (one expansion covers whole products), so counting them
# counts its images. One index probe per product: the planner cannot choose a scan of the whole
# request, which it did on fresh statistics, costing a scan per product.
_PROGRESS = text(
    """
    SELECT p.* FROM unnest(CAST(:lines AS integer[])) AS l(line_no) CROSS JOIN LATERAL (
        SELECT count(*) AS images,
            count(*) FILTER (WHERE j.status = 'optimized') AS optimized,
            count(*) FILTER (WHERE j.status = 'failed') AS failed
        FROM images.optimizerjobs j WHERE j.request_id = :id AND j.line_no = l.line_no) AS p
    """
)


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

    def progress(self, request_id: UUID, lines: Collection[int]) -> list[ProductProgress]:
        rows = self._connection.execute(_PROGRESS, {"id": request_id, "lines": list(lines)})
        return [ProductProgress(row.images, row.optimized, row.failed) for row in rows]


def _array_literal(urls: tuple[str, ...]) -> str:
    """A text[] literal in COPY text format: elements quoted, then COPY's own escaping."""
    if not _ARRAY_SPECIAL.search("".join(urls)):
        return '{"' + '","'.join(urls) + '"}'
    escaped = '","'.join(url.replace("\\", "\\\\").replace('"', '\\"') for url in urls)
    return ('{"' + escaped + '"}').translate(_COPY_ESCAPES)
