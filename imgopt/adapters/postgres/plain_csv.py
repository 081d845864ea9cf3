"""Uploads of the common shape read in bulk: each block of lines checked by one RE2 pattern, cut by bytes methods."""

import csv
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import chain, compress, repeat
from operator import itemgetter
from typing import BinaryIO, NamedTuple

import re2

from imgopt.domain.product_csv import (
    HEADER,
    PLAIN_URL_CHARACTERS,
    PLAIN_URL_PATTERN,
    CsvCounts,
    CsvLimits,
    CsvTooLarge,
)

# Twice the longest valid row (a cell may hold 131,072 characters): a longer line goes to the row rules.
BLOCK_BYTES = 1 << 18
# Blocks whose rows all have this many URLs or fewer are cut in one split (a pattern per count).
_UNIFORM_URLS = 16
_HEADER = ",".join(HEADER).encode()
_HEADER_LINES = {prefix + _HEADER + end for prefix in (b"", b"\xef\xbb\xbf") for end in (b"\n", b"\r\n")}


@cache
def _plain_lines(urls: int | None):
    """Whole lines, each a product row of the common shape with `urls` URLs; or, for None, with any
    number of URLs, or an empty row (only commas, spaces and tabs).

    A serial of digits; a name, quoted or not, without control characters, quotes, commas or spaces
    at either end; then one URL of the row rules' plain pattern (without quotes or commas), or a
    quoted list of them separated by bare commas. Lengths and counts are checked apart, by `read`.
    """
    url = PLAIN_URL_PATTERN.replace(f"[{PLAIN_URL_CHARACTERS}]", r"[\x21\x23-\x2b\x2d-\x7e]")
    edge = r"[^\x00-\x20\x7f\",]"
    name = rf"{edge}(?:[^\x00-\x1f\x7f\",]*{edge})?"
    if urls is None:
        cell = rf"{url}|\"{url}(?:,{url})*\""
    else:  # exactly that many, a single one bare or quoted
        cell = rf"{url}|\"{url}\"" if urls == 1 else rf"\"{url}(?:,{url}){{{urls - 1}}}\""
    product = rf"[0-9]{{1,18}},(?:{name}|\"{name}\"),(?:{cell})"
    row = rf"(?:{product}|[ \t]*(?:,[ \t]*)*)" if urls is None else product
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are; UTF-8 is checked apart
    options.never_capture = True
    return re2.compile(rf"(?:{row}\r?\n)*".encode(), options)


_serial, _name, _urls = itemgetter(0), itemgetter(1), itemgetter(slice(2, None))


class NotPlain(Exception):
    """The file is not of the common shape: only the row-by-row rules can say whether it is valid."""


class PlainBlock(NamedTuple):
    """Valid product rows as columns: line numbers, serials, UTF-8 names, each row's URLs."""

    lines: Sequence[int]
    serials: list[int]
    names: list[bytes]
    urls: Sequence[Sequence[bytes]]


class PlainCsv:
    """Blocks of the rows of an upload of the common shape, or NotPlain as soon as it has not that shape.

    Every row of such a file is valid by the rules of ProductCsvReader and reads the same there
    (the differential tests hold the two together), so it needs no row-by-row reading: RE2 checks a
    block of about 256 KiB in one pass, and bytes methods cut it into cells (a quote can only
    surround a cell, a comma only separate two). Serials are known to be distinct while
    `serials_increasing`; otherwise the caller compares them. The counts and limits are the rules'.
    """

    def __init__(self, stream: BinaryIO, limits: CsvLimits = CsvLimits()) -> None:
        self._stream = stream
        self._limits = limits
        self.product_count = 0
        self.image_count = 0
        self.last_line = 0
        self.serials_increasing = True
        self._last_serial = 0

    def __iter__(self) -> Iterator[PlainBlock]:
        if min(self._limits.max_urls_per_row, self._limits.max_name_length) < 1:
            raise NotPlain  # limits no row can meet: the row rules say so, row by row
        if self._stream.readline(BLOCK_BYTES) not in _HEADER_LINES:
            raise NotPlain
        line, rest = 2, b""
        while chunk := self._stream.read(BLOCK_BYTES):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if len(data) - cut > BLOCK_BYTES:
                raise NotPlain
            if cut:
                yield self.read(data[:cut], line)
                line += data.count(b"\n", 0, cut)
            rest = data[cut:]
        if rest:
            yield self.read(rest + b"\n", line)
        if not self.product_count:
            raise NotPlain

    def counts(self) -> CsvCounts:
        return CsvCounts(self.product_count, self.image_count, self.last_line)

    def read(self, data: bytes, first_line: int) -> PlainBlock:
        """The rows of `data` (whole lines, the first numbered `first_line`), counted; NotPlain if any is not plain."""
        urls = data.count(b",", 0, data.find(b"\n")) - 1  # on the first line
        if 0 < urls <= min(_UNIFORM_URLS, self._limits.max_urls_per_row) and _plain_lines(urls).fullmatch(data):
            block, longest_line = _uniform(_unquoted(data), urls, first_line)
        elif _plain_lines(None).fullmatch(data):
            block, longest_line = _varied(_unquoted(data), first_line)
        else:
            raise NotPlain
        self._check(block, longest_line, data.isascii())
        self._count(block)
        return block

    def _check(self, block: PlainBlock, longest_line: int, ascii: bool) -> None:
        """NotPlain for what the pattern leaves to others: lengths, counts, zero serials, UTF-8 text."""
        if not block.serials:
            return
        limits = self._limits
        if (
            min(block.serials) == 0
            or longest_line > csv.field_size_limit()
            or max(map(len, block.urls)) > limits.max_urls_per_row
            or (
                longest_line > min(limits.max_name_length, limits.max_url_length)
                and (
                    max(map(len, block.names)) > limits.max_name_length
                    or max(map(len, chain.from_iterable(block.urls))) > limits.max_url_length
                )
            )
        ):
            raise NotPlain
        if not ascii:
            _check_text(block.names)

    def _count(self, block: PlainBlock) -> None:
        serials = block.serials
        if not serials:
            return
        self.serials_increasing = (
            self.serials_increasing and serials[0] > self._last_serial and all(map(int.__lt__, serials, serials[1:]))
        )
        self._last_serial = serials[-1]
        self.product_count += len(serials)
        self.last_line = block.lines[-1]
        if self.product_count > self._limits.max_rows:
            raise CsvTooLarge.beyond(self._limits.max_rows)
        self.image_count += sum(map(len, block.urls))


def _unquoted(data: bytes) -> bytes:
    """The lines without quotes (which only surround cells) and with LF ends."""
    text = data.replace(b'"', b"")
    return text.replace(b"\r\n", b"\n") if b"\r" in text else text


def _uniform(text: bytes, urls: int, first_line: int) -> tuple[PlainBlock, int]:
    """Rows that all have `urls` URLs (no empty rows), cut in one split; and a bound on their line length."""
    pieces = text.replace(b"\n", b",").split(b",")
    pieces.pop()
    width = urls + 2
    serials = pieces[0::width]
    block = PlainBlock(
        range(first_line, first_line + len(serials)),
        list(map(int, serials)),
        pieces[1::width],
        list(zip(*(pieces[cell::width] for cell in range(2, width)), strict=True)),
    )
    return block, width * (max(map(len, pieces), default=0) + 1)


def _varied(text: bytes, first_line: int) -> tuple[PlainBlock, int]:
    """Rows of any number of URLs and empty rows, cut line by line; and the longest line."""
    lines = text.split(b"\n")
    lines.pop()
    cells = list(map(bytes.split, lines, repeat(b",")))
    serials: list = list(map(_serial, cells))
    numbers: Sequence[int] = range(first_line, first_line + len(lines))
    if not all(map(bytes.isdigit, serials)):  # empty rows, skipped as the row rules skip them
        kept = list(map(bytes.isdigit, serials))
        cells, serials, numbers = (list(compress(column, kept)) for column in (cells, serials, numbers))
    block = PlainBlock(numbers, list(map(int, serials)), list(map(_name, cells)), list(map(_urls, cells)))
    return block, max(map(len, lines), default=0)


def _check_text(names: list[bytes]) -> None:
    """UTF-8 throughout, and no name with spaces str.strip() would remove (ASCII ones the pattern refuses)."""
    for name in names:
        if not name.isascii():
            try:
                text = name.decode()
            except UnicodeDecodeError:
                raise NotPlain from None
            if text != text.strip():
                raise NotPlain
