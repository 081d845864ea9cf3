"""Cursors: where the last page ended, as the client hands it back.

Newest-first lists (requests, webhooks, deliveries) take an opaque one (a position in time and an id);
a request's products, in file order, the number of the last line shown (`&cursor=501`), readable on purpose.
Anything else is a 400 `invalid_cursor`.
"""

import base64
import binascii
from datetime import datetime

from imgopt.application.ports import Position
from imgopt.entrypoints.http.errors import ApiError


def encode_cursor(position: Position | None) -> str | None:
    if position is None:
        return None
    return base64.urlsafe_b64encode(f"{position.created_at.isoformat()}|{position.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, _, identifier = text.partition("|")
        position = Position(datetime.fromisoformat(created_at), identifier)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = None
    if position is None or not position.id or position.created_at.tzinfo is None:
        raise _not_ours(cursor)
    return position


def encode_line_cursor(line: int | None) -> str | None:
    return None if line is None else str(line)


def decode_line_cursor(cursor: str | None) -> int:
    """The line a product page starts after: 0 for the first page."""
    if cursor is None or cursor == "":
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 10):
        raise _not_ours(cursor)
    return int(cursor)


def _not_ours(cursor: str) -> ApiError:
    return ApiError(400, "invalid_cursor", f"cursor must be a nextCursor from an earlier page, got {cursor[:60]!r}")
