"""The common shape of a valid upload, recognised a block at a time by one regular expression."""

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice, repeat
from operator import add, lt
from typing import BinaryIO

from imgopt.domain.plain_rows import HEADER_LINE, row_grammar, split_spaced_list
from imgopt.domain.product_csv import CsvLimits, CsvTooLarge, ProductRow

BLOCK_BYTES = 1 << 16
# No valid row is this long (a cell may hold 131,072 characters); a longer line goes to the row rules.
_MAX_LINE_BYTES = 1 << 20


class NotPlain(Exception):
    """The file is not of the plain shape: only the row-by-row rules can say whether it is valid."""


@dataclass(frozen=True, slots=True)
class PlainBlock:
    """Valid product rows as columns (lines, serials, UTF-8 names, each row's URLs), and the line after them."""

    lines: Sequence[int]
    serials: list[int]
    names: list[bytes]
    urls: list[list[bytes]]
    next_line: int

    def product_rows(self) -> Iterator[ProductRow]:
        for line, serial, name, urls in zip(self.lines, self.serials, self.names, self.urls, strict=True):
            yield ProductRow(line, serial, name.decode(), tuple(url.decode() for url in urls))


@dataclass(frozen=True, slots=True)
class PlainLines:
    """A block of whole lines of the file (each ending in LF) and the number of its first line."""

    data: bytes
    first_line: int


@dataclass(frozen=True, slots=True)
class BlockTally:
    """What a block of plain rows adds to the file's counts, whoever read the rows: kept by PlainCsv alone."""

    rows: int
    images: int
    first_serial: int
    last_serial: int
    increasing: bool  # within the block
    last_line: int
    longest_url: int
    longest_cell: int  # in bytes, a name or a whole URL cell


class PlainCsv:
    """Blocks of the rows of an upload that has the plain shape, or NotPlain as soon as it has not.

    Plain: the exact header, then one row per line (LF or CRLF), blank rows allowed; a serial
    without spaces, a name without control characters, quotes or surrounding spaces, and
    http(s) URLs of the common form in one cell, quoted when there are several. Every row of a
    plain file is valid by the rules of ProductCsvReader and reads the same there (the
    differential tests hold the two together), so a plain file needs no row-by-row reading.
    Serials are known to be distinct when `serials_increasing`; otherwise the caller checks.

    Iterating reads each block here. A faster reader of the same rows may instead take `line_blocks()`
    and, block by block, either `count()` what it read or hand the block to `read()`: the counts and
    the limits stay here either way.
    """

    def __init__(self, stream: BinaryIO, limits: CsvLimits = CsvLimits()) -> None:
        self._stream = stream
        self.limits = limits
        self.product_count = 0
        self.image_count = 0
        self.last_line = 0
        self.serials_increasing = True
        self._last_serial = 0

    def __iter__(self) -> Iterator[PlainBlock]:
        return map(self.read, self.line_blocks())

    def line_blocks(self) -> Iterator[PlainLines]:
        """The lines after the header, about 64 KiB at a time; NotPlain at the end if no product row was counted."""
        limits = self.limits
        if min(limits.max_urls_per_row, limits.max_name_length) < 1:
            raise NotPlain  # limits no row can meet: the row rules say so, row by row
        if not HEADER_LINE.fullmatch(self._stream.readline(_MAX_LINE_BYTES)):
            raise NotPlain
        line, rest = 2, b""
        while chunk := self._stream.read(BLOCK_BYTES):
            cut = chunk.rfind(b"\n") + 1
            if not cut:  # a line longer than a block
                rest += chunk
                if len(rest) > _MAX_LINE_BYTES:
                    raise NotPlain
                continue
            data = rest + chunk[:cut]
            yield PlainLines(data, line)
            line, rest = line + data.count(b"\n"), chunk[cut:]
        if rest:
            yield PlainLines(rest + b"\n", line)
        if not self.product_count:
            raise NotPlain

    def read(self, lines: PlainLines) -> PlainBlock:
        """The block's rows by the plain grammar, counted; NotPlain if any line is not a plain row."""
        data, first_line = lines.data, lines.first_line
        rows = row_grammar(self.limits).findall(data)
        next_line = first_line + len(rows)
        if next_line - first_line != data.count(b"\n"):
            raise NotPlain  # a line that is not a plain row
        serials, quoted_names, names, urls, quoted_lists, spaced_lists = zip(*rows, strict=True)
        block_lines: Sequence[int] = range(first_line, next_line)
        if b"" in serials:  # blank rows, skipped as the row rules skip them
            kept = [index for index, serial in enumerate(serials) if serial]
            block_lines = [first_line + index for index in kept]
            serials, quoted_names, names, urls, quoted_lists, spaced_lists = (
                [column[index] for index in kept]
                for column in (serials, quoted_names, names, urls, quoted_lists, spaced_lists)
            )
        # Of each quoted and unquoted alternative exactly one matched and the other is b"": add() picks it.
        names, cells = list(map(add, quoted_names, names)), list(map(add, urls, quoted_lists))
        url_lists = list(map(bytes.split, cells, repeat(b",")))
        if any(spaced_lists):
            url_lists = [
                split_spaced_list(spaced) if spaced else urls
                for urls, spaced in zip(url_lists, spaced_lists, strict=True)
            ]
        if not data.isascii():
            _check_text(names)
        block = PlainBlock(block_lines, list(map(int, serials)), names, url_lists, next_line)
        self.count(_tally(block, max(map(len, chain(cells, spaced_lists, names)), default=0)))
        return block

    def count(self, tally: BlockTally) -> None:
        """Add a block's rows to the counts: NotPlain for a cell the row rules refuse, CsvTooLarge past max_rows."""
        if tally.longest_cell > csv.field_size_limit() or tally.longest_url > self.limits.max_url_length:
            raise NotPlain
        if not tally.rows:
            return
        self.serials_increasing = (
            self.serials_increasing and tally.increasing and tally.first_serial > self._last_serial
        )
        self._last_serial = tally.last_serial
        self.product_count += tally.rows
        self.last_line = tally.last_line
        if self.product_count > self.limits.max_rows:
            raise CsvTooLarge.beyond(self.limits.max_rows)
        self.image_count += tally.images


def _tally(block: PlainBlock, longest_cell: int) -> BlockTally:
    serials = block.serials
    if not serials:
        return BlockTally(0, 0, 0, 0, True, 0, 0, longest_cell)
    return BlockTally(
        rows=len(serials),
        images=sum(map(len, block.urls)),
        first_serial=serials[0],
        last_serial=serials[-1],
        increasing=all(map(lt, serials, islice(serials, 1, None))),
        last_line=block.lines[-1],
        longest_url=max(map(len, chain.from_iterable(block.urls))),
        longest_cell=longest_cell,
    )


def _check_text(names: list[bytes]) -> None:
    """UTF-8 throughout, and no name with spaces str.strip() would remove (ASCII ones the grammar refuses)."""
    for name in names:
        if not name.isascii():
            try:
                text = name.decode()
            except UnicodeDecodeError:
                raise NotPlain from None
            if text != text.strip():
                raise NotPlain
