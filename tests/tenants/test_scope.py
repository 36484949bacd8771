import pytest
from sqlalchemy import select

from jubao.authz.actor import Actor
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import Region
from jubao.tenants.scope import Scope
from tests.helpers import World


def test_minimal_drops_covered_prefixes() -> None:
    scope = Scope.of(["4101", "410102", "410102001001", "4102001"])
    assert scope.prefixes == {"4101", "4102001"}


def test_covers_and_within() -> None:
    scope = Scope.of(["410121", "410221101"])
    assert scope.covers(RegionCode("410121101201"))
    assert scope.covers(RegionCode("410221101000"))
    assert not scope.covers(RegionCode("410221000000"))  # above a prefix is not inside it
    assert scope.within(RegionCode("410100000000")).prefixes == {"410121"}
    assert scope.within(RegionCode("410121101000")).prefixes == {"410121101"}
    assert not scope.within(RegionCode("410300000000"))


@pytest.mark.parametrize(
    ("prefixes", "expected"),
    [
        (["410121"], 9),  # the county, its 2 townships and their 3 + 3 villages
        (["410121101"], 4),
        (["410121101201"], 1),
        ([], 0),
        (["41"], 39),  # the whole demo province
        (["410121101", "410221"], 4 + 9),
    ],
)
async def test_clause_selects_exactly_the_subtree(
    services: Services, world: World, prefixes: list[str], expected: int
) -> None:
    scope = Scope.of(prefixes)
    async with services.db.session(Actor.system("test")) as session:
        everything = (await session.scalars(select(Region.code))).all()
        chosen = (await session.scalars(select(Region.code).where(scope.clause(Region.code)))).all()
    want = sorted(c for c in everything if any(c.startswith(p) for p in scope.prefixes))
    assert sorted(chosen) == want
    assert len(chosen) == expected
