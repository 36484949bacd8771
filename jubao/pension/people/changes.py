"""变更登记 (rulebook §5.2): changing a person's registered data, with before and after kept."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.pension.accounts.contributions import check_grade
from jubao.pension.people.enrollment import check_not_enrolled, check_special_group
from jubao.pension.people.idnumber import IdNumber
from jubao.pension.people.persons import (
    EventKind,
    Person,
    check_bank_account,
    check_ethnicity,
    check_phone,
    save_change,
    visible_person,
)
from jubao.pension.policy.params import Hukou, PolicyBook
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import Amount, Personal, PersonRef, api_name
from jubao.text import ADDRESS, PERSON_NAME, REASON


class ChangeError(ErrorCode):
    NOTHING = ("没有要变更的内容", "Nothing to change")


class PersonChanges(BaseModel):
    """The fields that may change; absent ones stay as they are (an empty phone, bank account
    or special group removes it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str | None, PERSON_NAME, Field(description="姓名")] = None
    id_number: Annotated[str | None, Personal("id_number"), Field(description="公民身份号码")] = (
        None
    )
    ethnicity: Annotated[str | None, Field(description="民族代码")] = None
    hukou: Annotated[Hukou | None, Field(description="户籍性质")] = None
    address: Annotated[str | None, ADDRESS, Field(description="户籍地址")] = None
    phone: Annotated[str | None, Personal("phone"), Field(description="联系电话")] = None
    special_group: Annotated[str | None, Field(description="参保身份代码")] = None
    bank_account: Annotated[
        str | None, Personal("bank_account"), Field(description="银行账号或社保卡号")
    ] = None
    grade: Annotated[Amount | None, Field(description="缴费档次")] = None


class ChangeForm(BaseModel):
    """变更登记 — change a person's registered data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    changes: Annotated[PersonChanges, Field(description="变更内容 — the fields to change")]
    reason: Annotated[str, REASON, Field(description="变更原因")]


class ChangeResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    fields: Annotated[list[str], Field(description="变更的字段 — the fields changed")]


def _field(name: str) -> str:
    return "changes." + api_name(name)


async def _new_values(
    session: AsyncSession, actor: Actor, person: Person, changes: PersonChanges, today: date
) -> dict[str, Any]:
    """The changed fields as they will be stored (validated, normalised); unchanged dropped."""
    policy = await PolicyBook(session).for_region(person.region, today.year)
    values: dict[str, Any] = {}
    given = changes.model_dump(exclude_none=True)
    if "name" in given:
        values["name"] = changes.name
    if "id_number" in given:
        identity = IdNumber.parse(given["id_number"], today=today, field=_field("id_number"))
        if identity.value != person.id_number:
            await check_not_enrolled(session, actor, identity.value, field=_field("id_number"))
        values.update(
            id_number=identity.value, sex=int(identity.sex), birth_date=identity.birth_date
        )
    if "ethnicity" in given:
        values["ethnicity"] = check_ethnicity(given["ethnicity"], field=_field("ethnicity"))
    if "hukou" in given:
        values["hukou"] = Hukou(given["hukou"]).value
    if "address" in given:
        values["address"] = changes.address
    if "phone" in given:
        values["phone"] = check_phone(changes.phone, field=_field("phone"))
    if "special_group" in given:
        values["special_group"] = check_special_group(
            policy, changes.special_group, field=_field("special_group")
        )
    if "bank_account" in given:
        values["bank_account"] = check_bank_account(
            changes.bank_account, field=_field("bank_account")
        )
    if "grade" in given:
        check_grade(policy, given["grade"], field=_field("grade"))
        values["grade"] = given["grade"]
    changed = {k: v for k, v in values.items() if getattr(person, k) != v}
    if not changed:
        raise DomainError(ChangeError.NOTHING, field="changes")
    return changed


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


class Change(PersonKind):
    form = ChangeForm
    result = ChangeResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: ChangeForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await _new_values(session, actor, person, form.changes, today)
        # Only the fields asked for are stored: the reviewer sees the request, not a form of
        # blanks.
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: ChangeForm,
        today: date,
    ) -> ChangeResult:
        person = await visible_person(session, form.person_id)
        changed = await _new_values(session, actor, person, form.changes, today)
        before = {k: getattr(person, k) for k in changed}
        for key, value in changed.items():
            setattr(person, key, value)
        await save_change(
            session,
            actor,
            person,
            EventKind.CHANGED,
            application_id=application.id,
            before=_jsonable(before),
            after=_jsonable(changed),
        )
        return ChangeResult(person_id=person.id, fields=[api_name(k) for k in sorted(changed)])
