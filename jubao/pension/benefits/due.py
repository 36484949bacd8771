"""领取待遇通知表 (规程 第二十六条): each month, the people of a region who reach the pension age
the month after, so that their villages can tell them and take their claims."""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import Lang
from jubao.orm import among, dialect_of
from jubao.pension.accounts.contributions import Contribution
from jubao.pension.benefits.rules import pension_date
from jubao.pension.exports import Cell, Format, render
from jubao.pension.month import Month
from jubao.pension.people.idnumber import Sex
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person, PersonStatus
from jubao.pension.policy.params import PolicyBook
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope


@dataclass(frozen=True)
class Due:
    person: Person
    reached_on: date  # the day they reach the pension age
    years_paid: int

    @property
    def first_month(self) -> Month:
        """The first month they can be paid for."""
        return Month.of(self.reached_on).next()


async def due_statement(session: AsyncSession, region: RegionCode, month: Month) -> Select[Any]:
    """Everyone registered under ``region`` (within the caller's scope) who reaches the
    pension age in ``month`` and has no pension yet."""
    statement, _ = await _due(session, region, month)
    return statement


async def _due(session: AsyncSession, region: RegionCode, month: Month) -> tuple[Select[Any], int]:
    policy = await PolicyBook(session).for_month(region, month)
    age = policy.enrollment.pension_age
    earliest, latest = born_between(month, age)
    statement = select(Person).where(
        Scope.of([region.prefix]).clause(Person.region_code),
        Person.birth_date.between(earliest, latest),
        Person.status.in_(
            (PersonStatus.CONTRIBUTING.value, PersonStatus.CONTRIBUTION_SUSPENDED.value)
        ),
    )
    return statement, age


def born_between(month: Month, age: int) -> tuple[date, date]:
    """The first and last birth dates of people who reach ``age`` in ``month`` (someone born on
    29 February reaches it on 1 March of a year without one, as `pension_date` says)."""
    earliest, latest = _born(month.first_day, age), _born(month.last_day, age)
    if month.month == 3 and not calendar.isleap(month.year) and calendar.isleap(earliest.year):
        earliest = date(earliest.year, 2, 29)
    return earliest, latest


async def due_in(session: AsyncSession, region: RegionCode, month: Month) -> list[Due]:
    """The notice list: who reaches the pension age in ``month``, by village and birth date."""
    statement, age = await _due(session, region, month)
    rows = await session.scalars(
        statement.order_by(Person.region_code, Person.birth_date, Person.id)
    )
    people = list(rows)
    years = await _years_paid(session, [p.id for p in people])
    return [Due(p, pension_date(p.birth_date, age), years[p.id]) for p in people]


def _born(day: date, age: int) -> date:
    try:
        return day.replace(year=day.year - age)
    except ValueError:  # 29 February in a year that has none
        return date(day.year - age, 2, 28)


async def _years_paid(session: AsyncSession, person_ids: Sequence[int]) -> Counter[int]:
    if not person_ids:
        return Counter()
    rows = await session.execute(
        select(Contribution.person_id, func.count())
        .where(among(Contribution.person_id, person_ids, dialect_of(session)))
        .group_by(Contribution.person_id)
    )
    return Counter({int(person_id): int(count) for person_id, count in rows})


_HEADINGS = {
    Lang.ZH: (
        "序号",
        "村（社区）代码",
        "姓名",
        "性别",
        "公民身份号码",
        "到龄日期（年月）",
        "待遇起始年月",
        "累计缴费年数",
        "居保状态",
        "本人签字（手印）",
    ),
    Lang.EN: (
        "No.",
        "Village code",
        "Name",
        "Sex",
        "ID number",
        "Reaches the age on",
        "First month paid",
        "Years paid",
        "Status",
        "Signature (fingerprint)",
    ),
}


async def due_file(
    session: AsyncSession, actor: Actor, region: RegionCode, month: Month, fmt: Format, lang: Lang
) -> bytes:
    """The notice list as a file to print, ID numbers shown by the personal-data rule."""
    disclosure = Disclosure(actor)
    title = (
        f"城乡居民基本养老保险待遇领取通知表（{month} 到龄）"
        if lang is Lang.ZH
        else f"Pension claim notice list (reaching the age in {month})"
    )
    rows: list[list[Cell]] = [[title, region.code], [], list(_HEADINGS[lang])]
    for number, due in enumerate(await due_in(session, region, month), start=1):
        person = due.person
        subject = f"person:{person.id}"
        shown = disclosure.show(person.region, subject, "id_number", person.id_number)
        # the day is the birthday, which the masked ID number hides: the month without the right
        reached = disclosure.show_date(person.region, subject, due.reached_on)
        rows.append(
            [
                number,
                person.region_code,
                person.name,
                Sex(person.sex).text(lang),
                str(shown),
                reached or str(Month.of(due.reached_on)),
                str(due.first_month),
                due.years_paid,
                person.current_status.text(lang),
                "",
            ]
        )
    await disclosure.record(session)
    return render(rows, fmt)
