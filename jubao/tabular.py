"""Reading the tables people bring: CSV (UTF-8 or GB18030) and Excel (.xlsx).

Rows are read one at a time, never the whole file at once. Every row comes with its line
number (as a spreadsheet program shows it), so that a rejected row can be found again. Cells
come back as trimmed text; Excel dates become ``YYYY-MM-DD``. A number where text belongs (an
18-digit ID number typed into a numeric Excel cell has already lost its last digits) is passed
on as the text Excel shows, for the caller to refuse.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

from jubao.errors import DomainError, ErrorCode


class TableError(ErrorCode):
    ENCODING = (
        "无法识别文件编码（支持 UTF-8 和 GB18030）",
        "Unrecognised file encoding (UTF-8 and GB18030 are supported)",
    )
    FORMAT = (
        "不支持的文件格式“{suffix}”（支持 .csv 和 .xlsx）",
        "Unsupported file format '{suffix}' (use .csv or .xlsx)",
    )
    UNREADABLE = ("无法读取表格文件：{detail}", "Cannot read the spreadsheet: {detail}")
    EMPTY = ("文件是空的（没有表头）", "The file is empty (no header row)")
    DAMAGED = (
        "表格文件在第 {line} 行附近损坏，无法继续读取：{detail}",
        "The spreadsheet is damaged near line {line} and cannot be read on: {detail}",
    )


@dataclass(frozen=True)
class Row:
    line: int
    cells: list[str]


@dataclass(frozen=True)
class Table:
    """The header, and the rows as they are read. Reading to the end closes the file; a
    reader that stops early closes it with ``close`` (or by using the table in ``with``)."""

    header: list[str]
    rows: Iterator[Row]
    close: Callable[[], None]

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)) and abs(value) >= 1e15:
        # Beyond a double's exact digits: an 18-digit ID number typed as a number has lost its
        # tail. Pass on what Excel shows ("4.10121197003150e+17") so that it is refused.
        return f"{value:.15g}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark) or GB18030, whichever decodes the whole file:
    checked to the end before a row is read, a block at a time (a file is never half read in
    the wrong encoding, nor held in memory whole)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise DomainError(TableError.ENCODING)


def _csv(path: Path) -> Table:
    handle = path.open(encoding=_encoding(path), newline="")
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as error:
        handle.close()
        raise DomainError(TableError.DAMAGED, line=reader.line_num, detail=str(error)) from None
    if header is None:
        handle.close()
        raise DomainError(TableError.EMPTY)

    def rows() -> Iterator[Row]:
        try:
            for fields in reader:
                if any(f.strip() for f in fields):
                    yield Row(reader.line_num, [f.strip() for f in fields])
        except csv.Error as error:
            raise DomainError(TableError.DAMAGED, line=reader.line_num, detail=str(error)) from None
        finally:
            handle.close()

    return Table([h.strip() for h in header], rows(), handle.close)


class SharedStrings:
    """A workbook's shared-string table — Excel stores every text cell's text there, once, and
    the cell points to it — kept in a temporary file instead of a list: openpyxl reads the
    whole table into memory first, and a big sheet's table grows with its rows. Only the
    offsets stay in memory (8 bytes a string)."""

    def __init__(self, source: IO[bytes]) -> None:
        from openpyxl.cell.text import Text
        from openpyxl.xml.constants import SHEET_MAIN_NS
        from openpyxl.xml.functions import iterparse

        item = f"{{{SHEET_MAIN_NS}}}si"
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the table
        self._offsets = array("Q", [0])
        root = None
        for event, node in iterparse(source, events=("start", "end")):
            if root is None:
                root = node
            elif event == "end" and node.tag == item:
                # each string read as openpyxl.reader.strings.read_string_table reads it
                parsed = Text.from_tree(node)
                text = "" if parsed is None else parsed.content.replace("x005F_", "")
                self._offsets.append(self._offsets[-1] + self._file.write(text.encode()))
                root.clear()  # the strings read so far: not kept in the tree either

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        start, end = self._offsets[index], self._offsets[index + 1]
        self._file.seek(start)
        return self._file.read(end - start).decode()

    def close(self) -> None:
        self._file.close()


def _workbook(path: Path) -> tuple[Any, Callable[[], None]]:
    """The workbook, read only, with its shared strings in a file; and how to close both."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class Reader(ExcelReader):
        strings: SharedStrings | None = None
        package: Manifest

        def read_strings(self) -> None:
            found = self.package.find(SHARED_STRINGS)
            if found is not None:
                with self.archive.open(found.PartName[1:]) as source:
                    self.strings = SharedStrings(source)
                # openpyxl only looks strings up by their index
                self.shared_strings = cast("list[str]", self.strings)

    reader = Reader(path, read_only=True, data_only=True)

    def close() -> None:
        if reader.strings is not None:
            reader.strings.close()
        if getattr(reader, "wb", None) is not None:
            reader.wb.close()

    try:
        reader.read()
    except Exception:
        close()
        raise
    return reader.wb, close


def _xlsx(path: Path) -> Table:
    try:
        workbook, close = _workbook(path)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise DomainError(TableError.UNREADABLE, detail=type(error).__name__) from None
    values = workbook.worksheets[0].iter_rows(values_only=True)
    line = 1  # the line being read, for the message if the sheet is damaged there

    def damaged(error: Exception) -> DomainError:
        close()
        return DomainError(TableError.DAMAGED, line=line, detail=type(error).__name__)

    try:
        first = next(values, None)
    except Exception as error:  # a damaged sheet fails as it is read, in many ways
        raise damaged(error) from None
    if first is None:
        close()
        raise DomainError(TableError.EMPTY)

    def rows() -> Iterator[Row]:
        nonlocal line
        try:
            while True:
                line += 1
                cells = next(values, None)
                if cells is None:
                    return
                texts = [_text(c) for c in cells]
                while texts and not texts[-1]:
                    texts.pop()
                if texts:
                    yield Row(line, texts)
        except Exception as error:
            raise damaged(error) from None
        finally:
            close()

    return Table([_text(h) for h in first], rows(), close)


def read_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".xlsx":
        return _xlsx(path)
    raise DomainError(TableError.FORMAT, suffix=suffix or "-")


def columns(header: list[str], names: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Column positions by field, matching each field's accepted headings (any case)."""
    found: dict[str, int] = {}
    lowered = [h.strip().lower() for h in header]
    for field, headings in names.items():
        for heading in headings:
            if heading.lower() in lowered:
                found[field] = lowered.index(heading.lower())
                break
    return found
