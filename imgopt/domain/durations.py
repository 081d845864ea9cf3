"""Durations as people write them in settings and on the command line: 500ms, 5s, 30m, 2h, 30d."""

from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`text` as a duration; a bare number is seconds. ValueError says what is wrong."""
    item = text.strip().lower()
    number = item.rstrip("smhd")
    unit = item[len(number) :] or "s"
    if unit not in _UNITS or not number.replace(".", "", 1).isdigit():
        raise ValueError(f"{text!r} is not a duration; write it like 0, 5s, 30m, 2h or 30d")
    return timedelta(seconds=float(number) * _UNITS[unit])
