"""暂停缴费 and 恢复缴费 (rulebook §3): a contributor's payments paused (服刑, 中断, …) and taken
up again, each a reviewed move of the person state machine. Retirement and termination move it
too, with the money that goes with them, in their own kinds."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.pension.applications import Application
from jubao.pension.people import (
    PersonStatus,
    check_move,
    move_to,
    save_change,
    visible_person,
)
from jubao.pension.workflow import PersonKind, Placement, parse_payload


class SuspensionAction(StrEnum):
    SUSPEND = "suspend"  # 暂停缴费
    RESUME = "resume"  # 恢复缴费

    @property
    def target(self) -> PersonStatus:
        if self is SuspensionAction.SUSPEND:
            return PersonStatus.CONTRIBUTION_SUSPENDED
        return PersonStatus.CONTRIBUTING


class SuspensionPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: int
    action: SuspensionAction
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Suspension(PersonKind):
    payload_model = SuspensionPayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request = parse_payload(SuspensionPayload, payload)
        person = await visible_person(session, request.person_id)
        check_move(person, request.action.target)
        return Placement(
            person.region, request.model_dump(mode="json"), person.id, subject=f"person:{person.id}"
        )

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request = parse_payload(SuspensionPayload, application.payload)
        person = await visible_person(session, request.person_id)
        before = person.status
        move_to(person, request.action.target)
        await save_change(
            session,
            actor,
            person,
            "suspended" if request.action is SuspensionAction.SUSPEND else "resumed",
            application_id=application.id,
            before={"status": before},
            after={"status": person.status, "reason": request.reason},
        )
        return {"person_id": person.id, "status": person.status}
