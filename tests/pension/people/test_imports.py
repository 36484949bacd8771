"""Bulk import of historical data (the 通江 county story)."""

import io
import logging
import tracemalloc
import weakref
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest
from openpyxl import Workbook
from openpyxl.reader.strings import read_string_table
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.audit import AuditEvent
from jubao.errors import DomainError, Lang
from jubao.pension.accounts.contributions import ContributionError
from jubao.pension.people import imports
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.idnumber import IdNumberError
from jubao.pension.people.imports import (
    ImportBatch,
    ImportReport,
    PersonImportError,
    Rejected,
    import_persons,
)
from jubao.pension.people.persons import Person
from jubao.platform.services import Services
from jubao.tabular import Row, SharedStrings, Table, TableError
from tests.helpers import VILLAGE_A, VILLAGE_X, World
from tests.pension.support import SYSTEM, enrol, id_number

TODAY = date(2026, 11, 23)
HEADER = "身份证号码,姓名,性别,民族,户籍性质,区划代码,户籍地址,联系电话,参保身份,银行账号,缴费档次,参保日期"


def row(
    number: str,
    name: str = "李明",
    region: str = VILLAGE_A.code,
    grade: str = "200",
    enrolled: str = "2015-03-01",
    **extra: str,
) -> str:
    values = {
        "id": number,
        "name": name,
        "sex": "",
        "ethnicity": "01",
        "hukou": "农业",
        "region": region,
        "address": "某村",
        "phone": "",
        "group": "011",
        "bank": "",
        "grade": grade,
        "enrolled": enrolled,
    } | extra
    return ",".join(values.values())


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "tongjiang.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


async def people(services: Services) -> int:
    async with services.db.session(SYSTEM) as session:
        return int(await session.scalar(select(func.count()).select_from(Person)) or 0)


@dataclass
class Run:
    """What an import run reported, with the rows it refused (in the order it gave them)."""

    report: ImportReport
    rejected: list[Rejected]

    @property
    def refusals(self) -> list[tuple[int, object]]:
        return [(r.line, r.error.code) for r in self.rejected]


async def run(services: Services, path: Path, **options: Any) -> Run:
    rejected: list[Rejected] = []
    async with services.db.one_connection(SYSTEM) as units:
        report = await import_persons(
            units, SYSTEM, path, today=TODAY, rejected=rejected.append, **options
        )
    return Run(report, rejected)


async def test_valid_rows_go_in_and_every_rejection_has_its_line(
    services: Services, world: World, tmp_path: Path
) -> None:
    existing = await enrol(
        services, birth=date(1961, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )
    good = [id_number(date(1960, 1, 1), n) for n in range(1, 4)]
    path = write(
        tmp_path,
        row(good[0]),  # line 2
        row(good[1], region=VILLAGE_X.code, sex="女"),  # line 3 (the sex agrees with the number)
        row(good[2], grade="1500", enrolled="2019-12-31"),  # line 4: a day before turning 60
        row(good[0], name="重复"),  # line 5: repeats line 2
        row("41012119600101001X"),  # line 6: check digit
        row(id_number(date(1960, 2, 1), 7), region="410121101000"),  # line 7: a township
        row(id_number(date(1960, 3, 1), 9), grade="250"),  # line 8: no such grade
        row(id_number(date(2005, 1, 1), 11), enrolled="2015-01-01"),  # line 9: only 10 then
        row(id_number(date(1960, 4, 1), 13), enrolled="2030-01-01"),  # line 10: the future
        row(id_number(date(1960, 5, 1), 15), name=""),  # line 11: no name
        row(existing.id_number),  # line 12: enrolled before, not by this file
        row(id_number(date(1960, 6, 1), 17), sex="女"),  # line 13: an odd sequence is male
        row(id_number(date(1955, 3, 1), 19)),  # line 14: 60 on 2015-03-01, pension age
    )
    first = await run(services, path)
    assert (first.report.imported, first.report.already_done, first.report.rejected) == (3, 0, 10)
    assert first.refusals == [
        (5, PersonImportError.DUPLICATE_IN_FILE),
        (6, IdNumberError.CHECK_DIGIT),
        (7, PersonImportError.NOT_A_VILLAGE),
        (8, ContributionError.GRADE),
        (9, PersonImportError.ENROLLED_ON),
        (10, PersonImportError.ENROLLED_ON),
        (11, PersonImportError.MISSING),
        (12, PersonImportError.ALREADY_ENROLLED),
        (13, IdNumberError.SEX_MISMATCH),
        (14, PersonImportError.AT_PENSION_AGE),
    ]
    assert first.rejected[0].describe(Lang.ZH) == "5: 身份证号码与第 2 行重复"
    assert await people(services) == 4
    async with services.db.session(SYSTEM) as session:
        imported = await session.scalar(select(Person).where(Person.id_number == good[2]))
    assert imported is not None
    assert (imported.grade, imported.enrolled_on, imported.status, imported.import_batch_id) == (
        150000,
        date(2019, 12, 31),
        "contributing",
        first.report.batch_id,
    )

    # run again (say it was interrupted): nobody is added twice
    again = await run(services, path)
    assert (again.report.imported, again.report.already_done, again.report.rejected) == (0, 3, 10)
    assert again.refusals == first.refusals
    assert await people(services) == 4


async def test_all_or_nothing(services: Services, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, row(id_number(date(1960, 1, 1), 1)), row("41012119600101001X"))
    refused = await run(services, path, all_or_nothing=True)
    assert (refused.report.imported, refused.report.rejected, refused.report.batch_id) == (
        0,
        1,
        None,
    )
    assert await people(services) == 0
    clean = write(
        tmp_path, row(id_number(date(1960, 1, 1), 1)), row(id_number(date(1960, 1, 1), 3))
    )
    assert (await run(services, clean, all_or_nothing=True)).report.imported == 2


async def test_excel_and_numbers_that_were_id_numbers(
    services: Services, world: World, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(row(id_number(date(1960, 1, 1), 1)).split(","))
    mangled = row(id_number(date(1960, 1, 1), 3)).split(",")
    mangled[0] = int(mangled[0])  # type: ignore[call-overload]  # typed as a number in Excel
    sheet.append(mangled)
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    done = await run(services, path)
    assert done.report.imported == 1
    assert done.refusals == [(3, IdNumberError.MALFORMED)]


async def test_a_file_without_the_required_columns(
    services: Services, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("身份证号码,姓名\n11010519491231002X,某\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        await run(services, path)
    assert caught.value.code is PersonImportError.HEADER
    assert "民族" in caught.value.message()


async def test_all_or_nothing_when_someone_enrols_a_row_meanwhile(
    services: Services, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meanwhile = await enrol(
        services, birth=date(1961, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )

    compare = imports._mark_against_database
    calls = 0

    async def not_yet(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:  # the whole file was compared before the counter enrolled them
            await compare(*args)

    monkeypatch.setattr(imports, "_mark_against_database", not_yet)
    path = write(tmp_path, row(id_number(date(1960, 1, 1), 1)), row(meanwhile.id_number))
    done = await run(services, path, all_or_nothing=True)
    assert (done.report.imported, done.report.batch_id) == (0, None)
    assert done.refusals == [(3, PersonImportError.ALREADY_ENROLLED)]
    assert await people(services) == 1  # only the one enrolled meanwhile


def damaged_sheet(tmp_path: Path) -> Path:
    """A workbook that opens, with its sheet cut off half way (as a failed copy leaves it)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    for n in range(1, 120, 2):
        sheet.append(row(id_number(date(1960, 1, 1), n)).split(","))
    whole = tmp_path / "whole.xlsx"
    workbook.save(whole)
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    return path


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.csv", b"", TableError.EMPTY),
        ("binary.csv", b"\xff\xfe\x81\x00\xff" * 20, TableError.ENCODING),
        ("cut.xlsx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", TableError.UNREADABLE),
        ("people.xls", b"\xd0\xcf\x11\xe0", TableError.FORMAT),
        ("damaged.xlsx", None, TableError.DAMAGED),
    ],
)
async def test_unreadable_files_change_nothing(
    services: Services,
    world: World,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    code: object,
) -> None:
    path = damaged_sheet(tmp_path) if content is None else tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DomainError) as caught:
        await run(services, path)
    assert caught.value.code is code
    assert caught.value.message(Lang.ZH)
    assert await people(services) == 0


async def test_a_truncated_csv_and_malformed_dates(
    services: Services, world: World, tmp_path: Path
) -> None:
    whole = row(id_number(date(1960, 1, 1), 5))
    path = write(
        tmp_path,
        row(id_number(date(1960, 1, 1), 1)),  # line 2
        row(id_number(date(1960, 1, 1), 3), enrolled="2015/13/01"),  # line 3
        whole[: len(whole) // 2],  # line 4: the copy stopped here
    )
    done = await run(services, path, all_or_nothing=True)
    assert done.refusals == [(3, PersonImportError.DATE), (4, PersonImportError.MISSING)]
    assert "2015/13/01" in done.rejected[0].describe(Lang.ZH)
    assert await people(services) == 0


async def test_people_on_the_employees_list_are_refused_unless_that_ended_before_enrolment(
    services: Services, world: World, tmp_path: Path
) -> None:
    insured, ended_before, ended_after, ended_that_day, elsewhere = (
        id_number(date(1960, 1, 1), n) for n in (1, 3, 5, 7, 9)
    )
    async with services.db.transaction(SYSTEM) as session:
        session.add_all(
            EmployeeInsured(id_number=number, insured_from=date(2000, 1, 1), insured_to=to)
            for number, to in (
                (insured, None),  # still insured there
                (ended_before, date(2015, 2, 28)),
                (ended_after, date(2019, 6, 30)),
                (ended_that_day, date(2015, 3, 1)),
            )
        )
    path = write(
        tmp_path,
        row(insured),  # line 2
        row(ended_before),  # line 3: left the employees' scheme the day before enrolling
        row(ended_after),  # line 4
        row(ended_that_day),  # line 5
        row(elsewhere),  # line 6: not on the list
    )
    done = await run(services, path)
    assert done.refusals == [
        (2, PersonImportError.EMPLOYEE_SCHEME),
        (4, PersonImportError.EMPLOYEE_SCHEME),
        (5, PersonImportError.EMPLOYEE_SCHEME),
    ]
    assert "职工基本养老保险" in done.rejected[0].describe(Lang.ZH)
    async with services.db.session(SYSTEM) as session:
        imported = set(await session.scalars(select(Person.id_number)))
    assert imported == {ended_before, elsewhere}


async def test_statements_do_not_grow_with_the_rows(
    services: Services, world: World, tmp_path: Path
) -> None:
    """Duplicates, people already enrolled and the employees' list are found set-based: an
    import of three times the rows sends the same statements."""
    await enrol(
        services, birth=date(1950, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )
    async with services.db.transaction(SYSTEM) as session:
        session.add_all(
            EmployeeInsured(id_number=id_number(date(1970, 1, 1), n), insured_to=None)
            for n in range(1, 40, 2)
        )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def statements_for(birth: date, people: int) -> int:
        numbers = [id_number(birth, n) for n in range(1, 2 * people, 2)]
        path = tmp_path / f"{birth.year}.csv"
        path.write_text(
            "\n".join([HEADER, *(row(n) for n in numbers), row(numbers[0])]) + "\n",
            encoding="utf-8",
        )
        statements.clear()
        event.listen(services.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            done = await run(services, path)
        finally:
            event.remove(services.db.engine.sync_engine, "before_cursor_execute", count)
        assert done.report.imported == people
        return len(statements)

    assert await statements_for(date(1961, 1, 1), 5) == await statements_for(date(1962, 1, 1), 15)


async def test_the_file_is_read_and_checked_a_chunk_at_a_time(
    services: Services, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays flat in the file's size: at no time does the import hold more than one
    chunk of the file's rows; duplicates across chunks are still found (in the database),
    and the refused rows still come in line order."""
    monkeypatch.setattr(imports, "CHUNK", 4)
    alive = most = 0
    reading = imports.read_table

    def gone() -> None:
        nonlocal alive
        alive -= 1

    def counted(path: Path) -> Table:
        table = reading(path)

        def rows() -> Iterator[Row]:
            nonlocal alive, most
            for line in table.rows:
                alive += 1
                most = max(most, alive)
                weakref.finalize(line, gone)
                yield line

        return Table(table.header, rows(), table.close)

    monkeypatch.setattr(imports, "read_table", counted)
    numbers = [id_number(date(1960, 1, 1), n) for n in range(1, 60, 2)]
    path = write(
        tmp_path,
        *(row(n) for n in numbers),  # lines 2–31
        *(row(n, name="重复") for n in numbers[:10]),  # lines 32–41 repeat lines 2–11
        row("41012119600101001X"),  # line 42
    )
    done = await run(services, path)
    assert most <= imports.CHUNK < 40
    assert done.report.imported == 30
    assert done.refusals == [
        *((line, PersonImportError.DUPLICATE_IN_FILE) for line in range(32, 42)),
        (42, IdNumberError.CHECK_DIGIT),
    ]
    assert done.rejected[0].describe(Lang.ZH) == "32: 身份证号码与第 2 行重复"


async def batch_of(services: Services, batch_id: int | None) -> ImportBatch:
    async with services.db.session(SYSTEM) as session:
        batch = await session.get(ImportBatch, batch_id)
    assert batch is not None
    return batch


async def events(services: Services, action: str) -> list[dict[str, Any]]:
    async with services.db.session(SYSTEM) as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [event.detail for event in found]


async def test_an_interrupted_import_says_what_it_did_and_completes_its_batch_when_run_again(
    services: Services,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 4)
    numbers = [id_number(date(1960, 1, 1), n) for n in range(1, 20, 2)]
    path = write(tmp_path, *(row(n, name=f"村民{i}") for i, n in enumerate(numbers)))  # 2–11
    write_lines = imports._write
    writes = 0

    async def connection_lost(*args: Any) -> int:
        nonlocal writes
        writes += 1
        if writes == 2:  # lines 2–5 went in; the connection goes with 6–9
            raise OperationalError(
                "INSERT INTO person (id_number, name) SELECT …",
                [(numbers[2], "村民2"), (numbers[3], "村民3")],
                ConnectionResetError("connection reset by peer"),
            )
        return await write_lines(*args)

    monkeypatch.setattr(imports, "_write", connection_lost)
    with pytest.raises(DomainError) as caught, caplog.at_level(logging.INFO):
        await run(services, path)
    error = caught.value
    assert error.code is PersonImportError.INTERRUPTED
    assert "可以放心地再次运行同一命令" in error.message(Lang.ZH)
    assert "4 people this run wrote are saved in import batch" in error.message(Lang.EN)
    # nothing of the file's rows in the message, its chain, or the log
    assert error.__cause__ is None and error.__context__ is None
    said = [str(error), error.message(Lang.ZH), error.message(Lang.EN)]
    said += [r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records]
    assert not [text for text in said for secret in (*numbers, "村民") if secret in text]

    batch = await batch_of(services, 1)
    assert (batch.imported, batch.runs, batch.finished_at) == (4, 1, None)
    assert await events(services, "person.import.rows") == [
        {"run": 1, "lines": "2-5", "imported": 4}
    ]
    assert await events(services, "person.import") == []
    assert await people(services) == 4

    monkeypatch.setattr(imports, "_write", write_lines)
    again = await run(services, path)
    assert again.report == ImportReport(
        batch_id=1, imported=6, already_done=4, rejected=0, file_imported=10
    )
    batch = await batch_of(services, 1)
    assert (batch.imported, batch.runs, batch.rejected) == (10, 2, 0)
    assert batch.finished_at is not None
    assert [e["imported"] for e in await events(services, "person.import.rows")] == [4, 4, 2]
    summary = await events(services, "person.import")
    assert [(e["run"], e["imported"], e["already_done"], e["file_imported"]) for e in summary] == [
        (2, 6, 4, 10)
    ]
    assert await people(services) == 10


async def test_all_or_nothing_records_its_run_in_the_files_batch(
    services: Services, world: World, tmp_path: Path
) -> None:
    path = write(tmp_path, *(row(id_number(date(1960, 1, 1), n)) for n in (1, 3, 5)))
    first = await run(services, path, all_or_nothing=True)
    assert first.report == ImportReport(first.report.batch_id, 3, 0, 0, 3)
    again = await run(services, path, all_or_nothing=True)
    assert again.report == ImportReport(first.report.batch_id, 0, 3, 0, 3)
    batch = await batch_of(services, first.report.batch_id)
    assert (batch.imported, batch.runs) == (3, 2)
    assert [e["imported"] for e in await events(services, "person.import")] == [3, 0]


async def test_a_file_with_a_bad_byte_at_its_end_is_refused_before_any_row(
    services: Services, world: World, tmp_path: Path
) -> None:
    """The encoding is checked over the whole file before a row is read (it is no longer
    decoded in memory at once)."""
    numbers = [id_number(date(1960, 1, 1), n) for n in range(1, 999, 2)]
    lines = [row(n, address="某村" * 40) for n in numbers * 8]
    path = write(tmp_path, *lines)
    with path.open("ab") as handle:
        handle.write(b"\xff\n")
    assert path.stat().st_size > 1 << 20  # past the first block read
    with pytest.raises(DomainError) as caught:
        await run(services, path)
    assert caught.value.code is TableError.ENCODING
    assert await people(services) == 0


async def test_a_lost_connection_is_one_message_and_running_again_completes(
    services: Services, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real thing on PostgreSQL: the server ends the import's connection mid-way."""
    if services.db.is_sqlite:
        pytest.skip("SQLite has no server to lose the connection to")
    monkeypatch.setattr(imports, "CHUNK", 3)
    numbers = [id_number(date(1960, 1, 1), n) for n in range(1, 18, 2)]
    path = write(tmp_path, *(row(n, name=f"村民{i}") for i, n in enumerate(numbers)))
    stage = imports._stage
    chunks = 0

    async def cut_off(session: AsyncSession, rows: list[Any]) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            async with services.db.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await stage(session, rows)

    monkeypatch.setattr(imports, "_stage", cut_off)
    with pytest.raises(DomainError) as caught:
        await run(services, path)
    assert caught.value.code is PersonImportError.INTERRUPTED
    assert "database connection was lost" in caught.value.message(Lang.EN)
    assert "3 people this run wrote" in caught.value.message(Lang.EN)
    assert not [n for n in numbers if n in str(caught.value)]
    assert await people(services) == 3

    monkeypatch.setattr(imports, "_stage", stage)
    again = await run(services, path)
    assert (again.report.imported, again.report.already_done, again.report.file_imported) == (
        6,
        3,
        9,
    )


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def shared_strings(texts: list[str]) -> bytes:
    """A shared-string table; a text written "a|b" is one string in two runs (rich text)."""
    items = "".join(
        "<si>" + "".join(f"<r><t>{run}</t></r>" for run in text.split("|")) + "</si>"
        if "|" in text
        else f"<si><t>{text}</t></si>"
        for text in texts
    )
    return f'<sst xmlns="{MAIN}" count="{len(texts)}">{items}</sst>'.encode()


def excel_workbook(path: Path, lines: list[str]) -> None:
    """A workbook as Excel writes one (openpyxl writes each text into its cell instead): every
    text in the shared-string table, the cells pointing into it."""
    texts: list[str] = []
    rows = []
    for number, line in enumerate(lines, 1):
        cells = []
        for column, cell in zip("ABCDEFGHIJKL", line.split(","), strict=False):
            if cell:
                texts.append(cell)
                cells.append(f'<c r="{column}{number}" t="s"><v>{len(texts) - 1}</v></c>')
        rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{SHEET_TYPE}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{SHEET_TYPE}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(rows)}'
        "</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        archive.writestr("xl/sharedStrings.xml", shared_strings(texts))


async def test_a_workbook_saved_by_excel(services: Services, world: World, tmp_path: Path) -> None:
    path = tmp_path / "excel.xlsx"
    good = id_number(date(1960, 1, 1), 1)
    excel_workbook(path, [HEADER, row(good, name="李|明"), row("41012119600101001X")])
    done = await run(services, path)
    assert (done.report.imported, done.refusals) == (1, [(3, IdNumberError.CHECK_DIGIT)])
    async with services.db.session(SYSTEM) as session:
        assert await session.scalar(select(Person.name).where(Person.id_number == good)) == "李明"


def test_a_workbooks_shared_strings_are_not_held_in_memory() -> None:
    """Excel keeps every text of a sheet in one table, which openpyxl reads into a list: it
    grows with the sheet. The reader keeps it in a temporary file (only offsets in memory)."""
    texts = [f"{n:06d}" + "某村某组" * 20 for n in range(20_000)]  # 1.8 MB of text
    table = shared_strings(texts)

    def peak(read: Callable[[IO[bytes]], Any]) -> int:
        tracemalloc.start()
        try:
            strings = read(io.BytesIO(table))
            assert (len(strings), strings[12_345]) == (20_000, texts[12_345])
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    with_openpyxl = peak(read_string_table)
    kept_in_a_file = peak(SharedStrings)
    assert kept_in_a_file * 8 < with_openpyxl
