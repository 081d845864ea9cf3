"""An image's result as columns of its row in images.optimizerjobs: one column per field, of the field's name."""

from dataclasses import fields
from types import UnionType
from typing import Any

from sqlalchemy import Row

from imgopt.domain.image_results import RESULT_FIELDS, ImageResult


def _sql_type(annotation: Any) -> str:
    """The SQL type a value of `annotation` is sent as (the column's own type receives it by assignment)."""
    kinds = set(annotation.__args__) if isinstance(annotation, UnionType) else {annotation}
    for kind, sql in ((str, "text"), (bool, "boolean"), (float, "double precision"), (int, "bigint")):
        if kind in kinds:
            return sql
    raise TypeError(f"no SQL type for an image result field of type {annotation!r}")


SQL_TYPES = {field.name: _sql_type(field.type) for field in fields(ImageResult)}
"""Each result field's SQL type, in the order of RESULT_FIELDS."""


def selected(table: str) -> str:
    """The result's columns of `table` (an alias), for a SELECT list."""
    return ", ".join(f"{table}.{name}" for name in RESULT_FIELDS)


def result_of(row: Row) -> ImageResult | None:
    """The result a row holds, or None while it holds none (not optimized, or failed since)."""
    if row.media_type is None:
        return None
    return ImageResult(**{name: getattr(row, name) for name in RESULT_FIELDS})
