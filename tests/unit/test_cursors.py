"""Cursors are positions of a documented form: every string of the form is one, every other string a 400."""

import re
from datetime import UTC, datetime

import pytest

from imgopt.application.ports import Position
from imgopt.entrypoints.http.cursors import (
    DELIVERY_ID,
    UUID_ID,
    cursor_pattern,
    decode_cursor,
    decode_line_cursor,
    encode_cursor,
)
from imgopt.entrypoints.http.errors import ApiError

AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
REQUEST = "01a24fe7-85ad-793b-a64e-0d8cc4b08235"


def test_a_cursor_gives_back_the_position_it_was_made_from_to_the_microsecond():
    position = Position(AT, REQUEST)

    cursor = encode_cursor(position)

    assert cursor == f"1796635815123456.{REQUEST}"
    assert decode_cursor(cursor) == position
    assert re.search(cursor_pattern(UUID_ID), cursor)


def test_a_delivery_cursor_carries_its_message_id():
    position = Position(AT, "msg_0b2f6c1d9e8a4f7b8c6d5e4f3a2b1c0d")

    assert decode_cursor(encode_cursor(position), DELIVERY_ID) == position


def test_no_cursor_is_the_first_page():
    assert decode_cursor(None) is None
    assert decode_line_cursor(None) == 0


def test_the_largest_time_a_pattern_allows_is_still_a_date():
    assert decode_cursor(f"{'9' * 16}.{REQUEST}").created_at.year == 2286


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "0",
        f"1796635815123456.{REQUEST}\n",
        "1796635815123456.not-a-uuid",  # reached a uuid cast in SQL, a 500, when cursors were base64
        f"-1.{REQUEST}",
        f"{'9' * 17}.{REQUEST}",
        "MjAyNi0xMi0wN1QwOTozMDoxNSswMDowMHx4",
    ],
)
def test_anything_else_is_a_400_invalid_cursor(cursor):
    with pytest.raises(ApiError) as refused:
        decode_cursor(cursor)

    assert (refused.value.status_code, refused.value.code) == (400, "invalid_cursor")


@pytest.mark.parametrize("cursor", ["", "x", "12\n", "١٢", "12345678901"])
def test_a_line_cursor_is_up_to_ten_ascii_digits(cursor):
    assert decode_line_cursor("501") == 501
    with pytest.raises(ApiError):
        decode_line_cursor(cursor)
