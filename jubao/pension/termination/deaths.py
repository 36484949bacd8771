"""死亡信息: deaths as they are learnt — reported by a village or township (with the
termination), or found in a public-security household-cancellation file (公安户籍注销) or a
civil-affairs cremation file (民政火化).

A file is checked row by row: a row that cannot be read is reported by line, and with
``all_or_nothing`` one such row stops the whole file. Each person in the importer's region gets
one report per source (importing a file again changes nothing); a recipient found in it is
疑似死亡 at once — paused from the first month the payroll has not prepared — until the
termination (注销) confirms the death by review, or a resumption finds them alive. ID numbers of
people elsewhere are counted, never named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Date, ForeignKey, Select, String, UniqueConstraint, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Obj
from jubao.errors import DomainError, ErrorCode, Lang, Text
from jubao.orm import Base, BigId, among, dialect_of, hold_lock, insert_many, utcnow
from jubao.pension.benefits.payroll import county_of, first_open_month, payroll_lock
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.reasons import HoldReason
from jubao.pension.month import Month
from jubao.pension.people.dated_lists import DateColumn, people_named, read_dated_list
from jubao.pension.people.persons import EventKind, Person, PersonEvent, PersonStatus
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import RegionScoped, Scope, unscoped

CHUNK = 2000


class DeathSource(StrEnum):
    REPORT = "report"  # 村（社区）、乡镇报告
    POLICE = "police"  # 公安户籍注销
    CIVIL = "civil"  # 民政火化

    @property
    def text(self) -> Text:
        return Text(
            {"report": "村镇报告", "police": "公安户籍注销", "civil": "民政火化"}[self.value],
            self.value,
        )


class DeathReport(Base, RegionScoped):
    """One source's word that a person died, on a day."""

    __tablename__ = "death_report"
    __scope_object__ = "termination"
    __table_args__ = (UniqueConstraint("person_id", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str] = mapped_column(String(10))
    died_on: Mapped[date] = mapped_column(Date)
    file: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeathFileError(ErrorCode):
    REJECTED = (
        "文件有 {count} 行无法读取，按“全部或全不”未导入任何一行",
        "{count} rows cannot be read: nothing imported (all or nothing)",
    )


DIED = DateColumn(
    Text("死亡日期", "date of death"), ("died_on", "死亡日期", "注销日期", "火化日期")
)


@dataclass
class DeathFileReport:
    reported: int = 0  # new reports
    paused: int = 0  # recipients paused as 疑似死亡
    already: int = 0  # reported by this source before
    not_ours: int = 0  # not enrolled in the importer's region (or already terminated)
    rejected: list[tuple[int, DomainError]] = field(default_factory=list)

    def describe(self, lang: Lang) -> list[str]:
        return [f"{line}: {error.message(lang)}" for line, error in self.rejected]


async def import_deaths(
    session: AsyncSession,
    actor: Actor,
    path: Path,
    source: DeathSource,
    *,
    today: date,
    all_or_nothing: bool = False,
) -> DeathFileReport:
    """Record the deaths ``path`` lists (see the module's docstring)."""
    listed = read_dated_list(path, DIED, today)
    report = DeathFileReport(rejected=listed.rejected)
    deaths = listed.dates
    if all_or_nothing and report.rejected:
        raise DomainError(DeathFileError.REJECTED, count=len(report.rejected))
    numbers = sorted(deaths)
    for start in range(0, len(numbers), CHUNK):
        chunk = {n: deaths[n] for n in numbers[start : start + CHUNK]}
        await _chunk(session, actor, chunk, source, path.name[:200], today, report)
    audit.record(
        session,
        actor,
        "death.import",
        f"death:{source.value}",
        file=path.name[:200],
        reported=report.reported,
        paused=report.paused,
        already=report.already,
        not_ours=report.not_ours,
        rejected=len(report.rejected),
    )
    return report


async def _chunk(
    session: AsyncSession,
    actor: Actor,
    deaths: dict[str, date],
    source: DeathSource,
    file: str,
    today: date,
    report: DeathFileReport,
) -> None:
    dialect = dialect_of(session)
    people = await people_named(
        session,
        actor,
        list(deaths),
        Obj.TERMINATION,
        tuple(s for s in PersonStatus if s is not PersonStatus.TERMINATED),
    )
    report.not_ours += len(deaths) - len(people)
    reports = unscoped(DeathReport)
    known = set(
        await session.scalars(
            select(reports.c.person_id).where(
                among(reports.c.person_id, [p.id for p in people], dialect),
                reports.c.source == source.value,
            )
        )
    )
    new = [p for p in people if p.id not in known]
    report.already += len(people) - len(new)
    now = utcnow()
    await insert_many(
        session,
        reports,
        ("person_id", "region_code", "source", "died_on", "file", "recorded_by", "recorded_at"),
        [
            (p.id, p.region_code, source.value, deaths[p.id_number], file, actor.label, now)
            for p in new
        ],
    )
    report.reported += len(new)
    receiving = [p for p in new if p.current_status is PersonStatus.RECEIVING]
    for county in {county_of(p.region) for p in receiving}:
        # a run of the county being prepared decides the first month held: wait for it
        await hold_lock(session, payroll_lock(county))
    starts = {
        county: await first_open_month(session, county, Month.of(today))
        for county in {county_of(p.region) for p in receiving}
    }
    await insert_many(
        session,
        unscoped(BenefitHold),
        (
            "person_id",
            "region_code",
            "reason",
            "pays",
            "began_on",
            "from_month",
            "opened_at",
            "note",
        ),
        [
            (
                p.id,
                p.region_code,
                HoldReason.SUSPECTED_DEATH.value,
                False,
                deaths[p.id_number],
                starts[county_of(p.region)].first_day,
                now,
                f"{source.text.zh}：{deaths[p.id_number].isoformat()} 死亡"[:200],
            )
            for p in receiving
        ],
    )
    await insert_many(
        session,
        unscoped(PersonEvent),
        ("person_id", "region_code", "at", "kind", "actor_id", "actor", "before", "after"),
        [
            (
                p.id,
                p.region_code,
                now,
                EventKind.BENEFIT_HELD.value,
                actor.operator_id,
                actor.label,
                {"status": PersonStatus.RECEIVING.value},
                {
                    "status": PersonStatus.BENEFIT_SUSPENDED.value,
                    "reason": f"疑似死亡（{source.text.zh}）",
                },
            )
            for p in receiving
        ],
    )
    if receiving:
        people_table = unscoped(Person)
        await session.execute(
            update(people_table)
            .where(among(people_table.c.id, [p.id for p in receiving], dialect))
            .values(
                status=PersonStatus.BENEFIT_SUSPENDED.value,
                version=people_table.c.version + 1,
                updated_at=now,
            )
        )
    report.paused += len(receiving)


def suspected_statement(region: RegionCode) -> Select[Any]:
    """疑似死亡人员: the people of ``region`` (in the caller's scope) some source reported dead
    whose insurance has not ended — for the village to confirm (a termination) or refute (a
    resumption)."""
    return select(Person).where(
        Scope.of([region.prefix]).clause(Person.region_code),
        Person.status != PersonStatus.TERMINATED.value,
        exists().where(DeathReport.person_id == Person.id),
    )
