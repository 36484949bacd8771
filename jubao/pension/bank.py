"""银行代收: collection files for the partner bank, and posting what the bank collected.

The export lists, for one region (usually a township) and year, everyone who is contributing
and has not paid that year, with the amount to debit: their grade less whatever the government
pays for them (代缴). The bank returns the same rows with a result; successful debits are
posted as contributions (with the bank's reference, so that importing the file again posts
nothing twice), and everything else is listed with the reason.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.pension.contributions import (
    Channel,
    Contribution,
    ContributionKind,
    assess,
    check_paid_on,
    check_year_range,
    paid_years,
    record,
    require_contributing,
)
from jubao.pension.idnumber import canonical_id_number
from jubao.pension.interest import ClosedYears
from jubao.pension.money import format_yuan, parse_yuan
from jubao.pension.people import Person, PersonError, PersonStatus
from jubao.pension.policy import Hukou, PolicyBook
from jubao.tabular import columns, read_table
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope
from jubao.text import quoted

HEADINGS = {
    "person_id": ("个人编号", "person_id"),
    "id_number": ("身份证号码", "id_number"),
    "name": ("姓名", "name"),
    "bank_account": ("银行账号", "bank_account"),
    "year": ("年度", "year"),
    "grade": ("档次", "grade"),
    "amount": ("扣款金额", "amount"),
    "result": ("扣款结果", "result"),
    "reference": ("银行流水号", "reference"),
    "paid_on": ("扣款日期", "paid_on"),
}
EXPORT_COLUMNS = ("person_id", "id_number", "name", "bank_account", "year", "grade", "amount")
IMPORT_REQUIRED = (
    "person_id",
    "id_number",
    "year",
    "grade",
    "amount",
    "result",
    "reference",
    "paid_on",
)
_SUCCESS = {"成功", "success", "1", "ok"}


class BankError(ErrorCode):
    HEADER = ("银行回盘文件缺少列：{missing}", "The bank's result file lacks columns: {missing}")
    FAILED = ("银行扣款失败：{detail}", "The bank could not debit: {detail}")
    MISMATCH = (
        "身份证号码与个人编号 {person} 不符",
        "The ID number does not match person {person}",
    )
    AMOUNT = (
        "扣款金额 {amount} 元与应缴 {due} 元不符",
        "The amount debited, {amount} yuan, differs from the {due} yuan due",
    )
    PAID = ("{year} 年已缴费（另一笔）", "{year} is already paid (by another payment)")
    ROW = ("该行格式不正确：{detail}", "The row is malformed: {detail}")


@dataclass
class Export:
    written: int = 0
    # people left off, with why (e.g. their grade no longer exists that year)
    skipped: list[tuple[int, DomainError]] = field(default_factory=list)


async def export_collection(
    session: AsyncSession, region: RegionCode, year: int, path: Path
) -> Export:
    """Write the collection file for everyone contributing in ``region`` who owes ``year``."""
    people = Person.__table__
    paid = exists().where(
        Contribution.__table__.c.person_id == people.c.id, Contribution.__table__.c.year == year
    )
    rows = await session.execute(
        select(Person)
        .where(
            Scope.of([region.prefix]).clause(Person.region_code),
            Person.status == PersonStatus.CONTRIBUTING.value,
            ~paid,
        )
        .order_by(Person.region_code, Person.id)
    )
    book = PolicyBook(session)
    result = Export()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([HEADINGS[c][0] for c in EXPORT_COLUMNS])
        for person in rows.scalars():
            policy = await book.for_region(person.region, year)
            try:
                due = assess(
                    policy,
                    grade=person.grade,
                    hukou=Hukou(person.hukou),
                    special_group=person.special_group,
                )
            except DomainError as error:
                result.skipped.append((person.id, error))
                continue
            if due.personal == 0:
                continue  # the government pays it all (代缴)
            writer.writerow(
                [
                    person.id,
                    person.id_number,
                    person.name,
                    person.bank_account or "",
                    year,
                    format_yuan(due.grade),
                    format_yuan(due.personal),
                ]
            )
            result.written += 1
    return result


@dataclass
class BankReport:
    posted: int = 0
    already_posted: int = 0
    refused: list[tuple[int, DomainError]] = field(default_factory=list)

    def describe(self, lang: Lang) -> list[str]:
        return [f"{line}: {error.message(lang)}" for line, error in self.refused]


async def import_results(
    session: AsyncSession, actor: audit.AuditActor, path: Path, *, today: date
) -> BankReport:
    """Post the successful debits of the bank's result file (each row on its own)."""
    table = read_table(path)
    positions = columns(table.header, HEADINGS)
    missing = [HEADINGS[c][0] for c in IMPORT_REQUIRED if c not in positions]
    if missing:
        raise DomainError(BankError.HEADER, missing="、".join(missing))
    report = BankReport()
    book, closed = PolicyBook(session), ClosedYears(session)
    for row in table.rows:
        cells = {k: row.cells[i] if i < len(row.cells) else "" for k, i in positions.items()}
        try:
            async with session.begin_nested():
                posted = await _post(session, book, closed, cells, today)
        except DomainError as error:
            report.refused.append((row.line, error))
            continue
        if posted:
            report.posted += 1
        else:
            report.already_posted += 1
    audit.record(
        session,
        actor,
        "contribution.bank_import",
        "contributions",
        file=path.name,
        posted=report.posted,
        already_posted=report.already_posted,
        refused=len(report.refused),
    )
    return report


async def _post(
    session: AsyncSession,
    book: PolicyBook,
    closed: ClosedYears,
    cells: dict[str, str],
    today: date,
) -> bool:
    if cells["result"].strip().lower() not in _SUCCESS:
        raise DomainError(BankError.FAILED, detail=quoted(cells["result"], 50) or "-")
    try:
        person_id, year = int(cells["person_id"]), int(cells["year"])
        grade, amount = parse_yuan(cells["grade"]), parse_yuan(cells["amount"])
        paid_on = date.fromisoformat(cells["paid_on"])
    except (ValueError, DomainError) as error:
        raise DomainError(BankError.ROW, detail=str(error)[:80]) from None
    person = await session.get(Person, person_id)
    if person is None:
        raise DomainError(PersonError.NOT_FOUND)
    try:
        id_number = canonical_id_number(cells["id_number"])
    except DomainError:
        id_number = None
    if person.id_number != id_number:
        raise DomainError(BankError.MISMATCH, person=person_id)
    reference = cells["reference"].strip()[:64]
    if year in await paid_years(session, person.id):
        same = await session.scalar(
            select(Contribution.id).where(
                Contribution.person_id == person.id,
                Contribution.year == year,
                Contribution.reference == reference,
            )
        )
        if same is not None:
            return False  # this file (or this debit) was imported before
        raise DomainError(BankError.PAID, year=year)
    require_contributing(person)
    check_year_range(person, year, today)  # paid years were looked at above
    await check_paid_on(closed, person, paid_on, today)
    policy = await book.for_region(person.region, year)
    due = assess(policy, grade=grade, hukou=Hukou(person.hukou), special_group=person.special_group)
    if due.personal != amount:
        raise DomainError(
            BankError.AMOUNT, amount=format_yuan(amount), due=format_yuan(due.personal)
        )
    await record(
        session,
        person,
        year,
        due,
        kind=ContributionKind.NORMAL,
        channel=Channel.BANK,
        paid_on=paid_on,
        reference=reference,
    )
    return True
