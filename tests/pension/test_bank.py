"""The bank's result file: what is posted, and every reason a row is not."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jubao.errors import DomainError, Lang
from jubao.pension.bank import BankError, import_results
from jubao.pension.contributions import Contribution, ContributionError
from jubao.pension.people import PersonError
from jubao.platform.services import Services
from tests.helpers import TODAY, VILLAGE_A, World
from tests.pension.support import SYSTEM, enrol

HEADER = "个人编号,身份证号码,年度,档次,扣款金额,扣款结果,银行流水号,扣款日期"


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
        )
        for n in (1, 3)
    ]
    rows = [
        f"{a.id},{a.id_number},2024,500,500.00,成功,R1,2024-03-15",  # 2: posted
        f"{a.id},{b.id_number},2023,500,500.00,成功,R2,2023-03-15",  # 3: someone else's number
        f"{a.id},{a.id_number},2023,500,400.00,成功,R3,2023-03-15",  # 4: not what is due
        f"{a.id},{a.id_number},2024,500,500.00,成功,R4,2024-04-01",  # 5: 2024 is paid (line 2)
        f"{a.id},{a.id_number},2013,500,500.00,成功,R5,2014-03-15",  # 6: before enrolment
        f"{a.id},{a.id_number},2025,500,500.00,成功,R6,2027-01-01",  # 7: a date to come
        f"{a.id},{a.id_number},2022,500,五百,成功,R7,2022-03-15",  # 8: not an amount
        f"999999,{a.id_number},2022,500,500.00,成功,R8,2022-03-15",  # 9: nobody
        f"{b.id},{b.id_number},2024,500,500.00,失败：账户冻结,R9,2024-03-15",  # 10
    ]
    path = tmp_path / "result.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    async with services.db.transaction(SYSTEM) as session:
        report = await import_results(session, SYSTEM, path, today=TODAY)
    assert (report.posted, report.already_posted) == (1, 0)
    assert [(line, error.code) for line, error in report.refused] == [
        (3, BankError.MISMATCH),
        (4, BankError.AMOUNT),
        (5, BankError.PAID),
        (6, ContributionError.YEAR_RANGE),
        (7, ContributionError.PAID_ON),
        (8, BankError.ROW),
        (9, PersonError.NOT_FOUND),
        (10, BankError.FAILED),
    ]
    assert report.describe(Lang.ZH)[1] == "4: 扣款金额 400.00 元与应缴 500.00 元不符"
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
