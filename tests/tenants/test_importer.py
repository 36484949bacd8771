from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from jubao.audit import AuditEvent
from jubao.authz.actor import Actor
from jubao.errors import DomainError, Lang
from jubao.platform.services import Services
from jubao.tabular import TableError
from jubao.tenants.codes import RegionCodeError
from jubao.tenants.importer import RegionImportError, import_regions, read_regions
from jubao.tenants.models import Region
from jubao.text import TextError

ACTOR = Actor.system("test import")
GOOD = """code,name,urban_rural_class
410000000000,中原省,
410100000000,白水市,
410102000000,东城区,
410102001000,平岭街道,
410102001001,朝阳社区,111
410102001201,张庄村,220
"""


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "regions.csv"
    path.write_bytes(text.encode(encoding))
    return path


async def count(services: Services) -> int:
    async with services.db.session(ACTOR) as session:
        return int(await session.scalar(select(func.count()).select_from(Region)) or 0)


async def run_import(services: Services, path: Path, **options: object):  # type: ignore[no-untyped-def]
    options.setdefault("valid_from", date(2026, 11, 23))
    async with services.db.transaction(ACTOR) as session:
        return await import_regions(session, ACTOR, read_regions(path), **options)  # type: ignore[arg-type]


async def test_imports_a_valid_file(services: Services, tmp_path: Path) -> None:
    report = await run_import(services, write(tmp_path, GOOD))
    assert (report.added, report.updated, report.unchanged, report.rejected) == (6, 0, 0, [])
    async with services.db.session(ACTOR) as session:
        village = await session.get(Region, "410102001201")
    assert village is not None
    assert (village.name, village.level, village.parent_code, village.urban_rural_class) == (
        "张庄村",
        5,
        "410102001000",
        "220",
    )


async def test_chinese_headers_and_gb18030_files(services: Services, tmp_path: Path) -> None:
    text = "代码,名称\n410000000000,中原省\n410100000000,白水市\n"
    report = await run_import(services, write(tmp_path, text, "gb18030"))
    assert report.added == 2


async def test_every_rejected_row_is_reported_and_nothing_is_imported(
    services: Services, tmp_path: Path
) -> None:
    text = GOOD + (
        "41010200100,太短村,\n"  # line 8: 11 digits
        "410102001202,,\n"  # line 9: no name
        "410102001203,李庄村,999\n"  # line 10: unknown class
        "410102001000,平岭街道,121\n"  # line 11: class on a township, and a duplicate
        "410102001201,张庄村,220\n"  # line 12: duplicate of line 7
        "410199001201,孤村,220\n"  # line 13: parent 410199001000 nowhere
        "410000001000,错级乡,\n"  # line 14: no level
        "410102001204,王庄村,220,多余\n"  # line 15: too many columns
    )
    report = await run_import(services, write(tmp_path, text))
    found = {r.line: r.error.code for r in report.rejected}
    assert found == {
        8: RegionCodeError.MALFORMED,
        9: TextError.REQUIRED,
        10: RegionImportError.URBAN_RURAL_CLASS,
        11: RegionImportError.CLASS_NOT_VILLAGE,
        12: RegionImportError.DUPLICATE,
        13: RegionImportError.NO_PARENT,
        14: RegionCodeError.NO_LEVEL,
        15: RegionImportError.COLUMNS,
    }
    assert report.added == 0
    assert await count(services) == 0
    duplicate = next(r for r in report.rejected if r.line == 12)
    assert duplicate.describe(Lang.ZH) == "12: 410102001201: 代码 410102001201 已在第 7 行出现"
    assert "already appears on line 7" in duplicate.describe(Lang.EN)


async def test_skip_invalid_imports_the_rest_but_not_orphans(
    services: Services, tmp_path: Path
) -> None:
    text = GOOD + "410103000000,坏区名称" + "很长" * 60 + ",\n410103001000,某街道,\n"
    report = await run_import(services, write(tmp_path, text), skip_invalid=True)
    # The county is rejected (name too long), so its township goes with it.
    assert sorted((r.line, r.error.code) for r in report.rejected) == [
        (8, TextError.TOO_LONG),
        (9, RegionImportError.NO_PARENT),
    ]
    assert report.added == 6
    assert await count(services) == 6


async def test_parents_may_already_be_in_the_database(services: Services, tmp_path: Path) -> None:
    await run_import(services, write(tmp_path, GOOD))
    more = "code,name\n410102001202,李庄村\n"
    report = await run_import(services, write(tmp_path, more))
    assert (report.added, report.rejected) == (1, [])


async def test_reimport_updates_names_and_records_the_change(
    services: Services, tmp_path: Path
) -> None:
    await run_import(services, write(tmp_path, GOOD))
    report = await run_import(services, write(tmp_path, GOOD.replace("张庄村", "张家庄村")))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 5)
    async with services.db.session(ACTOR) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "region.update"))
    assert event is not None
    assert event.target == "region:410102001201"
    assert event.detail["before"]["name"] == "张庄村"
    assert event.detail["after"]["name"] == "张家庄村"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", TableError.EMPTY),
        ("编码,名字\n410000000000,中原省\n", RegionImportError.BAD_HEADER),
        ("410000000000,中原省\n", RegionImportError.BAD_HEADER),
    ],
    ids=["empty", "wrong-header", "no-header"],
)
def test_a_file_without_the_header_is_refused(tmp_path: Path, text: str, code: object) -> None:
    with pytest.raises(DomainError) as caught:
        list(read_regions(write(tmp_path, text)))
    assert caught.value.code is code


def test_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"code,name\n\x81\x30\xff\xff\n")
    with pytest.raises(DomainError) as caught:
        list(read_regions(path))
    assert caught.value.code is TableError.ENCODING


async def test_excel_files(services: Services, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in GOOD.splitlines():
        sheet.append(line.split(","))
    path = tmp_path / "regions.xlsx"
    workbook.save(path)
    report = await run_import(services, path)
    assert (report.added, report.rejected) == (6, [])
