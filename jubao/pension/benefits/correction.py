"""待遇核定更正: an award's figures corrected after approval, never by editing the award.

When the records an award was reckoned from turn out wrong — a payment made before the award
posted late, a year of contribution found — the county reckons the award again from the
records as they are now: the years, and the balance as it stood when the pension began (the
legs dated before the start month, whenever booked: the pensions paid since are not counted),
with the policy of the start month. The result is a new version of the
待遇核定表 that replaces the one in force from the first month not yet prepared for the
person; the months already prepared keep the figures they were prepared with. What those
months would have paid differently — back pay, or an overpayment to recover — is a decision of
its own, not made here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import hold_lock
from jubao.pension.benefits.award import Award, AwardResult, award_figures, award_row, replaced
from jubao.pension.benefits.payroll import LineKind, PayLine, county_of, payroll_lock
from jubao.pension.benefits.rules import Figures
from jubao.pension.month import Month
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonStatus,
    save_change,
    visible_person,
)
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import PersonRef
from jubao.tenants.scope import unscoped


class CorrectionError(ErrorCode):
    NOT_AWARDED = ("{name}尚未核定待遇，无可更正", "{name} has no award to correct")
    NO_CHANGE = (
        "按现有记录重新核定，{name}的待遇核定数没有变化",
        "Reckoned again from the records, {name}'s award is unchanged",
    )
    START_CHANGED = (
        "重新核定后待遇起始月份将由 {was} 变为 {now}：这不是核定数的更正，请按补发或追回办理",
        "Reckoned again, the pension would start in {now} instead of {was}: that is back pay "
        "or a recovery, not a correction of the figures",
    )


class AwardCorrectionForm(BaseModel):
    """待遇核定更正 — reckon a pensioner's award again from the corrected records."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    reason: Annotated[
        str,
        Field(min_length=2, max_length=200, description="更正原因 — what was wrong in the records"),
    ]


async def current_award(session: AsyncSession, person_id: int) -> Award | None:
    """The version of the person's award no correction replaces (None: no award)."""
    return await session.scalar(
        select(Award).where(Award.person_id == person_id, ~replaced(Award.id))
    )


async def _first_open_month(session: AsyncSession, award: Award) -> Month:
    """The first month no regular line has been prepared for (the award's start at the
    earliest)."""
    lines = unscoped(PayLine)
    last = await session.scalar(
        select(func.max(lines.c.month)).where(
            lines.c.person_id == award.person_id, lines.c.kind == LineKind.REGULAR.value
        )
    )
    start = Month.of(award.effective_month)
    return start if last is None else max(start, Month.of(last).next())


async def _reckoned(session: AsyncSession, person: Person, today: date) -> tuple[Award, Figures]:
    """The award in force and the figures the records give now; refused when nothing would
    change, or the start would."""
    if person.current_status not in (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED):
        raise DomainError(CorrectionError.NOT_AWARDED, field="person", name=person.name)
    award = await current_award(session, person.id)
    if award is None:
        raise DomainError(CorrectionError.NOT_AWARDED, field="person", name=person.name)
    # the account as it stood when the pension began: every leg dated before the start month
    began = award.start.first_day - timedelta(days=1)
    found = await award_figures(session, person, today, as_of=began)
    if found.start != award.start:
        raise DomainError(
            CorrectionError.START_CHANGED,
            field="person",
            was=str(award.start),
            now=str(found.start),
        )
    if _fixed(found) == _fixed(award.figures):
        raise DomainError(CorrectionError.NO_CHANGE, field="person", name=person.name)
    return award, found


def _fixed(figures: Figures) -> tuple[Any, ...]:
    """What an award fixes, to tell whether a correction changes anything."""
    return (
        figures.years,
        {c: a for c, a in figures.balances.items() if a},
        figures.account_pension,
        figures.lines,
    )


class AwardCorrection(PersonKind):
    """待遇核定更正: a new version of the award, in force from the first open month."""

    form = AwardCorrectionForm
    result = AwardResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: AwardCorrectionForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await _reckoned(session, person, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: AwardCorrectionForm,
        today: date,
    ) -> AwardResult:
        person = await visible_person(session, form.person_id)
        award, found = await _reckoned(session, person, today)
        # a run of the county being prepared decides the first open month: wait for it
        await hold_lock(session, payroll_lock(county_of(person.region)))
        effective = await _first_open_month(session, award)
        corrected = award_row(
            person,
            application.id,
            found,
            actor,
            corrects_id=award.id,
            effective_month=effective.first_day,
            reason=form.reason,
        )
        session.add(corrected)
        await session.flush()
        await save_change(
            session,
            actor,
            person,
            EventKind.AWARD_CORRECTED,
            application_id=application.id,
            before={},
            after={"reason": form.reason},
        )
        return AwardResult(person_id=person.id, award_id=corrected.id)
