"""Lists from other authorities that name people by ID number with a date (seen alive, died):
read row by row, and matched against the people the importer may act on.

A row that cannot be read is reported by its line, never half taken; an ID number given twice
is reported (or, where the list's meaning allows, the later date kept). People the importer may
not act on are counted, never named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode, Lang, Text
from jubao.orm import among, dialect_of
from jubao.pension.people.idnumber import IdNumber
from jubao.pension.people.persons import Person, PersonStatus
from jubao.tabular import columns, read_table
from jubao.text import quoted


class DatedListError(ErrorCode):
    HEADER = (
        "表头必须包含“身份证号码”和“{date}”两列",
        "The header needs an ID-number column and a {date} column",
    )
    DATE = (
        "{date}“{value}”格式不正确（应为 YYYY-MM-DD，且不晚于今天）",
        "The {date} '{value}' is malformed or in the future (YYYY-MM-DD)",
    )
    DUPLICATE = ("身份证号码与第 {line} 行重复", "The ID number repeats line {line}")


@dataclass(frozen=True)
class DateColumn:
    """The list's date: what it means and the headings it goes by."""

    name: Text
    headings: tuple[str, ...]
    repeats: bool = False  # an ID number may come again: the latest date counts


@dataclass
class DatedList:
    dates: dict[str, date]  # by ID number
    rejected: list[tuple[int, DomainError]] = field(default_factory=list)

    def describe(self, lang: Lang) -> list[str]:
        return [f"{line}: {error.message(lang)}" for line, error in self.rejected]


_ID_HEADINGS = ("id_number", "身份证号码", "公民身份号码")


def read_dated_list(path: Path, column: DateColumn, today: date) -> DatedList:
    """Every readable row of ``path``: an ID number and a date not after ``today``."""
    found = DatedList({})
    lines: dict[str, int] = {}
    with read_table(path) as table:
        positions = columns(table.header, {"id_number": _ID_HEADINGS, "day": column.headings})
        if set(positions) != {"id_number", "day"}:
            raise DomainError(DatedListError.HEADER, date=column.name)
        for row in table.rows:
            cells = {k: row.cells[i] if i < len(row.cells) else "" for k, i in positions.items()}
            try:
                number = IdNumber.parse(cells["id_number"], today=today).value
                try:
                    day: date | None = date.fromisoformat(cells["day"].strip().replace("/", "-"))
                except ValueError:
                    day = None
                if day is None or day > today:
                    raise DomainError(
                        DatedListError.DATE, date=column.name, value=quoted(cells["day"])
                    )
                if number in found.dates and not column.repeats:
                    raise DomainError(DatedListError.DUPLICATE, line=lines[number])
            except DomainError as error:
                found.rejected.append((row.line, error))
                continue
            found.dates[number] = max(day, found.dates.get(number, day))
            lines[number] = row.line
    return found


async def people_named(
    session: AsyncSession,
    actor: Actor,
    numbers: list[str],
    obj: Obj,
    statuses: tuple[PersonStatus, ...],
) -> list[Person]:
    """The people with these ID numbers, in one of ``statuses``, whom ``actor`` may process
    ``obj`` for (others are not returned: the caller counts them)."""
    return [
        person
        for person in await session.scalars(
            select(Person).where(
                among(Person.id_number, numbers, dialect_of(session)),
                Person.status.in_([s.value for s in statuses]),
            )
        )
        if actor.can(obj, Act.PROCESS, person.region)
    ]
