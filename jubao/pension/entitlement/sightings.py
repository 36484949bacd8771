"""静默认证: recipients seen alive in other data (medical treatment, bank activity, a
government counter) verified without coming in.

A file lists ID numbers and the day each person was seen. Each recipient in the importer's
region gets a verification of method "data" dated that day — unless they were verified that
day or later already, so that importing a file again changes nothing. Someone paused for a
missed verification gets the resumption for review, as at the counter. Rows that cannot be read
are reported by line; ID numbers of people who are not recipients in the importer's region are
counted, never named (the importer may not know who they are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Obj
from jubao.errors import DomainError, Lang, Text
from jubao.orm import among, dialect_of, insert_many, utcnow
from jubao.pension.entitlement import verification
from jubao.pension.entitlement.verification import Method, Verification
from jubao.pension.month import Month
from jubao.pension.people.dated_lists import DateColumn, people_named, read_dated_list
from jubao.pension.people.persons import EventKind, PersonEvent, PersonStatus
from jubao.tenants.scope import unscoped

CHUNK = 2000


SEEN = DateColumn(
    Text("认证日期", "date seen"), ("seen_on", "认证日期", "业务发生日期", "日期"), repeats=True
)


@dataclass
class SightingReport:
    verified: int = 0
    already: int = 0  # verified that day or later already
    not_ours: int = 0  # not a recipient in the importer's region
    resumptions: int = 0  # paused for a missed verification: resumption opened
    rejected: list[tuple[int, DomainError]] = field(default_factory=list)

    def describe(self, lang: Lang) -> list[str]:
        return [f"{line}: {error.message(lang)}" for line, error in self.rejected]


async def import_sightings(
    session: AsyncSession, actor: Actor, path: Path, *, today: date
) -> SightingReport:
    """Verify the recipients ``path`` saw alive (see the module's docstring)."""
    listed = read_dated_list(path, SEEN, today)
    report = SightingReport(rejected=listed.rejected)
    latest = listed.dates
    numbers = sorted(latest)
    for start in range(0, len(numbers), CHUNK):
        chunk = {n: latest[n] for n in numbers[start : start + CHUNK]}
        await _verify_chunk(session, actor, chunk, path.name, today, report)
    audit.record(
        session,
        actor,
        "verification.import",
        "verification",
        file=path.name[:200],
        verified=report.verified,
        already=report.already,
        not_ours=report.not_ours,
        resumptions=report.resumptions,
        rejected=len(report.rejected),
    )
    return report


async def _verify_chunk(
    session: AsyncSession,
    actor: Actor,
    seen: dict[str, date],
    source: str,
    today: date,
    report: SightingReport,
) -> None:
    dialect = dialect_of(session)
    people = await people_named(
        session,
        actor,
        list(seen),
        Obj.VERIFICATION,
        (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED),
    )
    report.not_ours += len(seen) - len(people)
    verified = dict(
        (
            await session.execute(
                select(Verification.person_id, func.max(Verification.verified_on))
                .where(among(Verification.person_id, [p.id for p in people], dialect))
                .group_by(Verification.person_id)
            )
        ).all()
    )
    fresh = [p for p in people if verified.get(p.id) is None or verified[p.id] < seen[p.id_number]]
    report.already += len(people) - len(fresh)
    # someone paused for it: one at a time, as at the counter (their resumption is opened)
    for person in (p for p in fresh if p.current_status is PersonStatus.BENEFIT_SUSPENDED):
        done = await verification.record(
            session, actor, person, seen[person.id_number], Method.DATA, today=today, source=source
        )
        report.resumptions += done.resumption is not None
    receiving = [p for p in fresh if p.current_status is PersonStatus.RECEIVING]
    now = utcnow()
    await insert_many(
        session,
        unscoped(Verification),
        (
            "person_id",
            "region_code",
            "verified_on",
            "method",
            "source",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
        ),
        [
            (
                p.id,
                p.region_code,
                seen[p.id_number],
                Method.DATA.value,
                source[:200],
                actor.operator_id,
                actor.label,
                now,
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
                EventKind.VERIFIED.value,
                actor.operator_id,
                actor.label,
                {},
                {"reason": f"{Method.DATA.text.zh} {seen[p.id_number].isoformat()}"},
            )
            for p in receiving
        ],
    )
    for person in receiving:
        starts = Month.of(seen[person.id_number]).next().first_day
        if person.cycle_start is None or starts > person.cycle_start:
            person.cycle_start = starts
        person.updated_at = now
    await session.flush()
    report.verified += len(fresh)
