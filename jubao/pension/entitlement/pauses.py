"""暂停 and 恢复 of a pension (rulebook §5.10), as reviewed applications.

A hold takes effect from the first month the county's payroll has not yet prepared, and a
resumption from the first month not prepared then: the months between are the months it held
back, paid back in the next regular run where the policy says so for its reason (补发), never
twice (a person's pay line for a month is unique). A missed verification pauses a pension by
itself (`jubao.pension.entitlement.verification`); the other reasons are applications here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import hold_lock, utcnow
from jubao.pension.benefits.payroll import county_of, first_open_month, payroll_lock
from jubao.pension.entitlement.holds import BenefitHold, open_holds
from jubao.pension.entitlement.reasons import BackPay, HoldReason
from jubao.pension.month import Month
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonStatus,
    move_to,
    save_change,
    visible_person,
)
from jubao.pension.policy.params import PolicyBook
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import PersonRef
from jubao.text import REASON


class HoldError(ErrorCode):
    NOT_RECIPIENT = (
        "{name}当前为“{status}”，不在领取待遇",
        "{name} is '{status}', not a pension recipient",
    )
    ALREADY_PAUSED = (
        "{name}的待遇已因“{reason}”暂停，恢复后再办理",
        "{name}'s pension is already paused ({reason}); resume it first",
    )
    ALREADY_RESTRICTED = (
        "{name}已因“{reason}”不参加调待",
        "{name} is already paid without increases ({reason})",
    )
    SYSTEM_REASON = (
        "“{reason}”的暂停由系统根据认证期限或比对数据作出，不能申请",
        "A pause for '{reason}' is made by the system, from the verification cycle or data",
    )
    NOT_HELD = ("{name}的待遇没有暂停或限制，无需恢复", "{name}'s pension is not held")
    NOT_VERIFIED = (
        "{name}因未按期资格认证而暂停，须先完成资格认证",
        "{name} was paused for a missed verification: verify first",
    )
    FUTURE = ("{field_name}不能晚于今天", "{field_name} cannot be after today")


class HoldForm(BaseModel):
    """待遇暂停 — pause a pensioner's payments (or pay them without increases) for a reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    reason: Annotated[HoldReason, Field(description="暂停原因")]
    began_on: Annotated[
        date | None,
        Field(description="原因发生日期（如判决执行之日） — when it arose, as documented"),
    ] = None
    note: Annotated[str, REASON, Field(description="依据（判决书、通报等文书） — the document")]


class HoldResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    status: Annotated[PersonStatus, Field(description="新的居保状态")]
    from_month: Annotated[Month, Field(description="暂停起始年月")]


class ResumptionForm(BaseModel):
    """待遇恢复 — end a pension's pause (or restriction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    cleared: Annotated[
        bool,
        Field(
            description=(
                "已查明无责（宣告无罪、确认健在、找到本人）：按政策补发暂停期间待遇 — "
                "cleared (acquitted, found alive): the paused months are paid back where the "
                "policy says so"
            )
        ),
    ] = False
    note: Annotated[str, REASON, Field(description="恢复依据 — why it ends")]


class ResumptionResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    status: Annotated[PersonStatus, Field(description="新的居保状态")]
    until_month: Annotated[Month, Field(description="恢复发放年月")]
    back_pay: Annotated[bool, Field(description="是否补发暂停期间待遇")]


def _recipient(person: Person) -> None:
    status = person.current_status
    if status not in (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED):
        raise DomainError(
            HoldError.NOT_RECIPIENT, field="person", name=person.name, status=status.text
        )


async def _check_hold(session: AsyncSession, person: Person, form: HoldForm, today: date) -> None:
    if form.reason is HoldReason.UNVERIFIED:
        raise DomainError(HoldError.SYSTEM_REASON, field="reason", reason=form.reason.text)
    if form.began_on is not None and form.began_on > today:
        raise DomainError(HoldError.FUTURE, field="beganOn", field_name="原因发生日期")
    _recipient(person)
    for hold in await open_holds(session, person.id):
        if hold.pays == form.reason.pays:
            code = HoldError.ALREADY_RESTRICTED if hold.pays else HoldError.ALREADY_PAUSED
            raise DomainError(code, field="person", name=person.name, reason=hold.why.text)


async def start_month(session: AsyncSession, person: Person, today: date) -> Month:
    """The first month the county has not prepared: where a hold begins or ends. Waits for a
    run of the county being prepared."""
    county = county_of(person.region)
    await hold_lock(session, payroll_lock(county))
    return await first_open_month(session, county, Month.of(today))


class Hold(PersonKind):
    """待遇暂停: the pension paused (or restricted) from the first month not yet prepared."""

    form = HoldForm
    result = HoldResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: HoldForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await _check_hold(session, person, form, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: HoldForm,
        today: date,
    ) -> HoldResult:
        person = await visible_person(session, form.person_id)
        await _check_hold(session, person, form, today)
        month = await start_month(session, person, today)
        session.add(
            BenefitHold(
                person_id=person.id,
                region_code=person.region_code,
                reason=form.reason.value,
                pays=form.reason.pays,
                began_on=form.began_on,
                from_month=month.first_day,
                opened_by_application_id=application.id,
                note=form.note,
            )
        )
        before = person.status
        if not form.reason.pays:
            move_to(person, PersonStatus.BENEFIT_SUSPENDED)
        await save_change(
            session,
            actor,
            person,
            EventKind.BENEFIT_HELD,
            application_id=application.id,
            before={"status": before},
            after={"status": person.status, "reason": form.note},
        )
        return HoldResult(person_id=person.id, status=person.current_status, from_month=month)


async def _held(session: AsyncSession, person: Person) -> BenefitHold:
    """The hold a resumption ends: the pause if there is one, else the restriction."""
    _recipient(person)
    holds = sorted(await open_holds(session, person.id), key=lambda h: h.pays)
    if not holds:
        raise DomainError(HoldError.NOT_HELD, field="person", name=person.name)
    hold = holds[0]
    if hold.why is HoldReason.UNVERIFIED and hold.verification_id is None:
        raise DomainError(HoldError.NOT_VERIFIED, field="person", name=person.name)
    return hold


class Resumption(PersonKind):
    """待遇恢复: the hold ends from the first month not yet prepared; the months it held back
    are paid back in the next run where the policy says so. A pause longer than the policy's
    high-risk threshold takes a second review (高风险人员待遇恢复)."""

    form = ResumptionForm
    result = ResumptionResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: ResumptionForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        hold = await _held(session, person)
        rules = (await PolicyBook(session).for_month(person.region, Month.of(today))).entitlement
        paused = Month.of(today).index - hold.start.index
        risky = paused > rules.high_risk_months
        return Placement(
            person.region,
            form,
            person.id,
            subject=f"person:{person.id}",
            second_review=risky and not hold.pays,
        )

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: ResumptionForm,
        today: date,
    ) -> ResumptionResult:
        person = await visible_person(session, form.person_id)
        hold = await _held(session, person)
        month = max(await start_month(session, person, today), hold.start)
        rules = (await PolicyBook(session).for_month(person.region, hold.start)).entitlement
        rule = BackPay.NEVER if hold.pays else rules.back_pay[hold.why]
        back_pay = rule is BackPay.ALWAYS or (rule is BackPay.IF_CLEARED and form.cleared)
        hold.until_month = month.first_day
        hold.back_pay = back_pay and month > hold.start
        hold.closed_by_application_id = application.id
        hold.closed_at = utcnow()
        before = person.status
        if not hold.pays:
            move_to(person, PersonStatus.RECEIVING)
            # seen in person for the resumption: the verification cycle starts again
            person.cycle_start = month.first_day
        await save_change(
            session,
            actor,
            person,
            EventKind.BENEFIT_RESUMED,
            application_id=application.id,
            before={"status": before},
            after={"status": person.status, "reason": form.note},
        )
        return ResumptionResult(
            person_id=person.id,
            status=person.current_status,
            until_month=month,
            back_pay=bool(hold.back_pay),
        )
