"""Bulk import of historical data (the 通江 county story)."""

import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from jubao.errors import DomainError, Lang
from jubao.pension.contributions import ContributionError
from jubao.pension.idnumber import IdNumberError
from jubao.pension.imports import PersonImportError, import_persons
from jubao.pension.people import Person
from jubao.platform.services import Services
from jubao.tabular import TableError
from tests.helpers import VILLAGE_A, VILLAGE_X, World
from tests.pension.support import SYSTEM, enrol, id_number

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


def run(services: Services, path: Path, **options: object):  # type: ignore[no-untyped-def]
    return import_persons(
        lambda: services.db.transaction(SYSTEM), SYSTEM, path, today=date(2026, 11, 23), **options
    )  # type: ignore[arg-type]


async def test_valid_rows_go_in_and_every_rejection_has_its_line(
    services: Services, world: World, tmp_path: Path
) -> None:
    existing = await enrol(
        services, birth=date(1950, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )
    good = [id_number(date(1960, 1, 1), n) for n in range(1, 4)]
    path = write(
        tmp_path,
        row(good[0]),  # line 2
        row(good[1], region=VILLAGE_X.code, sex="女"),  # line 3 (the sex agrees with the number)
        row(good[2], grade="1500", enrolled="2020-01-01"),  # line 4
        row(good[0], name="重复"),  # line 5: repeats line 2
        row("41012119600101001X"),  # line 6: check digit
        row(id_number(date(1960, 2, 1), 7), region="410121101000"),  # line 7: a township
        row(id_number(date(1960, 3, 1), 9), grade="250"),  # line 8: no such grade
        row(id_number(date(2005, 1, 1), 11), enrolled="2015-01-01"),  # line 9: only 10 then
        row(id_number(date(1960, 4, 1), 13), enrolled="2030-01-01"),  # line 10: the future
        row(id_number(date(1960, 5, 1), 15), name=""),  # line 11: no name
        row(existing.id_number),  # line 12: enrolled before, not by this file
        row(id_number(date(1960, 6, 1), 17), sex="女"),  # line 13: an odd sequence is male
    )
    report = await run(services, path)
    assert report.imported == 3 and report.already_done == 0
    assert [(r.line, r.error.code) for r in report.rejected] == [
        (5, PersonImportError.DUPLICATE_IN_FILE),
        (6, IdNumberError.CHECK_DIGIT),
        (7, PersonImportError.NOT_A_VILLAGE),
        (8, ContributionError.GRADE),
        (9, PersonImportError.ENROLLED_ON),
        (10, PersonImportError.ENROLLED_ON),
        (11, PersonImportError.MISSING),
        (12, PersonImportError.ALREADY_ENROLLED),
        (13, IdNumberError.SEX_MISMATCH),
    ]
    assert report.rejected[0].describe(Lang.ZH) == "5: 身份证号码与第 2 行重复"
    assert await people(services) == 4
    async with services.db.session(SYSTEM) as session:
        imported = await session.scalar(select(Person).where(Person.id_number == good[2]))
    assert imported is not None
    assert (imported.grade, imported.enrolled_on, imported.status, imported.import_batch_id) == (
        150000,
        date(2020, 1, 1),
        "contributing",
        report.batch_id,
    )

    # run again (say it was interrupted): nobody is added twice
    again = await run(services, path)
    assert (again.imported, again.already_done, len(again.rejected)) == (0, 3, 9)
    assert await people(services) == 4


async def test_all_or_nothing(services: Services, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, row(id_number(date(1960, 1, 1), 1)), row("41012119600101001X"))
    report = await run(services, path, all_or_nothing=True)
    assert (report.imported, len(report.rejected), report.batch_id) == (0, 1, None)
    assert await people(services) == 0
    clean = write(
        tmp_path, row(id_number(date(1960, 1, 1), 1)), row(id_number(date(1960, 1, 1), 3))
    )
    assert (await run(services, clean, all_or_nothing=True)).imported == 2


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
    report = await run(services, path)
    assert report.imported == 1
    assert [(r.line, r.error.code) for r in report.rejected] == [(3, IdNumberError.MALFORMED)]


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
        services, birth=date(1950, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )

    async def not_yet(session: object, id_numbers: object) -> dict[str, str | None]:
        return {}  # as the check saw it, before the counter enrolled them

    monkeypatch.setattr("jubao.pension.imports._existing", not_yet)
    path = write(tmp_path, row(id_number(date(1960, 1, 1), 1)), row(meanwhile.id_number))
    report = await run(services, path, all_or_nothing=True)
    assert report.imported == 0
    assert [(r.line, r.error.code) for r in report.rejected] == [
        (3, PersonImportError.ALREADY_ENROLLED)
    ]
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
    report = await run(services, path, all_or_nothing=True)
    assert [(r.line, r.error.code) for r in report.rejected] == [
        (3, PersonImportError.DATE),
        (4, PersonImportError.MISSING),
    ]
    assert "2015/13/01" in report.rejected[0].describe(Lang.ZH)
    assert await people(services) == 0
