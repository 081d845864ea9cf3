"""The CSV rules: the original's three columns, validated row by row while streaming."""

import csv
import io
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple
from urllib.parse import urlsplit

from imgopt.domain.errors import DomainError

SERIAL, NAME, URLS = "S. No.", "Product Name", "Input Image Urls"
HEADER = (SERIAL, NAME, URLS)
# The original's four columns, then one it did not have: whether each output was reused (`yes`/`no`).
OUTPUT_HEADER = (*HEADER, "Output Image Urls")
MAX_REPORTED_ERRORS = 100

_SERIAL = re.compile(r"[0-9]{1,18}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# URLs may contain commas (image CDNs use them): a comma separates two URLs only when a scheme follows.
URL_SCHEME_PATTERN = r"[A-Za-z][A-Za-z0-9+.\-]*://"
_URL_SEPARATOR = re.compile(rf"\s*,\s*(?={URL_SCHEME_PATTERN})")
# The common case in one step: http(s), an ASCII host, an optional valid port, printable ASCII after.
PLAIN_URL_PATTERN = (
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#][\x21-\x7e]*)?"
)
PLAIN_URL_CHARACTERS = r"\x21-\x7e"
_PLAIN_URL = re.compile(PLAIN_URL_PATTERN)
# The commonest cell, one or more plain URLs without commas of their own, in one unambiguous match.
_PLAIN_URL_NO_COMMA = PLAIN_URL_PATTERN.replace(PLAIN_URL_CHARACTERS, r"\x21-\x2b\x2d-\x7e")
_PLAIN_URL_LIST = re.compile(rf"{_PLAIN_URL_NO_COMMA}(?:[ \t]*,[ \t]*{_PLAIN_URL_NO_COMMA})*")
_LIST_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


@dataclass(frozen=True, slots=True)
class CsvLimits:
    max_rows: int = 1_000_000
    max_urls_per_row: int = 100
    max_name_length: int = 1_000
    max_url_length: int = 2_048


class CsvCounts(NamedTuple):
    """What a valid file holds: its product rows, their image URLs, and the line of the last row."""

    product_count: int
    image_count: int
    last_line: int


class ProductRow(NamedTuple):
    line: int
    serial: int
    name: str
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


class CsvRejected(DomainError):
    """The file broke at least one rule; `errors` holds the first ones, `error_count` all of them."""

    code = "invalid_csv"

    def __init__(self, errors: list[RowError], error_count: int) -> None:
        first = str(errors[0]) if errors else "invalid CSV"
        more = f" (and {error_count - 1} more)" if error_count > 1 else ""
        super().__init__(f"the CSV was rejected: {first}{more}")
        self.errors = errors
        self.error_count = error_count


class CsvTooLarge(DomainError):
    code = "too_many_rows"

    @classmethod
    def beyond(cls, max_rows: int) -> "CsvTooLarge":
        return cls(f"the file has more than {max_rows} product rows")


class ProductCsvReader:
    """Iterates the valid rows of an uploaded CSV, collecting what is wrong with the others.

    One row is held at a time, so a file of any length takes constant memory but for the
    serials seen (kept compactly). Once a row is found invalid no further rows are yielded,
    but the scan goes on to report up to `MAX_REPORTED_ERRORS` problems. Call
    `raise_if_invalid` when iteration ends.
    """

    def __init__(self, stream: BinaryIO, limits: CsvLimits = CsvLimits()) -> None:
        self._stream = stream
        self._limits = limits
        self._serials = _SerialIndex()
        self._row_start = 1
        self.errors: list[RowError] = []
        self.error_count = 0
        self.product_count = 0
        self.image_count = 0
        self.last_line = 0

    def __iter__(self) -> Iterator[ProductRow]:
        # Undecodable bytes survive as lone surrogates, so the row holding them is the one reported.
        text = io.TextIOWrapper(self._stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=True)
        try:
            yield from self._rows(reader)
        except csv.Error as exc:
            self._error(self._row_start, None, _describe_csv_error(exc))
        finally:
            text.detach()

    def counts(self) -> CsvCounts:
        return CsvCounts(self.product_count, self.image_count, self.last_line)

    def raise_if_invalid(self) -> None:
        if self.error_count:
            raise CsvRejected(self.errors, self.error_count)

    def _rows(self, reader) -> Iterator[ProductRow]:
        header = next(reader, None)
        if header is None:
            self._error(1, None, "the file is empty; expected the header " + ",".join(HEADER))
            return
        if not self._header_ok(header, reader.line_num):
            return
        max_rows, max_name = self._limits.max_rows, self._limits.max_name_length
        max_urls, max_url_length = self._limits.max_urls_per_row, self._limits.max_url_length
        serial_ok, list_ok, split_list = _SERIAL.fullmatch, _PLAIN_URL_LIST.fullmatch, _LIST_SEPARATOR.split
        serials = self._serials
        line = self._row_start = reader.line_num + 1
        for cells in reader:
            row = None
            if len(cells) == 3:
                serial_text, name, url_cell = cells
                serial_text, name, url_cell = serial_text.strip(), name.strip(), url_cell.strip()
                # The fast path accepts only what the full checks below would accept too.
                if (
                    serial_ok(serial_text)
                    and serial_text.strip("0")
                    and name
                    and len(name) <= max_name
                    and name.isprintable()
                    and (name.isascii() or _is_utf8(name))
                    and list_ok(url_cell)
                    and len(urls := tuple(split_list(url_cell))) <= max_urls
                    and max(map(len, urls)) <= max_url_length
                    and serials.add(int(serial_text), line) is None
                ):
                    row = ProductRow(line, int(serial_text), name, urls)
            if row is None:
                if not any(cell.strip() for cell in cells):
                    line = self._row_start = reader.line_num + 1
                    continue  # blank rows, as spreadsheets leave them, are skipped
                row = self._checked_row(line, cells)
            self.product_count += 1
            if self.product_count > max_rows:
                raise CsvTooLarge.beyond(max_rows)
            if row is not None:
                self.image_count += len(row.urls)
                self.last_line = line
                if not self.error_count:
                    yield row
            line = self._row_start = reader.line_num + 1
        if self.product_count == 0 and not self.error_count:
            self._error(line, None, "the file has a header but no product rows")

    def _header_ok(self, header: list[str], line: int) -> bool:
        found = tuple(cell.strip() for cell in header)
        if found == HEADER:
            return True
        if not all(cell.isascii() or _is_utf8(cell) for cell in found) or not "".join(found).isprintable():
            self._error(line, None, "the file is not CSV text (binary data or not UTF-8); save it as 'CSV UTF-8'")
            return False
        missing = [repr(name) for name in HEADER if name not in found]
        detail = f"missing {', '.join(missing)}; " if missing else ""
        expected = ",".join(HEADER)
        self._error(line, None, f"wrong header: {detail}expected exactly {expected}, found {shown(','.join(found))}")
        return False

    def _checked_row(self, line: int, cells: list[str]) -> ProductRow | None:
        """The row checked rule by rule, each broken rule reported; None when any is broken."""
        if len(cells) != len(HEADER):
            hint = "; put all image URLs in one quoted cell" if len(cells) > len(HEADER) else ""
            self._error(line, None, f"expected {len(HEADER)} cells, found {len(cells)}{hint}")
            return None
        if not all(cell.isascii() or _is_utf8(cell) for cell in cells):
            self._error(line, None, "the row is not UTF-8 text; save the file as 'CSV UTF-8'")
            return None
        if any(_CONTROL.search(cell) for cell in cells):
            self._error(line, None, "the row contains control characters (binary data?)")
            return None
        errors_before = self.error_count
        serial = self._serial(line, cells[0].strip())
        name = cells[1].strip()
        if not name:
            self._error(line, NAME, "is empty")
        elif len(name) > self._limits.max_name_length:
            self._error(line, NAME, f"is longer than {self._limits.max_name_length} characters")
        urls = self._urls(line, cells[2])
        if self.error_count > errors_before or serial is None:
            return None
        return ProductRow(line, serial, name, urls)

    def _serial(self, line: int, text: str) -> int | None:
        if not _SERIAL.fullmatch(text) or not text.strip("0"):
            self._error(line, SERIAL, f"must be a positive whole number, got {shown(text)}")
            return None
        serial = int(text)
        first_line = self._serials.add(serial, line)
        if first_line is not None:
            self._error(line, SERIAL, f"{serial} is already used on line {first_line}")
            return None
        return serial

    def _urls(self, line: int, cell: str) -> tuple[str, ...]:
        urls = tuple(url for url in _URL_SEPARATOR.split(cell.strip().strip(",").strip()) if url)
        if not urls:
            self._error(line, URLS, "has no image URL")
        elif len(urls) > self._limits.max_urls_per_row:
            self._error(line, URLS, f"has {len(urls)} URLs; at most {self._limits.max_urls_per_row} are allowed")
        for url in urls:
            problem = url_problem(url, self._limits.max_url_length)
            if problem:
                self._error(line, URLS, problem)
        return urls

    def _error(self, line: int, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, column, message))


def shown(text: str, limit: int = 80) -> str:
    """User text made safe to echo in a message: quoted, escaped, shortened."""
    short = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(short.encode("utf-8", "backslashreplace").decode("utf-8"))


def url_problem(url: str, max_length: int = 2_048) -> str | None:
    """Why `url` is not an absolute http(s) URL, or None when it is one."""
    if len(url) > max_length:
        return f"URL longer than {max_length} characters: {shown(url)}"
    if _PLAIN_URL.fullmatch(url):
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return f"URL contains spaces or control characters: {shown(url)}"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"not a valid URL ({exc}): {shown(url)}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http and https URLs are allowed: {shown(url)}"
    if not parts.hostname:
        return f"URL has no host: {shown(url)}"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _describe_csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is too large ({text})"
    if "unexpected end of data" in text or "EOF" in text:
        return "a quoted cell is never closed (unterminated quote)"
    return f"malformed CSV: {text}"


class _SerialIndex:
    """Serials seen so far and the line of each, compact for the usual 1..N numbering."""

    _DENSE_LIMIT = 1 << 22

    def __init__(self) -> None:
        self._dense = array("L")
        self._sparse: dict[int, int] = {}

    def add(self, serial: int, line: int) -> int | None:
        """Remember `serial`; return the line it was first seen on if it was seen before."""
        if serial >= self._DENSE_LIMIT:
            first = self._sparse.setdefault(serial, line)
            return first if first != line else None
        if serial >= len(self._dense):
            grow = max(serial + 1, 2 * len(self._dense)) - len(self._dense)
            self._dense.frombytes(bytes(grow * self._dense.itemsize))
        first = self._dense[serial]
        if not first:
            self._dense[serial] = line
        return first or None
