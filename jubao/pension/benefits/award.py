"""待遇核定 (rulebook §5.7): checking that someone may be paid a pension, and awarding it.

An award is an application like any other (village or township enters it, township 初审,
county 复核 by default). Its figures — the years, the account balance by component, the basic
pension level by level and item by item, the account pension — are computed when it is
submitted (for the reviewers to see) and again when it is approved, from the records as they
are then; the approved figures are the 待遇核定表, kept unchanged for good: a correction is a
new, reviewed adjustment, never an edit (the table refuses updates, like the ledger).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, BigInteger, Date, ForeignKey, SmallInteger, String, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, utcnow
from jubao.pension.accounts.contributions import paid_years
from jubao.pension.accounts.ledger import Component, balances, balances_on
from jubao.pension.benefits.rules import (
    Figures,
    Years,
    count_years,
    eligible_on,
    figures,
    is_transitional,
    pension_date,
    required_years,
)
from jubao.pension.month import Month
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonStatus,
    move_to,
    save_change,
    visible_person,
)
from jubao.pension.policy.params import PensionItem, PensionLine, PolicyBook
from jubao.pension.workflow.applications import Application, Kind, Status
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import PersonRef, Ref
from jubao.tenants.scope import RegionScoped, unscoped


class AwardError(ErrorCode):
    TOO_EARLY = (
        "{name}于 {reached} 年满 {age} 周岁，{month} 起才能申请领取待遇",
        "{name} reaches {age} in {reached}; the pension can be claimed from {month}",
    )
    YEARS_SHORT = (
        "{name}累计缴费 {paid} 年，领取待遇需缴满 {required} 年，还差 {short} 年{hint}",
        "{name} has {paid} years of contribution of the {required} required, {short} short{hint}",
    )
    PAYMENT_OPEN = (
        "{name}还有待审核的缴费申请，办结后再核定待遇（核定时的账户余额须为最终数）",
        "{name} has a contribution waiting for review: award once it is decided (the balance "
        "at award must be final)",
    )
    OTHER_PENSION = (
        "{name}在城镇职工基本养老保险中参保（数据比对），不能领取城乡居保待遇",
        "{name} is insured in the employees' scheme (cross-check data) and cannot be paid here",
    )
    SUSPENDED = (
        "{name}当前为“暂停缴费”，恢复后才能核定待遇",
        "{name}'s contributions are suspended: resume them before the award",
    )
    ALREADY = ("{name}已核定待遇", "{name} has already been awarded a pension")
    ENDED = (
        "{name}已终止参保，不能核定待遇",
        "{name}'s insurance has ended; no pension can be awarded",
    )


_BACK_PAYMENT_HINT = Text(
    "，可按本地政策补缴后再申请", "; a back-payment (as local policy allows) can make it up"
)


class AwardForm(BaseModel):
    """待遇领取申请 — claim the pension (the person has signed the 领取待遇通知表)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]


class AwardResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    award_id: Annotated[int, Ref("BenefitAward"), Field(description="待遇核定表")]


class Award(Base, RegionScoped):
    """待遇核定表: the figures an approved award fixed. A person's first award is followed by
    a version per approved correction (更正), each naming the one it replaces from its
    ``effective_month`` on; the person's award is the version no other replaces."""

    __tablename__ = "benefit_award"
    __scope_object__ = "benefit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    # a correction: the version it replaces (each is replaced once), from which month, why
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_award.id"), unique=True)
    effective_month: Mapped[date] = mapped_column(Date)  # its first day; the first: the start
    reason: Mapped[str | None] = mapped_column(String(200))
    # already of pension age when the county's scheme began: the basic pension only
    transitional: Mapped[bool]
    eligible_on: Mapped[date] = mapped_column(Date)
    start_month: Mapped[date] = mapped_column(Date, index=True)  # its first day
    years_paid: Mapped[int] = mapped_column(SmallInteger)
    years_required: Mapped[int] = mapped_column(SmallInteger)
    years_for_topup: Mapped[int] = mapped_column(SmallInteger)
    # {component: fen} at award; the account pension is debited from them in these proportions
    balances: Mapped[dict[str, int]] = mapped_column(JSON)
    account_total: Mapped[int] = mapped_column(BigInteger)
    divisor: Mapped[int] = mapped_column(SmallInteger)
    account_pension: Mapped[int] = mapped_column(BigInteger)
    # [{"prefix": "" | region prefix, "item": base | age | years, "amount": fen}]
    basic_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    basic_pension: Mapped[int] = mapped_column(BigInteger)
    monthly: Mapped[int] = mapped_column(BigInteger)
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    awarded_by: Mapped[str] = mapped_column(String(100))

    @property
    def start(self) -> Month:
        return Month.of(self.start_month)

    @property
    def lines(self) -> list[PensionLine]:
        return [
            PensionLine(line["prefix"], PensionItem(line["item"]), line["amount"])
            for line in self.basic_lines
        ]

    @property
    def figures(self) -> Figures:
        return Figures(
            transitional=self.transitional,
            eligible_on=self.eligible_on,
            start=self.start,
            years=Years(self.years_paid, self.years_required, self.years_for_topup),
            balances={Component(c): amount for c, amount in self.balances.items()},
            divisor=self.divisor,
            account_pension=self.account_pension,
            lines=tuple(self.lines),
        )


def award_row(
    person: Person, application_id: int, found: Figures, actor: Actor, **version: Any
) -> Award:
    """The 待遇核定表 of ``found`` (``version``: from which month, and what it corrects)."""
    return Award(
        person_id=person.id,
        region_code=person.region_code,
        application_id=application_id,
        transitional=found.transitional,
        eligible_on=found.eligible_on,
        start_month=found.start.first_day,
        years_paid=found.years.paid,
        years_required=found.years.required,
        years_for_topup=found.years.for_topup,
        balances={c.value: amount for c, amount in found.balances.items()},
        account_total=found.account_total,
        divisor=found.divisor,
        account_pension=found.account_pension,
        basic_lines=[
            {"prefix": line.prefix, "item": line.item.value, "amount": line.amount}
            for line in found.lines
        ],
        basic_pension=found.basic_pension,
        monthly=found.monthly,
        awarded_at=utcnow(),
        awarded_by=actor.label,
        **version,
    )


def in_effect(awards: Any, month: date | Any) -> Any:
    """Whether a row of ``awards`` (a table or alias) is the version that pays ``month`` (a
    first day, or a column of them): in effect by then, and not yet replaced by then."""
    later = unscoped(Award).alias("replacing")
    return and_(
        awards.c.effective_month <= month,
        ~select(later.c.id)
        .where(later.c.corrects_id == awards.c.id, later.c.effective_month <= month)
        .exists(),
    )


def replaced(award_id: Any) -> Any:
    """Whether a later version replaces the award with id ``award_id`` (a column), whatever
    the month."""
    later = unscoped(Award).alias("replacing")
    return select(later.c.id).where(later.c.corrects_id == award_id).exists()


async def assess_award(session: AsyncSession, person: Person, today: date) -> Figures:
    """Every check of §5.7 on ``person`` and, when all pass, the figures of their award.
    (Alive: a death is recorded by terminating the insurance, which refuses here.)"""
    status = person.current_status
    if status in (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED):
        raise _refusal(AwardError.ALREADY, person)
    if status is PersonStatus.TERMINATED:
        raise _refusal(AwardError.ENDED, person)
    if status is PersonStatus.CONTRIBUTION_SUSPENDED:
        raise _refusal(AwardError.SUSPENDED, person)
    return await award_figures(session, person, today)


async def award_figures(
    session: AsyncSession, person: Person, today: date, *, as_of: date | None = None
) -> Figures:
    """The checks of §5.7 that the records decide, and the figures they give: the account as
    it is, or as it was on the day ``as_of`` (a correction reckons the balance at award again,
    without the pensions paid since)."""
    book = PolicyBook(session)
    now = await book.for_region(person.region, today.year, today.month)
    pension_age = now.enrollment.pension_age
    reached = pension_date(person.birth_date, pension_age)
    opens = Month.of(reached).plus(-1)  # the month the 领取待遇通知表 is handed out
    if as_of is None and Month.of(today) < opens:
        # the month only: the day is the birthday, which a masked ID number hides
        raise _refusal(
            AwardError.TOO_EARLY, person, reached=Month.of(reached), age=pension_age, month=opens
        )
    # a payment in review decides both the years and the balance the award fixes
    if await payment_open(session, person):
        raise _refusal(AwardError.PAYMENT_OPEN, person)
    paid = await paid_years(session, person.id)
    scheme = now.scheme
    years = count_years(paid, required_years(person.birth_date, scheme, pension_age), reached)
    if years.short:
        hint = _BACK_PAYMENT_HINT if now.back_payment.after_pension_age else ""
        raise _refusal(
            AwardError.YEARS_SHORT,
            person,
            paid=years.paid,
            required=years.required,
            short=years.short,
            hint=hint,
        )
    eligible = eligible_on(reached, person.enrolled_on, paid, years.required)
    insured = await session.get(EmployeeInsured, person.id_number)
    if insured is not None and (insured.insured_to is None or insured.insured_to >= eligible):
        raise _refusal(AwardError.OTHER_PENSION, person)
    found = (
        (await balances(session, [person.id]))[person.id]
        if as_of is None
        else await balances_on(session, person.id, as_of)
    )
    start_policy = await book.for_month(person.region, Month.of(eligible).next())
    return figures(
        start_policy,
        birth=person.birth_date,
        eligible=eligible,
        years=years,
        balances={Component(c): amount for c, amount in found.items()},
        transitional=is_transitional(person.birth_date, scheme, pension_age),
    )


def _refusal(code: AwardError, person: Person, **values: Any) -> DomainError:
    return DomainError(code, field="person", name=person.name, **values)


async def payment_open(session: AsyncSession, person: Person) -> bool:
    """A contribution or back-payment for the person in review, or a 代缴 list naming them (a
    list is placed at the township or county it covers; the few open there are read whole)."""
    found = await session.execute(
        select(Application.id).where(
            Application.person_id == person.id,
            Application.kind.in_((Kind.CONTRIBUTION.value, Kind.BACK_PAYMENT.value)),
            Application.status == Status.IN_REVIEW.value,
        )
    )
    if found.first() is not None:
        return True
    # read whole: a village assistant taking the claim cannot read the township's list
    table = unscoped(Application)
    lists = await session.scalars(
        select(table.c.payload).where(
            table.c.kind == Kind.HARDSHIP.value,
            table.c.status == Status.IN_REVIEW.value,
            table.c.region_code.in_([r.code for r in person.region.ancestors]),
        )
    )
    return any(person.id in payload.get("person_ids", ()) for payload in lists)


class AwardClaim(PersonKind):
    """待遇核定: the pension claimed, checked and fixed; the person moves to 正常待遇."""

    form = AwardForm
    result = AwardResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: AwardForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await assess_award(session, person, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: AwardForm,
        today: date,
    ) -> AwardResult:
        person = await visible_person(session, form.person_id)
        found = await assess_award(session, person, today)
        award = award_row(
            person, application.id, found, actor, effective_month=found.start.first_day
        )
        session.add(award)
        before = person.status
        move_to(person, PersonStatus.RECEIVING)
        # the first verification cycle runs from the first month paid (rulebook §5.9)
        person.cycle_start = found.start.first_day
        await save_change(
            session,
            actor,
            person,
            EventKind.AWARDED,
            application_id=application.id,
            before={"status": before},
            after={"status": person.status},
        )
        return AwardResult(person_id=person.id, award_id=award.id)
