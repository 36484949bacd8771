"""Every file for people to open: money a number that sums, text never a formula."""

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jubao.pension.exports import Cell, Yuan, render, sheet_file

HOSTILE = ["=1+2", '=HYPERLINK("http://x","y")', "+86 10", "-1", "@SUM(A1)", "\tx", "\rx"]
# XML keeps a carriage return as a line feed: what a reader of the workbook sees
READ_BACK = [text.replace("\r", "\n") for text in HOSTILE]
ROW: list[Cell] = [*HOSTILE, "张三", Yuan(123456), Yuan(-5), date(2025, 12, 31), 2025, None]


def test_excel_money_is_a_number_with_two_places_and_text_is_text() -> None:
    sheet = load_workbook(io.BytesIO(render([ROW], "xlsx"))).active
    assert sheet is not None
    cells = next(sheet.iter_rows(max_col=len(ROW)))
    for cell, text in zip(cells, READ_BACK, strict=False):
        assert (cell.value, cell.data_type) == (text, "s")  # shown as typed, never evaluated
        assert cell.quotePrefix
    name, money, negative, day, year, empty = cells[len(HOSTILE) :]
    assert (name.value, name.quotePrefix) == ("张三", False)
    assert (money.data_type, money.number_format) == ("n", "0.00")
    assert Decimal(str(money.value)) == Decimal("1234.56")  # a number the sheet can sum
    assert Decimal(str(negative.value)) == Decimal("-0.05")
    assert day.value.date() == date(2025, 12, 31)
    assert (year.value, empty.value) == (2025, None)


def test_csv_text_that_would_be_a_formula_is_quoted_and_money_is_yuan() -> None:
    text = render([ROW], "csv").decode("utf-8-sig")
    row = next(csv.reader(io.StringIO(text, newline="")))
    assert row[: len(HOSTILE)] == ["'" + value for value in HOSTILE]
    assert row[len(HOSTILE) :] == ["张三", "1234.56", "-0.05", "2025-12-31", "2025", ""]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_sheet_file_is_what_render_gives(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out.{suffix}"
    with sheet_file(path) as sheet:
        sheet.write(ROW)
    if suffix == "csv":
        assert path.read_bytes() == render([ROW], "csv")
    else:
        written = load_workbook(path).active
        assert written is not None
        assert [c.value for c in next(written.iter_rows())][: len(HOSTILE)] == READ_BACK


def test_only_csv_and_excel(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not a \.csv or \.xlsx"), sheet_file(tmp_path / "a.pdf"):
        pass
    assert not (tmp_path / "a.pdf").exists()
