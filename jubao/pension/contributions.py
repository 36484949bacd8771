"""缴费: the annual contribution, its government subsidy and 代缴, and back-payment (§5.3–5.5).

One contribution per person and year, at a grade of that year's policy. What the person pays,
what the government pays for hardship groups (代缴), the subsidy split by government level,
and collective subsidy and other aid are computed by ``assess`` (a pure function of the policy)
and credited to the account, component by component, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, BigId, utcnow
from jubao.pension.applications import Application
from jubao.pension.interest import ClosedYears
from jubao.pension.ledger import Component, Credit, EntryKind, post
from jubao.pension.money import format_yuan
from jubao.pension.people import Person, PersonStatus, visible_person
from jubao.pension.policy import Hukou, Policy, PolicyBook
from jubao.pension.workflow import PersonKind, Placement, RegionKind, parse_payload
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import RegionScoped


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
    AID_CAP = (
        "集体补助与其他资助合计 {amount} 元，超过上限 {cap} 元",
        "Collective subsidy and other aid total {amount} yuan, above the cap of {cap} yuan",
    )
    NOT_CONTRIBUTING = (
        "参保人当前为“{status}”，不能缴费",
        "The person is '{status}' and cannot contribute",
    )
    YEAR_PAID = ("{year} 年已缴费", "The contribution for {year} is already paid")
    YEAR_RANGE = (
        "缴费年度 {year} 不在允许范围（{first}–{last}）",
        "The contribution year {year} is outside {first}–{last}",
    )
    NOT_MISSED = (
        "补缴只适用于参保以来中断的往年，{year} 年不是",
        "Back-payment is for past years missed since enrolment; {year} is not one",
    )
    BACK_PAYMENT_CAP = (
        "补缴累计不能超过 {cap} 年（已补缴 {done} 年，本次 {asked} 年）",
        "Back-payment is capped at {cap} years ({done} done, {asked} asked)",
    )
    NOT_HARDSHIP = (
        "{name}（{person}）不属于享受代缴的特殊群体",
        "{name} ({person}) is not in a special group that the government pays for",
    )
    OUTSIDE = (
        "代缴名单中的参保人 {person} 不在 {region} 范围内",
        "Person {person} on the list is not within {region}",
    )
    EMPTY_LIST = ("代缴名单不能为空，且不超过 1000 人", "A list has 1 to 1,000 people")
    PAID_ON = (
        "缴费日期 {paid_on} 不在允许范围（参保日期 {first} 至今天 {last}）",
        "The payment date {paid_on} is outside {first} (enrolment) to {last} (today)",
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


def check_grade(policy: Policy, grade: int) -> None:
    grades = policy.contribution.grades
    if grade not in grades:
        raise DomainError(
            ContributionError.GRADE,
            field="grade",
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
    if collective < 0 or aid < 0 or collective + aid > rules.aid_limit:
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


def require_contributing(person: Person) -> None:
    if person.current_status is not PersonStatus.CONTRIBUTING:
        raise DomainError(
            ContributionError.NOT_CONTRIBUTING, field="person", status=person.current_status.text
        )


async def paid_years(session: AsyncSession, person_id: int) -> dict[int, str]:
    """Years already paid, with the kind of contribution (unscoped: a fact about the person)."""
    table = Contribution.__table__
    rows = await session.execute(
        select(table.c.year, table.c.kind).where(table.c.person_id == person_id)
    )
    return dict(rows.all())  # type: ignore[arg-type]


async def record(
    session: AsyncSession,
    person: Person,
    year: int,
    assessment: Assessment,
    *,
    kind: ContributionKind,
    channel: Channel,
    paid_on: date,
    application_id: int | None = None,
    reference: str | None = None,
) -> Contribution:
    """Store the contribution and credit the account."""
    contribution = Contribution(
        person_id=person.id,
        region_code=person.region_code,
        year=year,
        kind=kind.value,
        channel=channel.value,
        grade=assessment.grade,
        personal=assessment.personal,
        hardship=assessment.hardship,
        collective=assessment.collective,
        aid=assessment.aid,
        subsidy_province=assessment.subsidy_province,
        subsidy_city=assessment.subsidy_city,
        subsidy_county=assessment.subsidy_county,
        paid_on=paid_on,
        application_id=application_id,
        reference=reference,
        created_at=utcnow(),
    )
    session.add(contribution)
    await session.flush()
    await post(
        session,
        person_id=person.id,
        region_code=person.region_code,
        credits=assessment.credits(),
        kind=EntryKind.CONTRIBUTION,
        value_date=paid_on,
        year=year,
        contribution_id=contribution.id,
    )
    return contribution


# --- counter contribution ----------------------------------------------------------------------


class CounterPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: int
    year: int = Field(ge=2009, le=2100)
    grade: int = Field(gt=0)
    collective: int = Field(0, ge=0)
    aid: int = Field(0, ge=0)
    paid_on: date


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


def check_year_range(person: Person, year: int, today: date) -> None:
    if not person.enrolled_on.year <= year <= today.year:
        raise DomainError(
            ContributionError.YEAR_RANGE,
            field="year",
            year=year,
            first=person.enrolled_on.year,
            last=today.year,
        )


async def check_normal_year(session: AsyncSession, person: Person, year: int, today: date) -> None:
    check_year_range(person, year, today)
    if year in await paid_years(session, person.id):
        raise DomainError(ContributionError.YEAR_PAID, field="year", year=year)


async def _counter_plan(
    session: AsyncSession, request: CounterPayload, today: date
) -> tuple[Person, Assessment]:
    person = await visible_person(session, request.person_id)
    require_contributing(person)
    await check_normal_year(session, person, request.year, today)
    await check_paid_on(ClosedYears(session), person, request.paid_on, today)
    policy = await PolicyBook(session).for_region(person.region, request.year)
    return person, assess(
        policy,
        grade=request.grade,
        hukou=Hukou(person.hukou),
        special_group=person.special_group,
        collective=request.collective,
        aid=request.aid,
    )


class CounterContribution(PersonKind):
    """柜台缴费: one year's contribution taken at the counter, reviewed by the county."""

    payload_model = CounterPayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request: CounterPayload = parse_payload(CounterPayload, payload)
        person, _ = await _counter_plan(session, request, today)
        return Placement(person.region, request.model_dump(mode="json"), person.id)

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request: CounterPayload = parse_payload(CounterPayload, application.payload)
        person, assessment = await _counter_plan(session, request, today)
        contribution = await record(
            session,
            person,
            request.year,
            assessment,
            kind=ContributionKind.NORMAL,
            channel=Channel.COUNTER,
            paid_on=request.paid_on,
            application_id=application.id,
        )
        person.grade = request.grade
        return {"contribution_ids": [contribution.id]}


# --- back-payment ------------------------------------------------------------------------------


class BackPaymentPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: int
    years: list[int] = Field(min_length=1, max_length=15)
    grade: int = Field(gt=0)
    paid_on: date


async def _back_payment_plan(
    session: AsyncSession, request: BackPaymentPayload, today: date
) -> tuple[Person, list[tuple[int, Assessment]]]:
    person = await visible_person(session, request.person_id)
    require_contributing(person)
    await check_paid_on(ClosedYears(session), person, request.paid_on, today)
    paid = await paid_years(session, person.id)
    years = sorted(set(request.years))
    book = PolicyBook(session)
    plan = []
    for year in years:
        if not person.enrolled_on.year <= year < today.year:
            raise DomainError(ContributionError.NOT_MISSED, field="years", year=year)
        if year in paid:
            raise DomainError(ContributionError.YEAR_PAID, field="years", year=year)
        policy = await book.for_region(person.region, year)
        plan.append(
            (
                year,
                assess(
                    policy,
                    grade=request.grade,
                    hukou=Hukou(person.hukou),
                    special_group=person.special_group,
                    kind=ContributionKind.BACK_PAYMENT,
                ),
            )
        )
    current = await book.for_region(person.region, today.year)
    done = sum(1 for kind in paid.values() if kind == ContributionKind.BACK_PAYMENT)
    if done + len(years) > current.back_payment.max_years:
        raise DomainError(
            ContributionError.BACK_PAYMENT_CAP,
            field="years",
            cap=current.back_payment.max_years,
            done=done,
            asked=len(years),
        )
    return person, plan


class BackPayment(PersonKind):
    """补缴: years missed since enrolment, within the policy's cap; subsidy only if granted."""

    payload_model = BackPaymentPayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request: BackPaymentPayload = parse_payload(BackPaymentPayload, payload)
        person, _ = await _back_payment_plan(session, request, today)
        return Placement(person.region, request.model_dump(mode="json"), person.id)

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request: BackPaymentPayload = parse_payload(BackPaymentPayload, application.payload)
        person, plan = await _back_payment_plan(session, request, today)
        ids = []
        for year, assessment in plan:
            contribution = await record(
                session,
                person,
                year,
                assessment,
                kind=ContributionKind.BACK_PAYMENT,
                channel=Channel.COUNTER,
                paid_on=request.paid_on,
                application_id=application.id,
            )
            ids.append(contribution.id)
        return {"contribution_ids": ids}


# --- 代缴 list ----------------------------------------------------------------------------------


class HardshipPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str  # the township or county the list covers
    year: int = Field(ge=2009, le=2100)
    person_ids: list[int] = Field(min_length=1, max_length=1000)
    paid_on: date


async def _hardship_plan(
    session: AsyncSession, request: HardshipPayload, today: date
) -> tuple[RegionCode, list[tuple[Person, Assessment]]]:
    region = RegionCode(request.region)
    if len(set(request.person_ids)) != len(request.person_ids):
        raise DomainError(ContributionError.EMPTY_LIST, field="personIds")
    book, closed = PolicyBook(session), ClosedYears(session)
    plan = []
    for person_id in request.person_ids:
        person = await visible_person(session, person_id)
        if not region.contains(person.region):
            raise DomainError(
                ContributionError.OUTSIDE, field="personIds", person=person_id, region=region.code
            )
        require_contributing(person)
        await check_normal_year(session, person, request.year, today)
        await check_paid_on(closed, person, request.paid_on, today)
        policy = await book.for_region(person.region, request.year)
        if policy.hardship_payment(person.special_group) == 0:
            raise DomainError(
                ContributionError.NOT_HARDSHIP,
                field="personIds",
                name=person.name,
                person=person_id,
            )
        # The list pays the minimum grade; the person's own part (if the share is below 100%)
        # is collected with it.
        assessment = assess(
            policy,
            grade=policy.contribution.minimum,
            hukou=Hukou(person.hukou),
            special_group=person.special_group,
        )
        plan.append((person, assessment))
    return region, plan


class HardshipList(RegionKind):
    """代缴名单: the government pays the minimum grade for listed hardship-group members."""

    payload_model = HardshipPayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request: HardshipPayload = parse_payload(HardshipPayload, payload)
        region, _ = await _hardship_plan(session, request, today)
        return Placement(region, request.model_dump(mode="json"))

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request: HardshipPayload = parse_payload(HardshipPayload, application.payload)
        _, plan = await _hardship_plan(session, request, today)
        ids = []
        for person, assessment in plan:
            contribution = await record(
                session,
                person,
                request.year,
                assessment,
                kind=ContributionKind.NORMAL,
                channel=Channel.HARDSHIP_LIST,
                paid_on=request.paid_on,
                application_id=application.id,
            )
            ids.append(contribution.id)
        return {"contribution_ids": ids}
