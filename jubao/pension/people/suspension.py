"""暂停缴费 and 恢复缴费 (rulebook §3): a contributor's payments paused (服刑, 中断, …) and taken
up again, each a reviewed move of the person state machine. Retirement and termination move it
too, with the money that goes with them, in their own kinds."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.pension.people.persons import (
    EventKind,
    PersonStatus,
    check_move,
    move_to,
    save_change,
    visible_person,
)
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import PersonRef
from jubao.text import REASON


class SuspensionAction(StrEnum):
    SUSPEND = "suspend"  # 暂停缴费
    RESUME = "resume"  # 恢复缴费

    @property
    def target(self) -> PersonStatus:
        if self is SuspensionAction.SUSPEND:
            return PersonStatus.CONTRIBUTION_SUSPENDED
        return PersonStatus.CONTRIBUTING


class SuspensionForm(BaseModel):
    """暂停或恢复缴费 — pause a contributor's payments, or resume them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    action: Annotated[SuspensionAction, Field(description="暂停或恢复")]
    reason: Annotated[str, REASON, Field(description="原因（服刑、中断缴费、…）")]


class SuspensionResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    status: Annotated[PersonStatus, Field(description="新的居保状态")]


class Suspension(PersonKind):
    form = SuspensionForm
    result = SuspensionResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: SuspensionForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        check_move(person, form.action.target)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: SuspensionForm,
        today: date,
    ) -> SuspensionResult:
        person = await visible_person(session, form.person_id)
        before = person.status
        move_to(person, form.action.target)
        await save_change(
            session,
            actor,
            person,
            EventKind.SUSPENDED if form.action is SuspensionAction.SUSPEND else EventKind.RESUMED,
            application_id=application.id,
            before={"status": before},
            after={"status": person.status, "reason": form.reason},
        )
        return SuspensionResult(person_id=person.id, status=person.current_status)
