"""代发文件 and 回盘: a released run in its bank's layout, and the bank's results read back."""

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from jubao.audit import AuditEvent
from jubao.errors import DomainError, Lang
from jubao.pension.benefits.bank_files import BankFileError, export_run, import_results
from jubao.pension.benefits.payroll import PayLine, PayrollRun
from jubao.pension.benefits.settlement import ResultError
from jubao.pension.policy.params import (
    DEFAULT_WIDTHS,
    PayField,
    PolicyFile,
    parse_params,
    save_policy,
)
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import (
    ACCOUNT,
    JANUARY,
    awarded,
    lines_of,
    pay_out,
    prepare,
    reconciled,
)
from tests.pension.support import SYSTEM


async def export(acting: ActorFor, run: PayrollRun, path: Path, who: str = "finance") -> None:
    async with acting(who) as (actor, session):
        await export_run(session, actor, run.id, path)


async def record(acting: ActorFor, run: PayrollRun, path: Path):  # type: ignore[no-untyped-def]
    async with acting("finance") as (actor, session):
        return await import_results(session, actor, run.id, path, today=date(2027, 1, 20))


async def two_paid(services: Services, acting: ActorFor) -> tuple[PayrollRun, list[PayLine]]:
    first = await awarded(services, acting, 31, bank_account=ACCOUNT, name="王秀英")
    await awarded(services, acting, 32, bank_account=ACCOUNT[:-1] + "5", name="李建国")
    run = await pay_out(acting, JANUARY)
    lines = await lines_of(services, run)
    assert lines[0].person_id == first.id
    return run, lines


async def test_csv_out_and_back(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    run, _ = await two_paid(services, acting)
    out = tmp_path / "daifa.csv"
    await export(acting, run, out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == [
        "明细号",
        "个人编号",
        "身份证号码",
        "姓名",
        "银行账号",
        "待遇所属期",
        "发放金额",
    ]
    assert [row[3:] for row in rows[1:3]] == [
        ["王秀英", ACCOUNT, "202701", "268.43"],
        ["李建国", ACCOUNT[:-1] + "5", "202701", "268.43"],
    ]
    assert rows[1][2].startswith("410121196612") and len(rows[1][2]) == 18  # in full
    assert rows[3][:3] == ["合计", "2", "536.86"]
    async with services.db.session(SYSTEM) as session:
        shown = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "person.personal_data_read")
        )
    assert shown is not None and shown.detail["subjects"] == [f"payroll_run:{run.id}"]

    # the bank's answer: the first paid, the second failed
    back = tmp_path / "huipan.csv"
    with back.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "发放结果", "失败原因", "银行流水号", "发放日期"])
        writer.writerow([*rows[1], "成功", "", "B0001", "2027-01-15"])
        writer.writerow([*rows[2], "失败", "户名不符", "", "2027-01-15"])
        writer.writerow(rows[3])
    result = await record(acting, run, back)
    assert (result.paid, result.failed, result.already, result.refused) == (1, 1, 0, [])
    again = await record(acting, run, back)
    assert (again.paid, again.failed, again.already) == (0, 0, 2)
    first, second = await lines_of(services, run)
    assert (first.state, first.bank_reference, first.settled_on) == (
        "paid",
        "B0001",
        date(2027, 1, 15),
    )
    assert (second.state, second.reason) == ("failed", "户名不符")
    await reconciled(services, run)


async def test_a_result_that_does_not_add_up_is_refused_whole(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    run, lines = await two_paid(services, acting)
    heading = "明细号,银行账号,发放金额,发放结果\n"
    rows = (
        f"{lines[0].id},{ACCOUNT},268.43,成功\n{lines[1].id},{lines[1].bank_account},268.43,成功\n"
    )
    back = tmp_path / "huipan.csv"
    back.write_text(heading + rows + "合计,2,536.85\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        await record(acting, run, back)
    assert caught.value.code is BankFileError.TOTALS
    assert {line.state for line in await lines_of(services, run)} == {"sent"}
    # a row for another amount or account than was sent is refused, the rest recorded
    back.write_text(
        heading + f"{lines[0].id},{ACCOUNT},268.34,成功\n"
        f"{lines[1].id},6222000000000000001,268.43,成功\n999999,{ACCOUNT},1.00,成功\n",
        encoding="utf-8",
    )
    result = await record(acting, run, back)
    assert [r.code for r in result.refused] == [
        ResultError.MISMATCH,
        ResultError.MISMATCH,
        ResultError.UNKNOWN_LINE,
    ]
    assert result.paid == 0
    assert result.refused[0].message(Lang.ZH) == f"明细 {lines[0].id} 的发放金额与发放时不符"


async def test_fixed_width_in_gb18030(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    layout = {
        "bank_file": {
            "format": "fixed",
            "encoding": "gb18030",
            "fields": ["line", "name", "bank_account", "amount"],
            "widths": {"name": 12},
        }
    }
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(session, SYSTEM, PolicyFile(COUNTY_A, 2027, "代发", parse_params(layout)))
    run, lines = await two_paid(services, acting)
    out = tmp_path / "daifa.txt"
    await export(acting, run, out)
    records = out.read_bytes().split(b"\r\n")
    assert records[0] == f"H{run.id:012d}{2:010d}{53686:016d}202701".encode()
    widths = DEFAULT_WIDTHS | {PayField.NAME: 12}
    detail = 1 + sum(
        widths[f] for f in (PayField.LINE, PayField.NAME, PayField.ACCOUNT, PayField.AMOUNT)
    )
    assert [len(r) for r in records[1:3]] == [detail, detail]
    assert records[1] == (
        f"D{lines[0].id:012d}".encode()
        + "王秀英".encode("gb18030")
        + b"      "
        + ACCOUNT.encode()
        + b" " * (32 - len(ACCOUNT))
        + b"000000026843"
    )
    assert records[3] == f"T{2:010d}{53686:016d}".encode()

    # the bank appends result (0 paid), reason, reference and date to each detail record
    def answered(record: bytes, code: str, reason: str) -> bytes:
        reason_bytes = reason.encode("gb18030")
        return (
            record
            + code.encode()
            + reason_bytes
            + b" " * (60 - len(reason_bytes))
            + b"R1".ljust(32)
            + b"20270115"
        )

    back = tmp_path / "huipan.txt"
    back.write_bytes(
        b"\r\n".join(
            [
                records[0],
                answered(records[1], "0", ""),
                answered(records[2], "1", "账户冻结"),
                records[3],
            ]
        )
        + b"\r\n"
    )
    result = await record(acting, run, back)
    assert (result.paid, result.failed, result.refused) == (1, 1, [])
    states = [(line.state, line.reason) for line in await lines_of(services, run)]
    assert states == [("paid", None), ("failed", "账户冻结")]
    await reconciled(services, run)


async def test_a_name_too_long_for_the_bank_stops_the_file(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    layout = {"bank_file": {"format": "fixed", "encoding": "gb18030", "widths": {"name": 4}}}
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(session, SYSTEM, PolicyFile(COUNTY_A, 2027, "代发", parse_params(layout)))
    run, lines = await two_paid(services, acting)
    with pytest.raises(DomainError) as caught:
        await export(acting, run, tmp_path / "daifa.txt")
    assert caught.value.code is BankFileError.TOO_LONG
    assert f"{lines[0].id}" in caught.value.message()


async def test_only_a_released_run_by_someone_who_may_see_the_accounts(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    await awarded(services, acting, 33, bank_account=ACCOUNT)
    run = await prepare(acting, JANUARY)
    with pytest.raises(DomainError) as caught:
        await export(acting, run, tmp_path / "x.csv")
    assert caught.value.code is BankFileError.NOT_RELEASED
    with pytest.raises(DomainError, match="may not process"):
        await export(acting, run, tmp_path / "x.csv", who="county.reviewer")
    assert not (tmp_path / "x.csv").exists()
