"""Products as uploaded: bulk-loaded with binary COPY, read back in file order with their images."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import groupby
from uuid import UUID

from psycopg import Copy
from sqlalchemy import Connection, text

from imgopt.adapters.postgres.product_copy import COPY_PRODUCTS, END, START, ProductCopy
from imgopt.application.ports import ProductRepository
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.plain_csv import NotPlain, PlainCsv
from imgopt.domain.product_csv import ProductRow
from imgopt.domain.status import ImageDetail, ProductDetail

_REPEATED_SERIAL = text(
    "SELECT 1 FROM images.productimages WHERE request_id = :id GROUP BY serial HAVING count(*) > 1 LIMIT 1"
)


class PostgresProductRepository(ProductRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        with self._copy() as copy:
            for chunk in ProductCopy(request_id).rows(rows):
                copy.write(chunk)

    def add_plain(self, request_id: UUID, csv: PlainCsv) -> bool:
        savepoint = self._connection.begin_nested()
        stored = self._copy_while_plain(ProductCopy(request_id), csv) and self._serials_distinct(request_id, csv)
        if stored:
            savepoint.commit()
        else:
            savepoint.rollback()
        return stored

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
        # Written straight to the socket: the server loads one block while the next is encoded, and
        # a slower server makes the writes wait (a writer thread measured no faster, and queued).
        cursor = self._connection.connection.dbapi_connection.cursor()
        with cursor, cursor.copy(COPY_PRODUCTS) as copy:
            copy.write(START)
            yield copy
            copy.write(END)

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
