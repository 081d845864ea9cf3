"""A plain file's rows as binary COPY data: compiled where the scanner is sure of a block, in Python otherwise."""

import sys
from collections.abc import Iterator
from uuid import UUID

from imgopt.adapters.postgres.product_copy import ProductCopy
from imgopt.domain.plain_csv import BlockTally, PlainCsv, PlainLines

try:
    from imgopt.adapters.postgres._plain_copy import scan
except ImportError:  # installed without a C compiler: every block goes the Python way
    scan = None

COMPILED = scan is not None
"""Whether the compiled scanner (`_plain_copy.c`, built at install when a C compiler is there) loaded."""


class PlainCopy:
    """The COPY data of a plain file's rows, a block at a time, counted by the PlainCsv that read the file.

    Reading the rows in Python (PlainCsv's regular expression, then ProductCopy) cost the API about
    3 µs a row, more than the database's work on them. The compiled scanner takes a block of lines
    and writes the same COPY rows in a tenth of that, but it knows only the commonest shapes of a
    plain row; for any block it is unsure of (non-ASCII text, blank rows, spaced lists, commas in
    URLs, a limit reached) it declines, and the Python path reads that block as it always did. The
    differential tests hold the scanner to the Python path's bytes and counts.
    """

    def __init__(self, request_id: UUID, compiled: bool = True) -> None:
        self._encoder = ProductCopy(request_id)
        self._scan = scan if compiled else None

    def blocks(self, csv: PlainCsv) -> Iterator[bytes]:
        for lines in csv.line_blocks():
            copy = self.compiled_block(csv, lines)
            yield self._encoder.block(csv.read(lines)) if copy is None else copy

    def compiled_block(self, csv: PlainCsv, lines: PlainLines) -> bytes | None:
        """The block's COPY rows, counted by `csv`; None, and nothing counted, when the scanner declines it."""
        if self._scan is None:
            return None
        limits = csv.limits
        # A limit too large for C's integers is one no block can reach.
        max_name_length, max_urls = (
            min(limit, sys.maxsize) for limit in (limits.max_name_length, limits.max_urls_per_row)
        )
        scanned = self._scan(lines.data, lines.first_line, self._encoder.row_prefix, max_name_length, max_urls)
        if scanned is None:
            return None
        copy, rows, images, first_serial, last_serial, increasing, longest_url, longest_cell = scanned
        last_line = lines.first_line + rows - 1
        csv.count(BlockTally(rows, images, first_serial, last_serial, increasing, last_line, longest_url, longest_cell))
        return copy
