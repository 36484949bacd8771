import pytest
from sqlalchemy import String, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jubao.authz.operators import Operator
from jubao.authz.scoping import MissingActorError, ScopedClasses
from jubao.platform.services import Services
from jubao.tenants.models import Region
from jubao.tenants.scope import RegionScoped
from tests.authz.conftest import ActorFor
from tests.helpers import COUNTY_A, DISTRICT_A, VILLAGE_A, World


async def codes(session, statement) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted((await session.scalars(statement)).all())


async def test_a_village_assistant_sees_only_its_village(world: World, acting: ActorFor) -> None:
    async with acting("village.assistant") as (_, session):
        assert await codes(session, select(Region.code)) == [VILLAGE_A.code]
        assert await session.get(Region, DISTRICT_A.code) is None
        users = await codes(session, select(Operator.username))
    assert users == ["village.assistant"]


async def test_a_agency_reviewer_sees_its_county_and_nothing_beside_it(
    world: World, acting: ActorFor
) -> None:
    async with acting("county.reviewer") as (_, session):
        regions = await codes(session, select(Region.code))
        assert await session.get(Region, DISTRICT_A.code) is None
        beside = await session.scalar(select(Region).where(Region.code == "410102101201"))
    assert len(regions) == 9
    assert all(code.startswith(COUNTY_A.prefix) for code in regions)
    assert beside is None


async def test_scope_holds_in_joins_subqueries_and_aggregates(
    world: World, acting: ActorFor
) -> None:
    async with acting("county.reviewer") as (_, session):
        joined = (
            await session.execute(
                select(Operator.username, Region.name).join(
                    Region, Region.code == Operator.region_code
                )
            )
        ).all()
        counted = await session.scalar(select(func.count()).select_from(select(Region).subquery()))
        grouped = (
            await session.execute(select(Region.level, func.count()).group_by(Region.level))
        ).all()
        inner = select(Region.code).where(Region.level == 5).scalar_subquery()
        filtered = await codes(
            session, select(Operator.username).where(Operator.region_code.in_(inner))
        )
    assert {username for username, _ in joined} == {
        "perm.county",
        "county.processor",
        "county.reviewer",
        "township.processor",
        "township.reviewer",
        "village.assistant",
        "village.neighbour",
        "village.xiang",
        "finance",
        "nobody",
    }
    assert counted == 9
    assert dict(grouped) == {3: 1, 4: 2, 5: 6}
    assert filtered == ["village.assistant", "village.neighbour", "village.xiang"]


async def test_relationship_free_lookups_by_key_are_scoped(world: World, acting: ActorFor) -> None:
    async with acting("village.assistant") as (_, session):
        assert await session.get(Operator, world.ids["county.reviewer"]) is None
        assert await session.get(Operator, world.ids["village.assistant"]) is not None


async def test_a_session_without_an_actor_refuses_orm_queries(services: Services) -> None:
    async with services.db._sessions() as session:
        with pytest.raises(MissingActorError):
            await session.scalars(select(Region))


async def test_orm_bulk_updates_and_deletes_are_scoped(world: World, acting: ActorFor) -> None:
    async with acting("village.assistant") as (_, session):
        result = await session.execute(update(Operator).values(display_name="改名"))
    assert result.rowcount == 1  # only the one operator the assistant can see


def test_a_model_mapped_after_the_first_query_is_scoped_too() -> None:
    class Models(DeclarativeBase):
        pass

    scoped = ScopedClasses(Models.registry)
    assert scoped() == {}

    class LateNote(Models, RegionScoped):
        __tablename__ = "late_note"
        __scope_object__ = "region"
        id: Mapped[int] = mapped_column(primary_key=True)
        region_code: Mapped[str] = mapped_column(String(12))

    assert scoped() == {LateNote.__table__: LateNote}
    assert scoped.in_statement(select(func.count()).select_from(select(LateNote).subquery())) == (
        LateNote,
    )
