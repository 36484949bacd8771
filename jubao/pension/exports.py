"""Every file jubao writes for people to open (statements, bank files, reports): CSV or Excel,
row by row, with typed cells.

Text is written as text. A spreadsheet program reads a CSV cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (a name typed as ``=HYPERLINK(…)`` would
become a live link), so such text is prefixed with an apostrophe, as OWASP advises for CSV
injection; in Excel files text cells are typed as strings (and marked as quoted), which no
program evaluates. Money is a number with two decimals (so columns can be summed), never text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, cast

from jubao.pension.accounts.money import format_yuan

Format = Literal["csv", "xlsx"]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Yuan:
    """A money cell: an amount in fen, written as yuan with two decimals."""

    fen: int


Cell = str | int | date | Yuan | None


def neutralised(text: str) -> str:
    """Text a spreadsheet cannot take for a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_value(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Yuan):
        return format_yuan(cell.fen)
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, int):
        return str(cell)
    return neutralised(cell)


class _CsvSheet:
    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def write(self, row: Sequence[Cell]) -> None:
        self._writer.writerow([_csv_value(c) for c in row])


class _ExcelSheet:
    def __init__(self) -> None:
        from openpyxl import Workbook

        # write-only: rows go to the file as they come, whatever the sheet's size
        self.workbook = Workbook(write_only=True)
        self._sheet = self.workbook.create_sheet()

    def write(self, row: Sequence[Cell]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for value in row:
            cell: Any
            if isinstance(value, Yuan):
                # exact yuan (openpyxl writes a Decimal as a number; its stubs list floats only)
                cell = WriteOnlyCell(self._sheet, value=cast("Any", Decimal(value.fen) / 100))
                cell.number_format = "0.00"
            elif isinstance(value, str):
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"  # never a formula, whatever it begins with
                cell.quotePrefix = value.startswith(_FORMULA_STARTS)
            else:
                cell = WriteOnlyCell(self._sheet, value=cast("Any", value))  # ints and dates too
            cells.append(cell)
        self._sheet.append(cells)


Sheet = _CsvSheet | _ExcelSheet


def format_of(path: Path) -> Format:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx"):
        raise ValueError(f"not a .csv or .xlsx file: {path.name}")
    return cast("Format", suffix)


@contextmanager
def sheet_file(path: Path) -> Iterator[Sheet]:
    """A sheet written to ``path`` (.csv as UTF-8 with a byte-order mark, which Excel needs to
    read Chinese; or .xlsx), row by row."""
    if format_of(path) == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            yield _CsvSheet(handle)
        return
    excel = _ExcelSheet()
    yield excel
    excel.workbook.save(path)


def render(rows: Iterable[Sequence[Cell]], fmt: Format) -> bytes:
    """A small sheet (a statement) as bytes, for a download."""
    if fmt == "csv":
        buffer = io.StringIO()
        csv_sheet = _CsvSheet(buffer)
        for row in rows:
            csv_sheet.write(row)
        return buffer.getvalue().encode("utf-8-sig")
    excel = _ExcelSheet()
    for row in rows:
        excel.write(row)
    out = io.BytesIO()
    excel.workbook.save(out)
    return out.getvalue()
