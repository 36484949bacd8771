"""缴费: the annual contribution, its government subsidy and 代缴, and back-payment (§5.3–5.5).

One contribution per person and year, at a grade of that year's policy. What the person pays,
what the government pays for hardship groups (代缴), the subsidy split by government level,
and collective subsidy and other aid are computed by ``assess`` (a pure function of the policy)
and credited to the account, component by component, in the same transaction.

A year may be booked in two steps, in either order, with the same result: a 代缴 list pays the
government's part of the minimum grade (with the person's own part of it, if the government
pays less than all), and the person pays the rest of the grade they chose at the counter or
through the bank. Booked first, the person's payment already carries the 代缴 part (the list
then has nothing left to do for them); booked second, it tops up what the list booked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, BigId, among, dialect_of, utcnow
from jubao.pension.accounts.interest import ClosedYears
from jubao.pension.accounts.ledger import Component, Credit, EntryKind, post
from jubao.pension.accounts.money import format_yuan
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.idnumber import age_on
from jubao.pension.people.persons import Person, PersonError, PersonStatus, visible_person
from jubao.pension.policy.params import Hukou, Policy, PolicyBook
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement, RegionKind
from jubao.pension.workflow.forms import Amount, PersonRef, PersonRefs, Ref, RegionCodeText, Year
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import RegionScoped, unscoped

MAX_LIST = 1000


class ContributionKind(StrEnum):
    NORMAL = "normal"  # 10 正常应缴
    BACK_PAYMENT = "back_payment"  # 31 补缴


class Channel(StrEnum):
    COUNTER = "counter"  # 经办机构柜台
    BANK = "bank"  # 银行代收
    HARDSHIP_LIST = "hardship_list"  # 代缴名单
    IMPORT = "import"  # historical data


class ContributionError(ErrorCode):
    GRADE = (
        "{year} 年的缴费档次中没有 {grade} 元（可选：{grades}）",
        "{grade} yuan is not a contribution grade of {year} (grades: {grades})",
    )
    NEGATIVE = ("{label}不能为负数", "{label} cannot be negative")
    AID_CAP = (
        "集体补助与其他资助合计 {amount} 元，超过上限 {cap} 元",
        "Collective subsidy and other aid total {amount} yuan, above the cap of {cap} yuan",
    )
    NOT_CONTRIBUTING = (
        "{name}当前为“{status}”，不能缴费",
        "{name} is '{status}' and cannot contribute",
    )
    YEAR_PAID = ("{year} 年已缴费", "The contribution for {year} is already paid")
    HARDSHIP_PAID = (
        "{year} 年已由代缴名单按 {grade} 元档次缴费；选择更高的档次可补足差额",
        "{year} is paid at the {grade} yuan grade by a 代缴 list; a higher grade tops it up",
    )
    YEAR_RANGE = (
        "缴费年度 {year} 不在允许范围（{first}–{last}）",
        "The contribution year {year} is outside {first}–{last}",
    )
    NOT_MISSED = (
        "补缴只适用于参保以来中断的往年，{year} 年不是",
        "Back-payment is for past years missed since enrolment; {year} is not one",
    )
    YEARS_REQUIRED = ("请选择要补缴的年度", "Choose the years to pay back")
    BACK_PAYMENT_CAP = (
        "补缴累计不能超过 {cap} 年（已补缴 {done} 年，本次 {asked} 年）",
        "Back-payment is capped at {cap} years ({done} done, {asked} asked)",
    )
    EMPLOYEE_SCHEME_YEAR = (
        "{name}在 {year} 年参加了城镇职工基本养老保险（数据比对：{period}），该年度不能在城乡居保"
        "缴费；同一年度两边参保的按制度衔接办理",
        "{name} was insured in the employees' scheme in {year} (cross-check: {period}); that "
        "year cannot be paid here (a year in both schemes is settled by the transfer rules)",
    )
    PENSION_AGE = (
        "{name}在 {year} 年初已年满 {age} 周岁（领取待遇年龄），不能按年缴费",
        "{name} was of pension age ({age}) at the start of {year}: no yearly contribution",
    )
    PENSION_AGE_BACK_PAYMENT = (
        "{name}已年满 {age} 周岁（领取待遇年龄），本地政策不允许到龄后补缴",
        "{name} is of pension age ({age}); the local policy allows no back-payment after it",
    )
    NOT_HARDSHIP = (
        "{name}的参保身份为“{group}”，不属于享受政府代缴的特殊群体",
        "{name}'s insured category is '{group}', which the government does not pay for",
    )
    OUTSIDE = (
        "代缴名单中的{name}（{village}）不在 {region} 范围内",
        "{name} ({village}) on the list is not within {region}",
    )
    LIST_SIZE = (
        "代缴名单须有 1 到 {max} 人（现为 {count} 人）",
        "A list has 1 to {max} people (this has {count})",
    )
    LIST_DUPLICATE = (
        "{name}在代缴名单中出现了 {times} 次",
        "{name} is on the list {times} times",
    )
    PAID_ON = (
        "缴费日期 {paid_on} 不在允许范围（参保日期 {first} 至今天 {last}；“今天”为中国时间 UTC+8）",
        "The payment date {paid_on} is outside {first} (enrolment) to {last} (today, in China "
        "time, UTC+8)",
    )
    INTEREST_CLOSED = (
        "{year} 年已结息，缴费日期 {paid_on} 不能再入账，最早为 {first}",
        "{year}'s interest is posted: money dated {paid_on} can no longer be booked; the "
        "earliest date is {first}",
    )


class Contribution(Base, RegionScoped):
    """缴费明细: one row per person and year; the components as credited to the account."""

    __tablename__ = "contribution"
    __scope_object__ = "contribution"
    __table_args__ = (UniqueConstraint("person_id", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    grade: Mapped[int] = mapped_column(BigInteger)
    personal: Mapped[int] = mapped_column(BigInteger)
    hardship: Mapped[int] = mapped_column(BigInteger)
    collective: Mapped[int] = mapped_column(BigInteger)
    aid: Mapped[int] = mapped_column(BigInteger)
    subsidy_province: Mapped[int] = mapped_column(BigInteger)
    subsidy_city: Mapped[int] = mapped_column(BigInteger)
    subsidy_county: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    reference: Mapped[str | None] = mapped_column(String(64))  # e.g. the bank's transaction
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def subsidy(self) -> int:
        return self.subsidy_province + self.subsidy_city + self.subsidy_county

    @property
    def credited(self) -> int:
        return self.personal + self.hardship + self.collective + self.aid + self.subsidy


@dataclass(frozen=True)
class Assessment:
    """What one contribution puts into the account, component by component (fen)."""

    grade: int
    personal: int
    hardship: int
    collective: int
    aid: int
    subsidy_province: int
    subsidy_city: int
    subsidy_county: int

    @property
    def subsidy(self) -> int:
        return self.subsidy_province + self.subsidy_city + self.subsidy_county

    @property
    def credited(self) -> int:
        return self.personal + self.hardship + self.collective + self.aid + self.subsidy

    def less(self, booked: Assessment) -> Assessment:
        """What this adds to ``booked``, component by component."""
        return Assessment(
            **{f.name: getattr(self, f.name) - getattr(booked, f.name) for f in fields(self)}
        )

    def credits(self) -> list[Credit]:
        return [
            Credit(Component.PERSONAL, self.personal),
            Credit(Component.HARDSHIP, self.hardship),
            Credit(Component.COLLECTIVE, self.collective),
            Credit(Component.AID, self.aid),
            Credit(Component.SUBSIDY_PROVINCE, self.subsidy_province),
            Credit(Component.SUBSIDY_CITY, self.subsidy_city),
            Credit(Component.SUBSIDY_COUNTY, self.subsidy_county),
        ]


def check_grade(policy: Policy, grade: int, field: str = "grade") -> None:
    grades = policy.contribution.grades
    if grade not in grades:
        raise DomainError(
            ContributionError.GRADE,
            field=field,
            year=policy.year,
            grade=format_yuan(grade),
            grades="、".join(format_yuan(g) for g in grades),
        )


def assess(
    policy: Policy,
    *,
    grade: int,
    hukou: Hukou,
    special_group: str | None,
    kind: ContributionKind = ContributionKind.NORMAL,
    collective: int = 0,
    aid: int = 0,
) -> Assessment:
    """The contribution at ``grade`` for a person, under the year's policy (rulebook §5.3).

    代缴: for a hardship group the government pays its share of the *minimum* grade; the
    person pays the rest of the chosen grade. The subsidy follows the grade and hukou type;
    back-paid years and 代缴 contributions get it only when the policy says so.
    """
    rules = policy.contribution
    check_grade(policy, grade)
    for amount, field, label in ((collective, "collective", "集体补助"), (aid, "aid", "其他资助")):
        if amount < 0:
            raise DomainError(ContributionError.NEGATIVE, field=field, label=label)
    if collective + aid > rules.aid_limit:
        raise DomainError(
            ContributionError.AID_CAP,
            field="collective",
            amount=format_yuan(collective + aid),
            cap=format_yuan(rules.aid_limit),
        )
    hardship = policy.hardship_payment(special_group) if kind is ContributionKind.NORMAL else 0
    subsidised = (kind is ContributionKind.NORMAL or policy.back_payment.subsidy) and (
        hardship == 0 or policy.hardship.subsidy_applies
    )
    subsidy = policy.subsidy.amount(grade, hukou) if subsidised else 0
    province, city, county = policy.subsidy.shares(subsidy)
    return Assessment(
        grade=grade,
        personal=grade - hardship,
        hardship=hardship,
        collective=collective,
        aid=aid,
        subsidy_province=province,
        subsidy_city=city,
        subsidy_county=county,
    )


def require_contributing(person: Person, field: str = "person") -> None:
    if person.current_status is not PersonStatus.CONTRIBUTING:
        raise DomainError(
            ContributionError.NOT_CONTRIBUTING,
            field=field,
            name=person.name,
            status=person.current_status.text,
        )


def check_before_pension_age(policy: Policy, person: Person, year: int, field: str) -> None:
    """A yearly contribution is for people not yet of pension age when the year begins (国发
    〔2014〕8号 §七): from then on they are paid, not paying."""
    age = policy.enrollment.pension_age
    if age_on(person.birth_date, date(year, 1, 1)) >= age:
        raise DomainError(
            ContributionError.PENSION_AGE, field=field, name=person.name, year=year, age=age
        )


async def employee_years(
    session: AsyncSession, people: Sequence[Person], years: Iterable[int]
) -> dict[int, tuple[int, str]]:
    """People the employees'-scheme cross-check list shows insured there in one of ``years``:
    person id → (the first such year, the period the list gives). One query for all."""
    wanted = sorted(set(years))
    if not people or not wanted:
        return {}
    table = EmployeeInsured.__table__
    by_number = {p.id_number: p for p in people}
    rows = await session.execute(
        select(table.c.id_number, table.c.insured_from, table.c.insured_to).where(
            among(table.c.id_number, list(by_number), dialect_of(session))
        )
    )
    found: dict[int, tuple[int, str]] = {}
    for number, start, end in rows:
        for year in wanted:
            if (start is None or start <= date(year, 12, 31)) and (
                end is None or end >= date(year, 1, 1)
            ):
                period = f"{start or '…'}–{end or ''}"
                found[by_number[number].id] = (year, period)
                break
    return found


def employee_year_error(person: Person, overlap: tuple[int, str], field: str) -> DomainError:
    year, period = overlap
    return DomainError(
        ContributionError.EMPLOYEE_SCHEME_YEAR,
        field=field,
        name=person.name,
        year=year,
        period=period,
    )


async def check_not_employee_years(
    session: AsyncSession, person: Person, years: Iterable[int], field: str
) -> None:
    """A year in the employees' scheme is not paid here too (人社部发〔2014〕17号 art. 7)."""
    overlap = (await employee_years(session, [person], years)).get(person.id)
    if overlap is not None:
        raise employee_year_error(person, overlap, field)


@dataclass(frozen=True)
class Booked:
    """What is booked for a person and year."""

    id: int
    year: int
    kind: str
    channel: str
    assessment: Assessment


async def booked_years(
    session: AsyncSession, person_ids: Sequence[int], year: int | None = None
) -> dict[tuple[int, int], Booked]:
    """What is booked, by (person, year): for the given people, in one year or every year.
    Read unscoped: the people were found through the caller's scope, and what they have paid
    must be known whole (a year paid is paid, whoever may read the payment)."""
    if not person_ids:
        return {}
    table = unscoped(Contribution)
    statement = select(table).where(among(table.c.person_id, list(person_ids), dialect_of(session)))
    if year is not None:
        statement = statement.where(table.c.year == year)
    rows = await session.execute(statement)
    return {
        (row.person_id, row.year): Booked(
            row.id,
            row.year,
            row.kind,
            row.channel,
            Assessment(**{f.name: getattr(row, f.name) for f in fields(Assessment)}),
        )
        for row in rows
    }


@dataclass(frozen=True)
class PaidYear:
    year: int
    paid_on: date
    back_payment: bool = False


async def paid_years(session: AsyncSession, person_id: int) -> list[PaidYear]:
    """Each year a person has paid, with the day it was paid (read whole, as `booked_years`)."""
    table = unscoped(Contribution)
    rows = await session.execute(
        select(table.c.year, table.c.paid_on, table.c.kind).where(table.c.person_id == person_id)
    )
    return [
        PaidYear(year, paid_on, kind == ContributionKind.BACK_PAYMENT.value)
        for year, paid_on, kind in rows
    ]


def addition(
    booked: Booked | None, assessment: Assessment, channel: Channel, field: str
) -> Assessment | None:
    """What booking ``assessment`` for a year adds to what is already booked: all of it if
    nothing is; over a 代缴 list's booking, the top-up to the person's grade; None when a 代缴
    list comes after the person's own payment, which already carried the 代缴 part. A second
    payment of the person's own is refused."""
    if booked is None:
        return assessment
    listed = booked.channel == Channel.HARDSHIP_LIST.value
    if channel is Channel.HARDSHIP_LIST:
        if listed:
            raise DomainError(ContributionError.YEAR_PAID, field=field, year=booked.year)
        return None
    if booked.kind != ContributionKind.NORMAL.value or not listed:
        raise DomainError(ContributionError.YEAR_PAID, field=field, year=booked.year)
    if assessment.grade <= booked.assessment.grade:
        raise DomainError(
            ContributionError.HARDSHIP_PAID,
            field=field,
            year=booked.year,
            grade=format_yuan(booked.assessment.grade),
        )
    return assessment.less(booked.assessment)


async def book(
    session: AsyncSession,
    person: Person,
    year: int,
    assessment: Assessment,
    booked: Booked | None,
    *,
    kind: ContributionKind,
    channel: Channel,
    paid_on: date,
    application_id: int | None = None,
    reference: str | None = None,
) -> int:
    """Store the year's contribution as ``assessment`` says it now stands (the channel is
    that of the person's own payment: a 代缴 share shows in ``hardship``) and credit the
    account with what it adds to ``booked`` (see `addition`); returns the contribution's id."""
    table = unscoped(Contribution)
    values = {f.name: getattr(assessment, f.name) for f in fields(Assessment)}
    values["channel"] = channel.value
    if application_id is not None:
        values["application_id"] = application_id
    if reference is not None:
        values["reference"] = reference
    if booked is None:
        contribution_id = await session.scalar(
            insert(table)
            .values(
                person_id=person.id,
                region_code=person.region_code,
                year=year,
                kind=kind.value,
                paid_on=paid_on,
                created_at=utcnow(),
                **values,
            )
            .returning(table.c.id)
        )
        added = assessment
    else:
        await session.execute(update(table).where(table.c.id == booked.id).values(**values))
        contribution_id, added = booked.id, assessment.less(booked.assessment)
    assert contribution_id is not None
    await post(
        session,
        person_id=person.id,
        region_code=person.region_code,
        credits=added.credits(),
        kind=EntryKind.CONTRIBUTION,
        value_date=paid_on,
        year=year,
        contribution_id=contribution_id,
    )
    return contribution_id


class ContributionsResult(BaseModel):
    contribution_ids: Annotated[
        list[int], Ref("Contribution"), Field(description="缴费记录 — the contributions booked")
    ]


# --- counter contribution ----------------------------------------------------------------------


class CounterForm(BaseModel):
    """柜台缴费 — one year's contribution at the counter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    year: Annotated[Year, Field(description="缴费年度")]
    grade: Annotated[Amount, Field(description="缴费档次")]
    collective: Annotated[Amount, Field(description="集体补助")] = 0
    aid: Annotated[Amount, Field(description="其他资助")] = 0
    paid_on: Annotated[date, Field(description="缴费日期（中国时间）")]


async def check_paid_on(closed: ClosedYears, person: Person, paid_on: date, today: date) -> None:
    """Money is paid after enrolment, not in the future, and not in a year whose interest is
    posted: its date is the value date interest counts from, and a closed year's statement
    does not change."""
    if not person.enrolled_on <= paid_on <= today:
        raise DomainError(
            ContributionError.PAID_ON,
            field="paidOn",
            paid_on=paid_on.isoformat(),
            first=person.enrolled_on.isoformat(),
            last=today.isoformat(),
        )
    last = await closed.last(person.region)
    if last is not None and paid_on.year <= last:
        raise DomainError(
            ContributionError.INTEREST_CLOSED,
            field="paidOn",
            year=last,
            paid_on=paid_on.isoformat(),
            first=date(last + 1, 1, 1).isoformat(),
        )


def check_year_range(person: Person, year: int, today: date, field: str = "year") -> None:
    if not person.enrolled_on.year <= year <= today.year:
        raise DomainError(
            ContributionError.YEAR_RANGE,
            field=field,
            year=year,
            first=person.enrolled_on.year,
            last=today.year,
        )


async def _counter_plan(
    session: AsyncSession, form: CounterForm, today: date
) -> tuple[Person, Assessment, Booked | None]:
    person = await visible_person(session, form.person_id)
    require_contributing(person)
    check_year_range(person, form.year, today)
    policy = await PolicyBook(session).for_region(person.region, form.year)
    check_before_pension_age(policy, person, form.year, "year")
    await check_not_employee_years(session, person, [form.year], "year")
    await check_paid_on(ClosedYears(session), person, form.paid_on, today)
    assessment = assess(
        policy,
        grade=form.grade,
        hukou=Hukou(person.hukou),
        special_group=person.special_group,
        collective=form.collective,
        aid=form.aid,
    )
    booked = (await booked_years(session, [person.id], form.year)).get((person.id, form.year))
    addition(booked, assessment, Channel.COUNTER, "year")
    return person, assessment, booked


class CounterContribution(PersonKind):
    """柜台缴费: one year's contribution taken at the counter, reviewed by the county."""

    form = CounterForm
    result = ContributionsResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: CounterForm, today: date
    ) -> Placement:
        person, _, _ = await _counter_plan(session, form, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}:{form.year}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: CounterForm,
        today: date,
    ) -> ContributionsResult:
        person, assessment, booked = await _counter_plan(session, form, today)
        contribution_id = await book(
            session,
            person,
            form.year,
            assessment,
            booked,
            kind=ContributionKind.NORMAL,
            channel=Channel.COUNTER,
            paid_on=form.paid_on,
            application_id=application.id,
        )
        person.grade = form.grade
        return ContributionsResult(contribution_ids=[contribution_id])


# --- back-payment ------------------------------------------------------------------------------


class BackPaymentForm(BaseModel):
    """补缴 — back-payment of missed years."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    years: Annotated[list[Year], Field(description="补缴年度")]
    grade: Annotated[Amount, Field(description="缴费档次")]
    paid_on: Annotated[date, Field(description="缴费日期（中国时间）")]


async def _back_payment_plan(
    session: AsyncSession, form: BackPaymentForm, today: date
) -> tuple[Person, list[tuple[int, Assessment]]]:
    person = await visible_person(session, form.person_id)
    require_contributing(person)
    years = sorted(set(form.years))
    if not years:
        raise DomainError(ContributionError.YEARS_REQUIRED, field="years")
    book_of_rules = PolicyBook(session)
    current = await book_of_rules.for_region(person.region, today.year)
    paid = {year: row.kind for (_, year), row in (await booked_years(session, [person.id])).items()}
    done = sum(1 for kind in paid.values() if kind == ContributionKind.BACK_PAYMENT)
    if done + len(years) > current.back_payment.max_years:
        raise DomainError(
            ContributionError.BACK_PAYMENT_CAP,
            field="years",
            cap=current.back_payment.max_years,
            done=done,
            asked=len(years),
        )
    age = current.enrollment.pension_age
    late = age_on(person.birth_date, form.paid_on) >= age
    if late and not current.back_payment.after_pension_age:
        raise DomainError(
            ContributionError.PENSION_AGE_BACK_PAYMENT, field="paidOn", name=person.name, age=age
        )
    await check_paid_on(ClosedYears(session), person, form.paid_on, today)
    await check_not_employee_years(session, person, years, "years")
    plan = []
    for year in years:
        if not person.enrolled_on.year <= year < today.year:
            raise DomainError(ContributionError.NOT_MISSED, field="years", year=year)
        if year in paid:
            raise DomainError(ContributionError.YEAR_PAID, field="years", year=year)
        policy = await book_of_rules.for_region(person.region, year)
        plan.append(
            (
                year,
                assess(
                    policy,
                    grade=form.grade,
                    hukou=Hukou(person.hukou),
                    special_group=person.special_group,
                    kind=ContributionKind.BACK_PAYMENT,
                ),
            )
        )
    return person, plan


class BackPayment(PersonKind):
    """补缴: years missed since enrolment, within the policy's cap; subsidy only if granted."""

    form = BackPaymentForm
    result = ContributionsResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: BackPaymentForm, today: date
    ) -> Placement:
        person, _ = await _back_payment_plan(session, form, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}:back")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: BackPaymentForm,
        today: date,
    ) -> ContributionsResult:
        person, plan = await _back_payment_plan(session, form, today)
        ids = []
        for year, assessment in plan:
            contribution_id = await book(
                session,
                person,
                year,
                assessment,
                None,
                kind=ContributionKind.BACK_PAYMENT,
                channel=Channel.COUNTER,
                paid_on=form.paid_on,
                application_id=application.id,
            )
            ids.append(contribution_id)
        return ContributionsResult(contribution_ids=ids)


# --- 代缴 list ----------------------------------------------------------------------------------


class HardshipForm(BaseModel):
    """代缴名单 — the government pays (its share of) the minimum grade for these people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Annotated[RegionCodeText, Field(description="名单覆盖的乡镇或县")]
    year: Annotated[Year, Field(description="缴费年度")]
    person_ids: Annotated[PersonRefs, Field(description="名单上的参保人")]
    paid_on: Annotated[date, Field(description="代缴日期（中国时间）")]


class HardshipResult(ContributionsResult):
    already_paid_person_ids: Annotated[
        list[int],
        Ref("Person"),
        Field(
            description=(
                "本人已缴费的参保人（其缴费已含代缴部分，名单无需再缴） — people whose own "
                "payment already carried the 代缴 part"
            )
        ),
    ] = []


@dataclass(frozen=True)
class _Listed:
    person: Person
    assessment: Assessment
    booked: Booked | None
    adds: Assessment | None  # None: already carried by the person's own payment


async def _hardship_plan(
    session: AsyncSession, form: HardshipForm, today: date
) -> tuple[RegionCode, list[_Listed]]:
    """Every person on the list checked at once: one query each for the people, what is booked
    for the year and the employees'-scheme list, whatever the list's length."""
    region = RegionCode(form.region)
    await check_in_use(session, region)
    count = len(form.person_ids)
    if not 1 <= count <= MAX_LIST:
        raise DomainError(ContributionError.LIST_SIZE, field="persons", max=MAX_LIST, count=count)
    found = {
        p.id: p
        for p in await session.scalars(
            select(Person).where(among(Person.id, form.person_ids, dialect_of(session)))
        )
    }
    missing = next((i for i in form.person_ids if i not in found), None)
    if missing is not None:
        raise DomainError(PersonError.NOT_FOUND, field="persons")
    if len(set(form.person_ids)) != count:
        twice = next(i for i in form.person_ids if form.person_ids.count(i) > 1)
        raise DomainError(
            ContributionError.LIST_DUPLICATE,
            field="persons",
            name=found[twice].name,
            times=form.person_ids.count(twice),
        )
    people = [found[i] for i in form.person_ids]
    booked = await booked_years(session, form.person_ids, form.year)
    employees = await employee_years(session, people, [form.year])
    book_of_rules, closed = PolicyBook(session), ClosedYears(session)
    plan = []
    for person in people:
        if not region.contains(person.region):
            raise DomainError(
                ContributionError.OUTSIDE,
                field="persons",
                name=person.name,
                village=person.region_code,
                region=region.code,
            )
        require_contributing(person, "persons")
        check_year_range(person, form.year, today)
        policy = await book_of_rules.for_region(person.region, form.year)
        check_before_pension_age(policy, person, form.year, "persons")
        if person.id in employees:
            raise employee_year_error(person, employees[person.id], "persons")
        await check_paid_on(closed, person, form.paid_on, today)
        if policy.hardship_payment(person.special_group) == 0:
            group = policy.hardship.group(person.special_group)
            raise DomainError(
                ContributionError.NOT_HARDSHIP,
                field="persons",
                name=person.name,
                group=group.name if group else (person.special_group or "—"),
            )
        # The list pays the minimum grade; the person's own part of it (if the government
        # pays less than all) is collected with it.
        assessment = assess(
            policy,
            grade=policy.contribution.minimum,
            hukou=Hukou(person.hukou),
            special_group=person.special_group,
        )
        row = booked.get((person.id, form.year))
        adds = addition(row, assessment, Channel.HARDSHIP_LIST, "persons")
        plan.append(_Listed(person, assessment, row, adds))
    return region, plan


class HardshipList(RegionKind):
    """代缴名单: the government pays the minimum grade for listed hardship-group members."""

    form = HardshipForm
    result = HardshipResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: HardshipForm, today: date
    ) -> Placement:
        region, _ = await _hardship_plan(session, form, today)
        return Placement(region, form, subject=f"{region.prefix}:{form.year}:hardship")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: HardshipForm,
        today: date,
    ) -> HardshipResult:
        _, plan = await _hardship_plan(session, form, today)
        ids, already = [], []
        for listed in plan:
            if listed.adds is None:
                already.append(listed.person.id)
                continue
            contribution_id = await book(
                session,
                listed.person,
                form.year,
                listed.assessment,
                listed.booked,
                kind=ContributionKind.NORMAL,
                channel=Channel.HARDSHIP_LIST,
                paid_on=form.paid_on,
                application_id=application.id,
            )
            ids.append(contribution_id)
        return HardshipResult(contribution_ids=ids, already_paid_person_ids=already)
