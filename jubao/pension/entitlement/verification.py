"""资格认证 (rulebook §5.9): every recipient shows, once a cycle, that they are alive and still
entitled — at the counter, by phone or app, at a self-service terminal, or silently, seen in
other data (a file of people seen alive, `jubao.pension.entitlement.sightings`).

A cycle (12 months by default, 6 in some places) runs from the month after the award or after
the last verification; verifying early just starts a new one. A recipient not verified within
it is paused (reason 1201) from the first month the payroll has not prepared: the county's run
pauses them before it reads its recipients (`pause_overdue`). A verification of someone paused
for it opens the resumption (待遇恢复) for review, which pays the months back where the policy
says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    CursorResult,
    Date,
    ForeignKey,
    Select,
    String,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, utcnow
from jubao.pension.benefits.award import Award
from jubao.pension.entitlement.holds import BenefitHold, open_holds
from jubao.pension.entitlement.reasons import HoldReason
from jubao.pension.month import Month
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonEvent,
    PersonStatus,
    record_event,
)
from jubao.pension.policy.params import PolicyBook
from jubao.pension.workflow import engine
from jubao.pension.workflow.applications import Application, Kind, Status
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.scope import RegionScoped, Scope, unscoped


class Method(StrEnum):
    """认证方式 (the Hunan codes, rulebook §5.9)."""

    COUNTER = "01"  # 经办机构
    PHONE = "02"  # 手机
    TERMINAL = "04"  # 自助终端
    OTHER = "05"  # 其他
    DATA = "data"  # 数据比对（静默认证）

    @property
    def text(self) -> Text:
        return Text(_METHOD_ZH[self], self.name.lower())


_METHOD_ZH = {
    Method.COUNTER: "经办机构",
    Method.PHONE: "手机",
    Method.TERMINAL: "自助终端",
    Method.OTHER: "其他",
    Method.DATA: "数据比对（静默认证）",
}


class Verification(Base, RegionScoped):
    """领取待遇资格认证记录: one verification of one recipient."""

    __tablename__ = "verification"
    __scope_object__ = "verification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    verified_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(String(200))  # a data file's name
    recorded_by: Mapped[int | None]
    recorded_by_name: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class VerificationError(ErrorCode):
    NOT_RECIPIENT = (
        "{name}当前为“{status}”，不在领取待遇，无需资格认证",
        "{name} is '{status}': only pension recipients are verified",
    )
    FUTURE = ("认证日期不能晚于今天", "The verification date cannot be after today")
    BEFORE_AWARD = (
        "认证日期早于待遇开始（{month}）",
        "The verification date is before the pension began ({month})",
    )


class ListKind(StrEnum):
    DUE = "due"  # 本月应认证: the cycle's last month
    OVERDUE = "overdue"  # 逾期未认证: the cycle has ended, not yet paused
    PAUSED = "paused"  # 已暂停（1201）

    @property
    def text(self) -> Text:
        return Text(_LIST_ZH[self], self.value)


_LIST_ZH = {
    ListKind.DUE: "本月应认证",
    ListKind.OVERDUE: "逾期未认证",
    ListKind.PAUSED: "未认证暂停",
}

# the system's own hand in the person's record
SYSTEM = Actor.system("系统（资格认证到期）")


@dataclass(frozen=True)
class Recorded:
    verification: Verification
    # the resumption a verification of someone paused for it opened (None: not paused)
    resumption: Application | None


async def record(
    session: AsyncSession,
    actor: Actor,
    person: Person,
    verified_on: date,
    method: Method,
    *,
    today: date,
    source: str | None = None,
) -> Recorded:
    """Record that ``person`` was verified on ``verified_on``: a new cycle from the month after;
    someone paused for a missed verification gets a resumption application (submitted by the
    recorder, reviewed by someone else)."""
    actor.require(Obj.VERIFICATION, Act.PROCESS, person.region, field="person")
    status = person.current_status
    if status not in (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED):
        raise DomainError(
            VerificationError.NOT_RECIPIENT, field="person", name=person.name, status=status.text
        )
    if verified_on > today:
        raise DomainError(VerificationError.FUTURE, field="verifiedOn")
    began_paid = await session.scalar(
        select(func.min(Award.start_month)).where(Award.person_id == person.id)
    )
    if began_paid is not None and Month.of(verified_on) < Month.of(began_paid).plus(-1):
        # (the month the claim was approved counts: the award is a verification of a kind)
        raise DomainError(
            VerificationError.BEFORE_AWARD, field="verifiedOn", month=str(Month.of(began_paid))
        )
    began = Month.of(person.cycle_start) if person.cycle_start else None
    verification = Verification(
        person_id=person.id,
        region_code=person.region_code,
        verified_on=verified_on,
        method=method.value,
        source=source,
        recorded_by=actor.operator_id,
        recorded_by_name=actor.label,
    )
    session.add(verification)
    starts = Month.of(verified_on).next()
    if began is None or starts > began:
        person.cycle_start = starts.first_day
    person.updated_at = utcnow()
    await session.flush()
    record_event(
        session,
        actor,
        person,
        EventKind.VERIFIED,
        before={},
        after={"reason": f"{method.text.zh} {verified_on.isoformat()}"},
    )
    resumption = None
    for hold in await open_holds(session, person.id):
        if hold.why is HoldReason.UNVERIFIED and hold.verification_id is None:
            hold.verification_id = verification.id
            await session.flush()
            resumption = await _open_resumption(session, actor, person, today)
    return Recorded(verification, resumption)


async def _open_resumption(
    session: AsyncSession, actor: Actor, person: Person, today: date
) -> Application | None:
    """The resumption of a person paused for a missed verification (one already open stands)."""
    waiting = await session.scalar(
        select(Application.id).where(
            Application.person_id == person.id,
            Application.kind == Kind.BENEFIT_RESUMPTION.value,
            Application.status == Status.IN_REVIEW.value,
        )
    )
    if waiting is not None:
        return None
    return await engine.submit(
        session,
        actor,
        Kind.BENEFIT_RESUMPTION,
        {"person_id": person.id, "cleared": True, "note": "资格认证后恢复待遇"},
        today=today,
    )


@dataclass(frozen=True)
class Zone:
    """Part of a region with one verification cycle (the policy may set it per place)."""

    clause: ColumnElement[bool]
    cycle: int


async def zones(session: AsyncSession, region: RegionCode, month: Month, column: Any) -> list[Zone]:
    """``region`` split by the verification cycle in force for ``month``: its own, and each
    place under it that sets another (deepest first, each without the places under it that
    set their own), as conditions on the region-code ``column``."""
    book = await PolicyBook(session).load()
    own = [p for p in book.prefixes_setting("entitlement") if p.startswith(region.prefix)]
    places = sorted({region.prefix, *own}, key=len, reverse=True)
    found: list[Zone] = []
    for prefix in places:
        place = RegionCode.from_prefix(prefix)
        cycle = book.resolve(place, month.year, month.month).entitlement.cycle_months
        inner = [p for p in places if len(p) > len(prefix) and p.startswith(prefix)]
        clause = Scope.of([prefix]).clause(column)
        if inner:
            clause = and_(clause, ~Scope.of(inner).clause(column))
        found.append(Zone(clause, cycle))
    return found


def _lapsed(people: Any, places: Sequence[Zone], month: Month) -> ColumnElement[bool]:
    """Recipients whose cycle ended before ``month`` (not verified in it); ``people`` has the
    person's columns (the mapped class, or its table's ``c``)."""
    return and_(
        people.status == PersonStatus.RECEIVING.value,
        or_(
            *(
                and_(zone.clause, people.cycle_start <= month.plus(-zone.cycle).first_day)
                for zone in places
            )
        ),
    )


def _due(places: Sequence[Zone], month: Month) -> ColumnElement[bool]:
    """Recipients whose cycle's last month is ``month``."""
    return and_(
        Person.status == PersonStatus.RECEIVING.value,
        or_(
            *(
                and_(zone.clause, Person.cycle_start == month.plus(1 - zone.cycle).first_day)
                for zone in places
            )
        ),
    )


def _paused() -> ColumnElement[bool]:
    """Recipients paused for a missed verification."""
    return and_(
        Person.status == PersonStatus.BENEFIT_SUSPENDED.value,
        exists().where(
            BenefitHold.person_id == Person.id,
            BenefitHold.until_month.is_(None),
            BenefitHold.reason == HoldReason.UNVERIFIED.value,
        ),
    )


async def pause_overdue(session: AsyncSession, region: RegionCode, month: Month) -> int:
    """Pause from ``month`` everyone under ``region`` whose cycle ended before it (reason
    1201), in three set statements whatever their number: the holds, the person's record, the
    state. Called by the county's payroll preparation under its lock; returns how many."""
    people, holds, events = unscoped(Person), unscoped(BenefitHold), unscoped(PersonEvent)
    stamp = utcnow()
    found = await session.execute(
        insert(holds).from_select(
            ["person_id", "region_code", "reason", "pays", "from_month", "opened_at", "note"],
            select(
                people.c.id,
                people.c.region_code,
                literal(HoldReason.UNVERIFIED.value),
                literal(False),
                literal(month.first_day, Date),
                literal(stamp, holds.c.opened_at.type),
                literal("1201 未按期资格认证"),
            ).where(
                _lapsed(people.c, await zones(session, region, month, people.c.region_code), month)
            ),
        )
    )
    count = cast("CursorResult[Any]", found).rowcount or 0
    if not count:
        return 0
    new = and_(
        holds.c.opened_at == stamp,
        holds.c.reason == HoldReason.UNVERIFIED.value,
        Scope.of([region.prefix]).clause(holds.c.region_code),
    )
    before = {"status": PersonStatus.RECEIVING.value}
    after = {"status": PersonStatus.BENEFIT_SUSPENDED.value, "reason": "1201 未按期资格认证"}
    await session.execute(
        insert(events).from_select(
            ["person_id", "region_code", "at", "kind", "actor", "before", "after"],
            select(
                holds.c.person_id,
                holds.c.region_code,
                literal(stamp, events.c.at.type),
                literal(EventKind.BENEFIT_HELD.value),
                literal(SYSTEM.label),
                literal(before, JSON),
                literal(after, JSON),
            ).where(new),
        )
    )
    await session.execute(
        update(people)
        .where(people.c.id.in_(select(holds.c.person_id).where(new)))
        .values(
            status=PersonStatus.BENEFIT_SUSPENDED.value,
            version=people.c.version + 1,
            updated_at=stamp,
        )
    )
    audit.record(
        session,
        SYSTEM,
        "verification.pause_overdue",
        f"region:{region.code}",
        region_code=region.code,
        month=str(month),
        paused=count,
    )
    return count


async def list_statement(
    session: AsyncSession, region: RegionCode, month: Month, kind: ListKind
) -> Select[Any]:
    """The recipients of ``region`` (within the caller's scope) on one of the village lists of
    ``month``: whose cycle ends in it, who are overdue, who are paused for it."""
    places = await zones(session, region, month, Person.region_code)
    condition = {
        ListKind.DUE: lambda: _due(places, month),
        ListKind.OVERDUE: lambda: _lapsed(Person, places, month),
        ListKind.PAUSED: _paused,
    }[kind]()
    return select(Person).where(Scope.of([region.prefix]).clause(Person.region_code), condition)


@dataclass(frozen=True)
class Tally:
    """How many recipients of one region are on each of a month's lists."""

    region_code: str
    due: int
    overdue: int
    paused: int


async def tally(session: AsyncSession, region: RegionCode, month: Month) -> list[Tally]:
    """The month's lists counted per child region of ``region`` (per village for a village),
    within the caller's scope: one grouped statement, whatever the number of recipients."""
    places = await zones(session, region, month, Person.region_code)
    child = Level(min(region.level + 1, Level.VILLAGE)).prefix_length
    code = func.substr(Person.region_code, 1, child)
    rows = await session.execute(
        select(
            code,
            func.count().filter(_due(places, month)),
            func.count().filter(_lapsed(Person, places, month)),
            func.count().filter(_paused()),
        )
        .where(
            Scope.of([region.prefix]).clause(Person.region_code),
            Person.status.in_((PersonStatus.RECEIVING.value, PersonStatus.BENEFIT_SUSPENDED.value)),
        )
        .group_by(code)
        .order_by(code)
    )
    return [
        Tally(prefix.ljust(12, "0"), int(d), int(o), int(p))
        for prefix, d, o, p in rows
        if d or o or p
    ]
