"""Bank collection: the batch written for the bank, and every reason a result row is not posted."""

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jubao.errors import DomainError, Lang
from jubao.pension.accounts.bank import BankBatchLine, BankError, export_collection, import_results
from jubao.pension.accounts.contributions import Contribution, ContributionError
from jubao.platform.services import Services
from tests.helpers import TODAY, TOWN_A, VILLAGE_A, World
from tests.pension.support import SYSTEM, enrol

HEADER = "批次号,个人编号,身份证号码,年度,档次,扣款金额,扣款结果,银行流水号,扣款日期"


async def export(services: Services, path: Path, year: int = 2024):  # type: ignore[no-untyped-def]
    async with services.db.transaction(SYSTEM) as session:
        return await export_collection(session, SYSTEM, TOWN_A, year, path)


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


async def post(services: Services, path: Path, rows: list[str]):  # type: ignore[no-untyped-def]
    write(path, rows)
    async with services.db.transaction(SYSTEM) as session:
        return await import_results(session, SYSTEM, path, today=TODAY)


async def test_a_batch_lists_those_with_an_account_and_the_others_apart(
    services: Services, world: World, tmp_path: Path
) -> None:
    with_account = await enrol(
        services,
        birth=date(1970, 1, 1),
        sequence=1,
        region=VILLAGE_A,
        enrolled_on=date(2014, 1, 1),
        bank_account="6222020000000001",
        name='=HYPERLINK("http://x","y")',
    )
    without = await enrol(
        services, birth=date(1970, 1, 1), sequence=3, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )
    result = await export(services, tmp_path / "collect.csv")
    assert (result.written, result.total) == (1, 50000)
    assert [(o.person_id, o.amount) for o in result.without_account] == [(without.id, 50000)]
    with (tmp_path / "collect.csv").open(encoding="utf-8-sig") as handle:
        header, row = list(csv.reader(handle))
    assert header == [
        "批次号",
        "个人编号",
        "身份证号码",
        "姓名",
        "银行账号",
        "年度",
        "档次",
        "扣款金额",
    ]
    assert row == [
        str(result.batch_id),
        str(with_account.id),
        with_account.id_number,
        '\'=HYPERLINK("http://x","y")',  # no live formula in a spreadsheet
        "6222020000000001",
        "2024",
        "500.00",
        "500.00",
    ]
    async with services.db.session(SYSTEM) as session:
        lines = (await session.scalars(select(BankBatchLine))).all()
    assert [(line.person_id, line.amount) for line in lines] == [(with_account.id, 50000)]
    # the batch is what disclosed the numbers: one record of it, not one per person
    again = await export(services, tmp_path / "collect2.xlsx")
    assert again.written == 1  # not yet paid: asked again in a new batch


async def test_each_refused_row_says_why_and_posts_nothing(
    services: Services, world: World, tmp_path: Path
) -> None:
    a, b = [
        await enrol(
            services,
            birth=date(1970, 1, 1),
            sequence=n,
            region=VILLAGE_A,
            enrolled_on=date(2014, 1, 1),
            bank_account=f"622202000000000{n}",
        )
        for n in (1, 3)
    ]
    outsider = await enrol(
        services, birth=date(1970, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2014, 1, 1)
    )
    batch = (await export(services, tmp_path / "collect.csv")).batch_id
    rows = [
        f"{batch},{a.id},{a.id_number},2024,500,500.00,成功,R1,2024-03-15",  # 2: posted
        f"{batch},{b.id},{a.id_number},2024,500,500.00,成功,R2,2024-03-15",  # 3: another's number
        f"{batch},{b.id},{b.id_number},2024,500,400.00,成功,R3,2024-03-15",  # 4: not what was asked
        f"{batch},{a.id},{a.id_number},2024,500,500.00,成功,R4,2024-04-01",  # 5: line 2 posted it
        f"{batch},{outsider.id},{outsider.id_number},2024,500,500.00,成功,R5,2024-03-15",  # 6
        f"{batch},{b.id},{b.id_number},2024,500,500.00,成功,R6,2027-01-01",  # 7: a date to come
        f"{batch},{b.id},{b.id_number},2024,500,五百,成功,R7,2024-03-15",  # 8: not an amount
        f"999999,{b.id},{b.id_number},2024,500,500.00,成功,R8,2024-03-15",  # 9: no such batch
        f"{batch},{b.id},{b.id_number},2024,500,500.00,失败：账户冻结,R9,2024-03-15",  # 10
        f"{batch},{b.id},{b.id_number},2023,500,500.00,成功,R10,2024-03-15",  # 11: another year
    ]
    report = await post(services, tmp_path / "result.csv", rows)
    assert (report.posted, report.already_posted) == (1, 0)
    assert [(line, error.code) for line, error in report.refused] == [
        (3, BankError.MISMATCH),
        (4, BankError.AMOUNT),
        (5, BankError.POSTED),
        (6, BankError.NOT_IN_BATCH),
        (7, ContributionError.PAID_ON),
        (8, BankError.ROW),
        (9, BankError.NOT_IN_BATCH),
        (10, BankError.FAILED),
        (11, BankError.YEAR),
    ]
    assert report.describe(Lang.ZH)[1] == "4: 扣款金额 400.00 元与应缴 500.00 元不符"
    assert report.describe(Lang.ZH)[5] == "8: 该行“扣款金额”格式不正确：五百"
    again = await post(services, tmp_path / "result.csv", rows[:1])
    assert (again.posted, again.already_posted) == (0, 1)  # the same file posts nothing twice
    async with services.db.session(SYSTEM) as session:
        paid = (await session.execute(select(Contribution.person_id, Contribution.year))).all()
    assert paid == [(a.id, 2024)]


async def test_a_file_without_the_columns_posts_nothing(
    services: Services, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "result.csv"
    path.write_text("个人编号,身份证号码,年度\n1,x,2024\n", encoding="utf-8")
    async with services.db.transaction(SYSTEM) as session:
        with pytest.raises(DomainError) as caught:
            await import_results(session, SYSTEM, path, today=TODAY)
    assert caught.value.code is BankError.HEADER and "扣款金额" in caught.value.message()
    async with services.db.session(SYSTEM) as session:
        assert await session.scalar(select(func.count()).select_from(Contribution)) == 0
