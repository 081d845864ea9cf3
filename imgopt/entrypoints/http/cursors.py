"""Opaque cursors of newest-first lists: where the last page ended, as the client hands it back."""

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
        raise ApiError(400, "invalid_cursor", f"cursor must be a nextCursor from an earlier page, got {cursor[:60]!r}")
    return position
