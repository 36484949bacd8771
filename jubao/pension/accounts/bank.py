"""银行代收: collection batches for the partner bank, and posting what the bank collected.

A batch lists, for one region (usually a township) and year, everyone contributing who still
owes that year and has a bank account, with the amount to debit: their grade less whatever the
government pays for them (代缴), or, after a 代缴 list, the rest of the grade they chose. The
batch is stored line by line; those without an account are listed apart, for the village to
collect in person. The bank returns the rows with a result: a successful debit is posted only
for a line of that batch, for the amount the line asked, once (importing the file again posts
nothing twice); everything else is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import BigInteger, ForeignKey, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode, Lang, Text
from jubao.orm import Base, BigId, utcnow
from jubao.pension.accounts.contributions import (
    Channel,
    ContributionError,
    ContributionKind,
    addition,
    assess,
    book,
    booked_years,
    check_before_pension_age,
    check_paid_on,
    check_year_range,
    employee_year_error,
    employee_years,
    require_contributing,
)
from jubao.pension.accounts.interest import ClosedYears
from jubao.pension.accounts.money import format_yuan, parse_yuan
from jubao.pension.exports import Cell, Yuan, sheet_file
from jubao.pension.people.idnumber import canonical_id_number
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person, PersonError, PersonStatus
from jubao.pension.policy.params import Hukou, PolicyBook
from jubao.tabular import columns, read_table
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import RegionScoped, Scope
from jubao.text import TextField, quoted

HEADINGS = {
    "batch": ("批次号", "batch"),
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
EXPORT_COLUMNS = (
    "batch",
    "person_id",
    "id_number",
    "name",
    "bank_account",
    "year",
    "grade",
    "amount",
)
IMPORT_REQUIRED = (
    "batch",
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
BANK_REFERENCE = TextField("reference", Text("银行流水号", "The bank reference"), 64)


class BankError(ErrorCode):
    HEADER = ("银行回盘文件缺少列：{missing}", "The bank's result file lacks columns: {missing}")
    FAILED = ("银行扣款失败：{detail}", "The bank could not debit: {detail}")
    NOT_IN_BATCH = (
        "个人编号 {person} 不在批次 {batch} 的扣款清单中",
        "Person {person} is not a line of batch {batch}",
    )
    MISMATCH = (
        "身份证号码与个人编号 {person} 不符",
        "The ID number does not match person {person}",
    )
    AMOUNT = (
        "扣款金额 {amount} 元与应缴 {due} 元不符",
        "The amount debited, {amount} yuan, differs from the {due} yuan due",
    )
    GRADE = (
        "档次 {grade} 元与批次中的 {expected} 元不符",
        "The grade {grade} yuan differs from the batch's {expected} yuan",
    )
    YEAR = (
        "年度 {year} 与批次的 {expected} 年不符",
        "The year {year} is not the batch's {expected}",
    )
    POSTED = (
        "该行已按另一银行流水号 {reference} 入账",
        "This line was posted under another bank reference, {reference}",
    )
    ROW = ("该行“{column}”格式不正确：{value}", "The row's '{column}' is malformed: {value}")


class BankBatch(Base, RegionScoped):
    """代收批次: one collection file given to the bank."""

    __tablename__ = "bank_batch"
    __scope_object__ = "contribution"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    year: Mapped[int]
    file_name: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lines: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # fen asked of the bank


class BankBatchLine(Base, RegionScoped):
    """One debit asked of the bank, and what came of it."""

    __tablename__ = "bank_batch_line"
    __scope_object__ = "contribution"
    __table_args__ = (Index("ix_bank_batch_line_person_id", "person_id"),)

    batch_id: Mapped[int] = mapped_column(ForeignKey("bank_batch.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12))
    grade: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id"))
    reference: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Owing:
    """Someone left out of a batch: their person id and village, and why."""

    person_id: int
    name: str
    region_code: str
    amount: int | None  # what they owe, if it could be worked out
    reason: DomainError


@dataclass
class Export:
    batch_id: int = 0
    written: int = 0
    total: int = 0
    without_account: list[Owing] = field(default_factory=list)  # to collect in person
    skipped: list[Owing] = field(default_factory=list)  # owe nothing computable


_NOTHING_OWED = (
    ContributionError.YEAR_PAID,
    ContributionError.HARDSHIP_PAID,
    ContributionError.PENSION_AGE,
)


class ExportError(ErrorCode):
    NO_ACCOUNT = ("没有银行账号，请由村（社区）上门收缴", "No bank account: collect in person")


async def _owing(
    session: AsyncSession, region: RegionCode, year: int
) -> list[tuple[Person, int | None, DomainError | None, int]]:
    """Everyone contributing in ``region`` who owes ``year``, in code order: what they still
    owe (fen), or why it cannot be asked of them, and their grade."""
    people = list(
        await session.scalars(
            select(Person)
            .where(
                Scope.of([region.prefix]).clause(Person.region_code),
                Person.status == PersonStatus.CONTRIBUTING.value,
            )
            .order_by(Person.region_code, Person.id)
        )
    )
    booked = await booked_years(session, [p.id for p in people], year)
    employees = await employee_years(session, people, [year])
    book_of_rules = PolicyBook(session)
    found: list[tuple[Person, int | None, DomainError | None, int]] = []
    for person in people:
        try:
            policy = await book_of_rules.for_region(person.region, year)
            check_before_pension_age(policy, person, year, "year")
            if person.id in employees:
                raise employee_year_error(person, employees[person.id], "year")
            due = assess(
                policy,
                grade=person.grade,
                hukou=Hukou(person.hukou),
                special_group=person.special_group,
            )
            adds = addition(booked.get((person.id, year)), due, Channel.BANK, "year")
        except DomainError as error:
            if error.code not in _NOTHING_OWED:
                found.append((person, None, error, person.grade))
            continue
        if adds is not None and adds.personal > 0:
            found.append((person, adds.personal, None, person.grade))
    return found


async def export_collection(
    session: AsyncSession, actor: Actor, region: RegionCode, year: int, path: Path
) -> Export:
    """Store a batch for everyone contributing in ``region`` who owes ``year`` and has a bank
    account, and write it to ``path`` (.csv or .xlsx) for the bank."""
    await check_in_use(session, region)
    batch = BankBatch(
        region_code=region.code, year=year, file_name=path.name[:255], actor=actor.label
    )
    session.add(batch)
    await session.flush()
    result = Export(batch_id=batch.id)
    # The bank needs the numbers and accounts in full: the batch is what was disclosed.
    disclosure = Disclosure(actor)
    subject = f"bank_batch:{batch.id}"
    lines: list[BankBatchLine] = []
    with sheet_file(path) as sheet:
        sheet.write([HEADINGS[c][0] for c in EXPORT_COLUMNS])
        for person, amount, error, grade in await _owing(session, region, year):
            if amount is None:
                assert error is not None
                result.skipped.append(
                    Owing(person.id, person.name, person.region_code, None, error)
                )
                continue
            if person.bank_account is None:
                result.without_account.append(
                    Owing(
                        person.id,
                        person.name,
                        person.region_code,
                        amount,
                        DomainError(ExportError.NO_ACCOUNT),
                    )
                )
                continue
            row: list[Cell] = [
                batch.id,
                person.id,
                str(disclosure.show(person.region, subject, "id_number", person.id_number)),
                person.name,
                str(disclosure.show(person.region, subject, "bank_account", person.bank_account)),
                year,
                Yuan(grade),
                Yuan(amount),
            ]
            sheet.write(row)
            lines.append(
                BankBatchLine(
                    batch_id=batch.id,
                    person_id=person.id,
                    region_code=person.region_code,
                    grade=grade,
                    amount=amount,
                )
            )
            result.written += 1
            result.total += amount
    session.add_all(lines)
    batch.lines, batch.total = result.written, result.total
    await disclosure.record(session)
    audit.record(
        session,
        actor,
        "contribution.bank_export",
        f"bank_batch:{batch.id}",
        region_code=region.code,
        year=year,
        lines=result.written,
        total=result.total,
        without_account=len(result.without_account),
    )
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
    book_of_rules, closed = PolicyBook(session), ClosedYears(session)
    for row in table.rows:
        cells = {k: row.cells[i] if i < len(row.cells) else "" for k, i in positions.items()}
        try:
            async with session.begin_nested():
                posted = await _post(session, book_of_rules, closed, cells, today)
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


def _malformed(cells: dict[str, str], column: str) -> DomainError:
    return DomainError(BankError.ROW, column=HEADINGS[column][0], value=quoted(cells[column]))


def _number(cells: dict[str, str], column: str) -> int:
    text = cells[column].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise _malformed(cells, column)
    return int(text)


def _amount(cells: dict[str, str], column: str) -> int:
    try:
        return parse_yuan(cells[column].strip())
    except DomainError:
        raise _malformed(cells, column) from None


async def _post(
    session: AsyncSession,
    book_of_rules: PolicyBook,
    closed: ClosedYears,
    cells: dict[str, str],
    today: date,
) -> bool:
    if cells["result"].strip().lower() not in _SUCCESS:
        raise DomainError(BankError.FAILED, detail=quoted(cells["result"], 50) or "-")
    batch_id, person_id, year = (_number(cells, c) for c in ("batch", "person_id", "year"))
    grade, amount = _amount(cells, "grade"), _amount(cells, "amount")
    try:
        paid_on = date.fromisoformat(cells["paid_on"].strip())
    except ValueError:
        raise _malformed(cells, "paid_on") from None
    reference = BANK_REFERENCE.clean(cells["reference"])
    line = await session.get(BankBatchLine, (batch_id, person_id), with_for_update=True)
    batch = await session.get(BankBatch, batch_id)
    if line is None or batch is None:
        raise DomainError(BankError.NOT_IN_BATCH, person=person_id, batch=batch_id)
    person = await session.get(Person, person_id)
    if person is None:
        raise DomainError(PersonError.NOT_FOUND)
    try:
        id_number = canonical_id_number(cells["id_number"])
    except DomainError:
        id_number = None
    if person.id_number != id_number:
        raise DomainError(BankError.MISMATCH, person=person_id)
    if line.contribution_id is not None:
        if line.reference == reference:
            return False  # this file (or this debit) was imported before
        raise DomainError(BankError.POSTED, reference=line.reference or "-")
    if year != batch.year:
        raise DomainError(BankError.YEAR, year=year, expected=batch.year)
    if grade != line.grade:
        raise DomainError(
            BankError.GRADE, grade=format_yuan(grade), expected=format_yuan(line.grade)
        )
    require_contributing(person)
    check_year_range(person, year, today)
    await check_paid_on(closed, person, paid_on, today)
    policy = await book_of_rules.for_region(person.region, year)
    due = assess(policy, grade=grade, hukou=Hukou(person.hukou), special_group=person.special_group)
    booked = (await booked_years(session, [person.id], year)).get((person.id, year))
    adds = addition(booked, due, Channel.BANK, "year")
    owed = adds.personal if adds is not None else 0
    if amount != line.amount or amount != owed:
        raise DomainError(BankError.AMOUNT, amount=format_yuan(amount), due=format_yuan(owed))
    contribution_id = await book(
        session,
        person,
        year,
        due,
        booked,
        kind=ContributionKind.NORMAL,
        channel=Channel.BANK,
        paid_on=paid_on,
        reference=reference,
    )
    line.contribution_id, line.reference, line.posted_at = contribution_id, reference, utcnow()
    return True


def write_owing(path: Path, owing: list[Owing], lang: Lang) -> None:
    """People left out of a batch, for the village to collect from in person."""
    zh = lang is Lang.ZH
    with sheet_file(path) as sheet:
        sheet.write(
            ["个人编号", "姓名", "村（社区）", "应缴金额", "原因"]
            if zh
            else ["person_id", "name", "village", "amount", "reason"]
        )
        for item in owing:
            amount = None if item.amount is None else Yuan(item.amount)
            sheet.write(
                [item.person_id, item.name, item.region_code, amount, item.reason.message(lang)]
            )
