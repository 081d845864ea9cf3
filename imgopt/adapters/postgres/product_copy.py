"""Product rows in PostgreSQL's binary COPY format: nothing to escape here, no text to parse on the server."""

import struct
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from uuid import UUID

from imgopt.adapters.postgres.plain_csv import PlainBlock
from imgopt.domain.product_csv import ProductRow

COPY_PRODUCTS = (
    "COPY images.productimages (request_id, line_no, serial, product_name, input_urls) FROM STDIN (FORMAT binary)"
)
# The signature, no flags, no header extension; and the end-of-data marker.
START = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
END = b"\xff\xff"
_TEXT_OID = 25
# A row starts with its field count and the request id (each value is preceded by its length), then
# come line_no, the serial, the name's length, the name, and the URLs as a text[] value: its length,
# one dimension, no nulls, the element type, the element count, the first index, then each element.
_ROW_START = struct.Struct(">26siiqi")
_ARRAY_START = struct.Struct(">iiiIii")
_length = struct.Struct(">i").pack
# About 40 KiB a write, like a block of a plain file.
_ROWS_PER_WRITE = 250


class ProductCopy:
    """The rows of one request, as data for COPY_PRODUCTS between START and END."""

    def __init__(self, request_id: UUID) -> None:
        # The field count, then the request id and the length of line_no: the same at the start of every row.
        self.row_prefix = struct.pack(">hi16si", 5, 16, request_id.bytes, 4)

    def block(self, block: PlainBlock) -> bytes:
        return self._encode(block.lines, block.serials, block.names, block.urls)

    def rows(self, rows: Iterable[ProductRow]) -> Iterator[bytes]:
        rows = iter(rows)
        while batch := list(islice(rows, _ROWS_PER_WRITE)):
            lines, serials, names, urls = zip(*batch, strict=True)
            names = [name.encode() for name in names]
            yield self._encode(lines, serials, names, [[url.encode() for url in row_urls] for row_urls in urls])

    def _encode(
        self, lines: Sequence[int], serials: Sequence[int], names: Sequence[bytes], urls: Sequence[Sequence[bytes]]
    ) -> bytes:
        row_start, array_start, length, prefix = _ROW_START.pack, _ARRAY_START.pack, _length, self.row_prefix
        parts: list[bytes] = []
        extend = parts.extend
        for line, serial, name, row_urls in zip(lines, serials, names, urls, strict=True):
            count = len(row_urls)
            extend(
                (
                    row_start(prefix, line, 8, serial, len(name)),
                    name,
                    array_start(20 + 4 * count + sum(map(len, row_urls)), 1, 0, _TEXT_OID, count, 1),
                )
            )
            for url in row_urls:
                extend((length(len(url)), url))
        return b"".join(parts)
