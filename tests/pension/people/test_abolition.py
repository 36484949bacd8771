"""Abolishing a region (撤销): closed, never deleted, and only once nobody insured lives there."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from jubao.audit import AuditEvent
from jubao.errors import DomainError
from jubao.pension.people.enrollment import village
from jubao.pension.people.persons import Person, PersonStatus, abolish_region
from jubao.platform.services import Services
from jubao.tenants.abolition import AbolitionError
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import Region
from tests.helpers import TODAY, VILLAGE_X, XIANG_A, World
from tests.pension.support import SYSTEM, enrol


async def abolish(services: Services, region, on: date = TODAY) -> int:  # type: ignore[no-untyped-def]
    async with services.db.transaction(SYSTEM) as session:
        return await abolish_region(session, SYSTEM, region, on=on, reason="撤乡并镇")


async def refused(services: Services, region, on: date = TODAY) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        await abolish(services, region, on)
    return caught.value


async def ended(services: Services) -> dict[str, date | None]:
    async with services.db.session(SYSTEM) as session:
        rows = await session.execute(
            select(Region.code, Region.valid_to).where(Region.code.startswith(XIANG_A.prefix))
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def test_a_township_is_closed_with_its_villages_once_its_people_moved(
    services: Services, world: World
) -> None:
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=2, region=VILLAGE_X, enrolled_on=date(2020, 1, 1)
    )
    in_use = await refused(services, XIANG_A)
    assert in_use.code is AbolitionError.IN_USE and in_use.params["count"] == 1
    assert "仍有 1 名参保人" in in_use.message()
    assert set((await ended(services)).values()) == {None}  # nothing changed

    async with services.db.transaction(SYSTEM) as session:  # moved out (a later issue's work)
        await session.execute(
            update(Person)
            .where(Person.id == person.id)
            .values(status=PersonStatus.TERMINATED.value)
        )
    count = await abolish(services, XIANG_A)
    closed = await ended(services)
    assert count == len(closed) >= 2 and set(closed.values()) == {TODAY}

    async with services.db.session(SYSTEM) as session:
        with pytest.raises(DomainError):  # no one enrols in a village that ended
            await village(session, VILLAGE_X.code)
        audited = await session.scalar(
            select(func.count()).where(AuditEvent.action == "region.abolish")
        )
    assert audited == 1
    again = await refused(services, VILLAGE_X)
    assert again.code is AbolitionError.ALREADY


async def test_unknown_regions_and_impossible_dates(services: Services, world: World) -> None:
    unknown = await refused(services, RegionCode("410121299000"))
    assert unknown.code is AbolitionError.UNKNOWN
    early = await refused(services, XIANG_A, on=date(1999, 12, 31))
    assert early.code is AbolitionError.BEFORE_START
