import pytest

from imgopt.domain.spreadsheet import FORMULA_STARTS, neutralise, neutralise_row


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(start):
    assert neutralise(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("cell", [" =1+1", "   +SUM(A1)", "  @cmd", " -2"])
def test_leading_spaces_do_not_hide_a_formula(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Shirt", "", "1", "https://a.example/1.jpg, https://a.example/2.jpg", "a=b", "'=x"])
def test_every_other_cell_is_unchanged(cell):
    assert neutralise(cell) == cell


def test_a_row_is_neutralised_cell_by_cell():
    assert neutralise_row(("1", '=HYPERLINK("x")', "https://a.example/1.jpg")) == (
        "1",
        '\'=HYPERLINK("x")',
        "https://a.example/1.jpg",
    )
