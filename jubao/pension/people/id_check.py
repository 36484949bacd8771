"""Stored ID numbers that are not in the one canonical form.

Numbers have been canonical on the way in since the normaliser (`canonical_id_number`); rows
stored before it may hold full-width or other Unicode digits, and such a row may be a second
record of a citizen whose canonical number is stored too. This finds them for the staff to
merge or correct (a merge moves money and is a business decision, so nothing is changed here).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.errors import DomainError, ErrorCode, Lang
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.idnumber import canonical_id_number, is_canonical
from jubao.pension.people.persons import Person
from jubao.tenants.scope import unscoped

# What a canonical number looks like (every way in has verified the check character too).
_CANONICAL = "^[0-9]{17}[0-9X]$"


class IdCheckError(ErrorCode):
    PERSON = (
        "参保人 {person}（{region}）的身份证号码不是标准形式{canonical}",
        "Person {person} ({region}) has an ID number not in canonical form{canonical}",
    )
    EMPLOYEE = (
        "职工参保名单中有身份证号码不是标准形式的记录{canonical}",
        "The employees'-scheme list holds an ID number not in canonical form{canonical}",
    )
    FOUND = (
        "{count} 个身份证号码不是标准形式",
        "{count} ID numbers are not in canonical form",
    )


@dataclass(frozen=True)
class IdFinding:
    table: str  # "person" or "employee_insured"
    person_id: int | None
    region_code: str | None
    canonical: str | None  # what the number becomes, if it can be read at all
    duplicate_of: int | None  # the person already holding that canonical number

    def describe(self, lang: Lang) -> str:
        if self.canonical is None:
            tail = "，且无法识别" if lang is Lang.ZH else ", and cannot be read"
        elif self.duplicate_of is not None:
            tail = (
                f"，与参保人 {self.duplicate_of} 为同一号码"
                if lang is Lang.ZH
                else f", and is the same number as person {self.duplicate_of}"
            )
        else:
            tail = ""
        if self.table == "person":
            return IdCheckError.PERSON.message(
                lang, person=self.person_id, region=self.region_code, canonical=tail
            )
        return IdCheckError.EMPLOYEE.message(lang, canonical=tail)


def _canonical_or_none(value: str) -> str | None:
    try:
        canonical = canonical_id_number(value)
    except DomainError:
        return None
    return canonical if is_canonical(canonical) else None


async def non_canonical_id_numbers(session: AsyncSession) -> list[IdFinding]:
    """Every stored number (people, the employees'-scheme list) not in canonical form, with
    the person who already holds its canonical form, if any. The database matches the pattern
    (one scan per table); only the rows it finds come to Python."""
    people, employees = unscoped(Person), EmployeeInsured.__table__
    findings: list[IdFinding] = []
    odd_people = await session.execute(
        select(people.c.id, people.c.id_number, people.c.region_code).where(
            ~people.c.id_number.regexp_match(_CANONICAL)
        )
    )
    rows = odd_people.all()
    canonical = {row.id: _canonical_or_none(row.id_number) for row in rows}
    wanted = sorted({c for c in canonical.values() if c is not None})
    holders: dict[str, int] = {}
    if wanted:
        found = await session.execute(
            select(people.c.id_number, people.c.id).where(people.c.id_number.in_(wanted))
        )
        holders = {row.id_number: row.id for row in found}
    for row in rows:
        number = canonical[row.id]
        findings.append(
            IdFinding(
                "person",
                row.id,
                row.region_code,
                number,
                holders.get(number) if number is not None else None,
            )
        )
    odd_employees = await session.scalars(
        select(employees.c.id_number).where(~employees.c.id_number.regexp_match(_CANONICAL))
    )
    findings += [
        IdFinding("employee_insured", None, None, _canonical_or_none(value), None)
        for value in odd_employees
    ]
    return findings
