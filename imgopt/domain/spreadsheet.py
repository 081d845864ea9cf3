"""Cells a spreadsheet would run as a formula, neutralised (OWASP "CSV injection").

A cell whose first character is `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (or as the start of one); so is one whose leading spaces
hide such a character (" =1+1"), since some of them trim the spaces first. Such a cell gets a
leading `'`, which the spreadsheet shows as text and drops from the value; every other cell is
unchanged.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(cell: str) -> bool:
    """Whether a spreadsheet may read `cell` as a formula."""
    return cell.startswith(FORMULA_STARTS) or cell.lstrip(" ").startswith(FORMULA_STARTS)


def neutralise(cell: str) -> str:
    """`cell` with a leading `'` if a spreadsheet may read it as a formula, else unchanged."""
    return "'" + cell if is_formula_like(cell) else cell


def neutralise_row(cells: Iterable[str]) -> tuple[str, ...]:
    """Every cell of a row through `neutralise`."""
    return tuple(neutralise(cell) for cell in cells)
