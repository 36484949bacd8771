"""变更登记 (rulebook §5.2): changing a person's registered data, with before and after kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.pension.applications import Application
from jubao.pension.contributions import check_grade
from jubao.pension.enrollment import check_not_enrolled, check_special_group
from jubao.pension.idnumber import IdNumber
from jubao.pension.people import (
    Person,
    check_address,
    check_bank_account,
    check_ethnicity,
    check_name,
    check_phone,
    save_change,
    visible_person,
)
from jubao.pension.policy import Hukou, PolicyBook
from jubao.pension.workflow import PersonKind, Placement, parse_payload


class ChangeError(ErrorCode):
    NOTHING = ("没有要变更的内容", "Nothing to change")


class Changes(BaseModel):
    """The fields that may change; absent ones stay as they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    id_number: str | None = None
    ethnicity: str | None = None
    hukou: Hukou | None = None
    address: str | None = None
    phone: str | None = None
    special_group: str | None = None
    bank_account: str | None = None
    grade: int | None = Field(None, gt=0)


class ChangePayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: int
    changes: Changes
    reason: str = Field(min_length=1, max_length=500)


async def _new_values(
    session: AsyncSession, person: Person, changes: Changes, today: date
) -> dict[str, Any]:
    """The changed fields as they will be stored (validated, normalised); unchanged dropped."""
    policy = await PolicyBook(session).for_region(person.region, today.year)
    values: dict[str, Any] = {}
    given = changes.model_dump(exclude_none=True)
    if "name" in given:
        values["name"] = check_name(changes.name or "")
    if "id_number" in given:
        identity = IdNumber.parse(changes.id_number or "", today=today)
        if identity.value != person.id_number:
            await check_not_enrolled(session, identity.value)
        values.update(
            id_number=identity.value, sex=int(identity.sex), birth_date=identity.birth_date
        )
    if "ethnicity" in given:
        values["ethnicity"] = check_ethnicity(changes.ethnicity or "")
    if "hukou" in given:
        values["hukou"] = Hukou(given["hukou"]).value
    if "address" in given:
        values["address"] = check_address(changes.address or "")
    if "phone" in given:
        values["phone"] = check_phone(changes.phone)
    if "special_group" in given:
        values["special_group"] = check_special_group(policy, changes.special_group)
    if "bank_account" in given:
        values["bank_account"] = check_bank_account(changes.bank_account)
    if "grade" in given:
        check_grade(policy, given["grade"])
        values["grade"] = given["grade"]
    changed = {k: v for k, v in values.items() if getattr(person, k) != v}
    if not changed:
        raise DomainError(ChangeError.NOTHING, field="changes")
    return changed


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


class Change(PersonKind):
    payload_model = ChangePayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request = parse_payload(ChangePayload, payload)
        person = await visible_person(session, request.person_id)
        await _new_values(session, person, request.changes, today)
        # Only the fields asked for: the reviewer sees the request, not a form of blanks.
        return Placement(
            person.region,
            request.model_dump(mode="json", exclude_none=True),
            person.id,
            subject=f"person:{person.id}",
        )

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request = parse_payload(ChangePayload, application.payload)
        person = await visible_person(session, request.person_id)
        changed = await _new_values(session, person, request.changes, today)
        before = {k: getattr(person, k) for k in changed}
        for key, value in changed.items():
            setattr(person, key, value)
        await save_change(
            session,
            actor,
            person,
            "changed",
            application_id=application.id,
            before=_jsonable(before),
            after=_jsonable(changed),
        )
        return {"person_id": person.id, "fields": sorted(changed)}
