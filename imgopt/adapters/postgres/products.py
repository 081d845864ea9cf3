"""Products as uploaded, bulk-loaded with binary COPY, and how far their images have come."""

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import BinaryIO
from uuid import UUID

from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from imgopt.adapters.postgres.plain_csv import NotPlain, PlainCsv
from imgopt.adapters.postgres.product_copy import COPY_PRODUCTS, END, START, ProductCopy
from imgopt.application.ports import ProductRepository
from imgopt.domain.product_csv import CsvCounts, CsvLimits, ProductRow
from imgopt.domain.request import ProductProgress

_REPEATED_SERIAL = text(
    "SELECT 1 FROM images.productimages WHERE request_id = :id GROUP BY serial HAVING count(*) > 1 LIMIT 1"
)
# A product's jobs are created together (one expansion covers whole products), so counting them
# counts its images. One index probe per product: the planner cannot choose a scan of the whole
# request, which it did on fresh statistics, costing a scan per product.
_PROGRESS = text(
    """
    SELECT l.request_id, p.*
    FROM unnest(CAST(:requests AS uuid[]), CAST(:lines AS integer[])) AS l(request_id, line_no)
    CROSS JOIN LATERAL (
        SELECT count(*) AS images,
            count(*) FILTER (WHERE j.status = 'optimized') AS optimized,
            count(*) FILTER (WHERE j.status = 'failed') AS failed
        FROM images.optimizerjobs j WHERE j.request_id = l.request_id AND j.line_no = l.line_no) AS p
    """
)


class PostgresProductRepository(ProductRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        with self._copy() as copy:
            for chunk in ProductCopy(request_id).rows(rows):
                copy.write(chunk)

    def add_plain(self, request_id: UUID, csv_file: BinaryIO, limits: CsvLimits) -> CsvCounts | None:
        savepoint = self._connection.begin_nested()
        csv = PlainCsv(csv_file, limits)
        if self._copy_while_plain(ProductCopy(request_id), csv) and self._serials_distinct(request_id, csv):
            savepoint.commit()
            return csv.counts()
        savepoint.rollback()
        return None

    def _copy_while_plain(self, encoder: ProductCopy, csv: PlainCsv) -> bool:
        with self._copy() as copy:
            try:
                for block in csv:
                    copy.write(encoder.block(block))
            except NotPlain:
                return False  # the COPY still ends cleanly (no error in the server's log); the savepoint undoes it
        return True

    def _serials_distinct(self, request_id: UUID, csv: PlainCsv) -> bool:
        # Serials that only ever grow are distinct; others are compared here, in one pass.
        return csv.serials_increasing or not self._connection.execute(_REPEATED_SERIAL, {"id": request_id}).first()

    @contextmanager
    def _copy(self) -> Iterator[Copy]:
        # psycopg's writer thread sends each block while the next is read and encoded, which these
        # Python readers take about as long to do as the server takes to store a block.
        cursor = self._connection.connection.dbapi_connection.cursor()
        with cursor, cursor.copy(COPY_PRODUCTS, writer=QueuedLibpqWriter(cursor)) as copy:
            copy.write(START)
            yield copy
            copy.write(END)

    def progress(self, lines: Mapping[UUID, Collection[int]]) -> dict[UUID, list[ProductProgress]]:
        pairs = [(request_id, line) for request_id, request_lines in lines.items() for line in request_lines]
        if not pairs:
            return {request_id: [] for request_id in lines}
        params = {"requests": [request_id for request_id, _ in pairs], "lines": [line for _, line in pairs]}
        progress: dict[UUID, list[ProductProgress]] = {request_id: [] for request_id in lines}
        for row in self._connection.execute(_PROGRESS, params):
            progress[row.request_id].append(ProductProgress(row.images, row.optimized, row.failed))
        return progress
