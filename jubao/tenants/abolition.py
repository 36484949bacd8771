"""Abolishing a region (撤销, as when townships merge): the code and everything below it get
``valid_to`` and are never deleted, so the records that name them keep their meaning. An
abolished code takes no new people, grants or imports; browsing shows when it ended."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.errors import DomainError, ErrorCode
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import Region
from jubao.tenants.scope import Scope, unscoped
from jubao.text import REASON


class AbolitionError(ErrorCode):
    UNKNOWN = ("区划 {region} 不存在", "Region {region} does not exist")
    ALREADY = ("区划 {region} 已于 {on} 撤销", "Region {region} was abolished on {on}")
    BEFORE_START = (
        "撤销日期 {on} 早于 {region} 的设立日期 {start}",
        "{on} is before {region} came into being ({start})",
    )
    IN_USE = (
        "{region} 及其下级仍有 {count} 名参保人，不能撤销",
        "{count} insured people are still registered in {region} or below it",
    )


async def abolish_subtree(
    session: AsyncSession, actor: audit.AuditActor, region: RegionCode, *, on: date, reason: str
) -> int:
    """Set ``valid_to`` on ``region`` and every code below it that is still current; returns
    how many codes ended. The caller checks that nothing still lives there."""
    reason = REASON.clean(reason)
    # Region codes are public: read unscoped, as every region check is.
    table = unscoped(Region)
    found = (
        await session.execute(
            select(table.c.valid_from, table.c.valid_to).where(table.c.code == region.code)
        )
    ).first()
    if found is None:
        raise DomainError(AbolitionError.UNKNOWN, field="region", region=region.code)
    if found.valid_to is not None:
        raise DomainError(
            AbolitionError.ALREADY, field="region", region=region.code, on=found.valid_to
        )
    if on < found.valid_from:
        raise DomainError(
            AbolitionError.BEFORE_START,
            region=region.code,
            on=on,
            start=found.valid_from,
        )
    ended = await session.execute(
        update(table)
        .where(Scope.of([region.prefix]).clause(table.c.code), table.c.valid_to.is_(None))
        .values(valid_to=on)
    )
    assert isinstance(ended, CursorResult)  # an UPDATE's result counts its rows
    audit.record(
        session,
        actor,
        "region.abolish",
        f"region:{region.code}",
        region_code=region.code,
        reason=reason,
        on=on.isoformat(),
        codes=ended.rowcount,
    )
    return int(ended.rowcount)
