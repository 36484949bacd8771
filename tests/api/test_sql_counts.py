"""N+1 is a bug: the number of SQL statements per request must not grow with the page size."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from jubao.authz.actor import Actor
from jubao.authz.operators import create_operator
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import PASSWORD, VILLAGE_A, Api, World
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import awarded

PAGE = """query ($first: Int!) {
  users(first: $first) { totalCount edges { node {
    username region { name parent { name } }
    grants { regionCode role { name } region { name } user { username } } } } } }"""


@contextmanager
def counting(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            statements.append(args[2])

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_statements_do_not_grow_with_the_page(
    api: Api, services: Services, world: World
) -> None:
    system = Actor.system("test")
    async with services.db.transaction(system) as session:
        for n in range(30):
            await create_operator(
                session,
                system,
                services.settings.passwords,
                username=f"extra.{n}",
                display_name="多",
                region=VILLAGE_A,
                password=PASSWORD,
            )
    token = await api.token("admin")
    await api.post("{ __typename }", token=token)  # authenticated once, then remembered
    counts = {}
    # Pages big enough that every loader level has work on both (a tiny page can be served
    # partly from the loaders' cache, which saves a statement).
    for first in (10, 40):
        with counting(services) as statements:
            result = await api.post(PAGE, {"first": first}, token=token)
        assert "errors" not in result
        assert len(result["data"]["users"]["edges"]) == first
        counts[first] = len(statements)
    assert counts[10] == counts[40], counts
    # the page, the count, then one batch per loader level (grants, regions, operators of the
    # grants, parent regions)
    assert counts[40] == 6, counts


async def test_sibling_root_fields_resolve_concurrently_without_sharing_a_session(api: Api) -> None:
    data = await api.as_(
        "admin",
        """{ me { user { username } } roles { name }
            a: regions(first: 5) { totalCount } b: regions(level: VILLAGE, first: 5) { totalCount }
            users(first: 5) { totalCount edges { node { region { name } } } }
            region(code: "410121000000") { name } }""",
    )
    assert data["me"]["user"]["username"] == "admin"
    assert data["b"]["totalCount"] == 24


RECIPIENTS = """query ($first: Int!) { persons(first: $first) { edges { node {
  verification { dueMonth last { method } } benefitHolds { reason }
  termination { payout } recoveryOrders { outstanding } deathReports { source } } } } }"""


async def test_a_page_of_recipients_costs_the_same_whatever_its_size(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    for n in range(12):
        await awarded(services, acting, 140 + n)
    token = await api.token("county.reviewer")
    await api.post("{ __typename }", token=token)
    counts = {}
    for first in (4, 12):
        with counting(services) as statements:
            result = await api.post(RECIPIENTS, {"first": first}, token=token)
        assert "errors" not in result, result
        edges = result["data"]["persons"]["edges"]
        assert len(edges) == first and all(e["node"]["verification"] for e in edges)
        counts[first] = len(statements)
    assert counts[4] == counts[12], counts
