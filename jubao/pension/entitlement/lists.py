"""The verification lists as files for the villages (本月应认证、逾期未认证、未认证暂停人员名单)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import Lang
from jubao.orm import among, dialect_of
from jubao.pension.entitlement.verification import ListKind, Method, Verification, list_statement
from jubao.pension.exports import Cell, Format, render
from jubao.pension.month import Month
from jubao.pension.people.idnumber import Sex
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import PolicyBook
from jubao.tenants.codes import RegionCode

_HEADINGS = {
    Lang.ZH: (
        "序号",
        "村（社区）代码",
        "姓名",
        "性别",
        "公民身份号码",
        "认证期起始年月",
        "最迟认证年月",
        "最近认证日期",
        "认证方式",
        "居保状态",
        "本人签字（手印）",
    ),
    Lang.EN: (
        "No.",
        "Village code",
        "Name",
        "Sex",
        "ID number",
        "Cycle from",
        "Verify by",
        "Last verified on",
        "Method",
        "Status",
        "Signature (fingerprint)",
    ),
}


async def list_file(
    session: AsyncSession,
    actor: Actor,
    region: RegionCode,
    month: Month,
    kind: ListKind,
    fmt: Format,
    lang: Lang,
) -> bytes:
    """One of the month's verification lists of ``region``, by village and name, ID numbers
    shown by the personal-data rule."""
    statement = await list_statement(session, region, month, kind)
    people = list(
        await session.scalars(statement.order_by(Person.region_code, Person.name, Person.id))
    )
    last: dict[int, Verification] = {}
    for verification in await session.scalars(
        select(Verification)
        .where(among(Verification.person_id, [p.id for p in people], dialect_of(session)))
        .order_by(Verification.verified_on, Verification.id)
    ):
        last[verification.person_id] = verification
    book = PolicyBook(session)
    disclosure = Disclosure(actor)
    title = (
        f"城乡居民基本养老保险{kind.text.zh}人员名单（{month}）"
        if lang is Lang.ZH
        else f"Pension verification list: {kind.text.en} ({month})"
    )
    rows: list[list[Cell]] = [[title, region.code], [], list(_HEADINGS[lang])]
    for number, person in enumerate(people, start=1):
        cycle = (await book.for_month(person.region, month)).entitlement.cycle_months
        began = Month.of(person.cycle_start) if person.cycle_start else None
        seen = last.get(person.id)
        shown = disclosure.show(person.region, f"person:{person.id}", "id_number", person.id_number)
        rows.append(
            [
                number,
                person.region_code,
                person.name,
                Sex(person.sex).text(lang),
                str(shown),
                str(began or ""),
                str(began.plus(cycle - 1)) if began else "",
                seen.verified_on.isoformat() if seen else "",
                Method(seen.method).text(lang) if seen else "",
                person.current_status.text(lang),
                "",
            ]
        )
    await disclosure.record(session)
    return render(rows, fmt)
