"""Cursors: where the last page ended. Of newest-first lists, its time in microseconds and its id
(`1764583200123456.{id}`); of an upload's products, the CSV line.

A cursor is a position, not a token: every string of that form is one (the page after it, perhaps empty), so the
OpenAPI document can say exactly which strings are cursors, and a forged one can only ask for a page.
"""

import re
from datetime import UTC, datetime, timedelta

from imgopt.application.ports import Position
from imgopt.entrypoints.http.errors import ApiError

UUID_ID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
DELIVERY_ID = "[A-Za-z0-9_-]{1,100}"
# Sixteen digits of microseconds reach the year 2286: every one of them is a datetime.
_TIME = "[0-9]{1,16}"
LINE_CURSOR = "[0-9]{1,10}"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def cursor_pattern(id_pattern: str) -> str:
    """The cursors of a list whose ids match `id_pattern`, as a JSON Schema `pattern`."""
    return f"^{_TIME}\\.{id_pattern}$"


def encode_cursor(position: Position | None) -> str | None:
    if position is None:
        return None
    return f"{(position.created_at - _EPOCH) // _MICROSECOND}.{position.id}"


def decode_cursor(cursor: str | None, id_pattern: str = UUID_ID) -> Position | None:
    """Where the page starts: None for the first (no cursor); an empty or malformed cursor is a 400."""
    if cursor is None:
        return None
    if re.fullmatch(f"{_TIME}\\.{id_pattern}", cursor) is None:
        raise _not_a_cursor(cursor)
    time, _, identifier = cursor.partition(".")
    return Position(_EPOCH + int(time) * _MICROSECOND, identifier)


def encode_line_cursor(line: int | None) -> str | None:
    return None if line is None else str(line)


def decode_line_cursor(cursor: str | None) -> int:
    """The CSV line the last page of products ended at; 0 for the first page (no cursor)."""
    if cursor is None:
        return 0
    if re.fullmatch(LINE_CURSOR, cursor) is None:
        raise _not_a_cursor(cursor)
    return int(cursor)


def _not_a_cursor(cursor: str) -> ApiError:
    return ApiError(400, "invalid_cursor", f"cursor must be a nextCursor from an earlier page, got {cursor[:60]!r}")
