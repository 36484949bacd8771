"""Shared test data: a small demo province with one or more operators per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator
from jubao.platform.services import Services
from jubao.platform.worker import work
from jubao.tenants.codes import RegionCode
from jubao.tenants.demo import demo_regions
from jubao.tenants.importer import import_regions

# Tests run on a fixed business date, so that their years do not drift with the calendar.
TODAY = date(2026, 11, 23)


@dataclass
class Clock:
    """A business date the test sets (the scenario moves it through the years)."""

    day: date = TODAY

    def today(self) -> date:
        return self.day


async def finish_jobs(services: Services) -> None:
    """Do the background jobs queued so far, as a deployment would: with SQLite the process
    itself, on PostgreSQL a worker (until the queue is empty)."""
    if services.db.is_sqlite:
        await services.jobs.drain()
    else:
        await work(services.db, drain=True, heartbeat=timedelta(seconds=5))


PASSWORD = "correct-horse-42"

# The default demo tree (2 cities x 2 counties x 2 townships x 3 villages):
PROVINCE = RegionCode("410000000000")
CITY_A = RegionCode("410100000000")
CITY_B = RegionCode("410200000000")
DISTRICT_A = RegionCode("410102000000")  # 东城区, beside COUNTY_A in CITY_A
COUNTY_A = RegionCode("410121000000")  # 乐平县
COUNTY_B = RegionCode("410221000000")  # in CITY_B
TOWN_A = RegionCode("410121101000")  # a 镇 in COUNTY_A
XIANG_A = RegionCode("410121201000")  # a 乡 in COUNTY_A
VILLAGE_A = RegionCode("410121101201")  # a 村 in TOWN_A
VILLAGE_A2 = RegionCode("410121101202")  # its neighbour in TOWN_A
VILLAGE_X = RegionCode("410121201201")  # a 村 in XIANG_A
VILLAGE_B = RegionCode("410221101201")  # a 村 in COUNTY_B

# username: (role or None, home region); the grant (if any) is at the home region.
OPERATORS: dict[str, tuple[str | None, RegionCode]] = {
    "admin": ("province_admin", PROVINCE),
    "perm.province": ("permission_admin", PROVINCE),
    "perm.county": ("permission_admin", COUNTY_A),
    "city.supervisor": ("city_supervisor", CITY_A),
    "county.processor": ("agency_processor", COUNTY_A),
    "county.reviewer": ("agency_reviewer", COUNTY_A),
    "district.reviewer": ("agency_reviewer", DISTRICT_A),
    "countyb.reviewer": ("agency_reviewer", COUNTY_B),
    "township.processor": ("township_processor", TOWN_A),
    "township.reviewer": ("township_reviewer", TOWN_A),
    "village.assistant": ("village_assistant", VILLAGE_A),
    "village.neighbour": ("village_assistant", VILLAGE_A2),
    "village.xiang": ("village_assistant", VILLAGE_X),
    "finance": ("finance_officer", COUNTY_A),
    "auditor": ("auditor", CITY_A),
    "nobody": (None, COUNTY_A),
}


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)
    grant_ids: dict[str, int] = field(default_factory=dict)


async def build_world(services: Services) -> World:
    actor = Actor.system("test world")
    world = World()
    async with services.db.transaction(actor) as session:
        records = (
            (line, [r.code, r.name, r.urban_rural_class or ""])
            for line, r in enumerate(demo_regions(), start=2)
        )
        # the codes long predate the tests' business dates
        report = await import_regions(session, actor, records, valid_from=date(2000, 1, 1))
        assert not report.rejected
        for username, (role, region) in OPERATORS.items():
            operator = await create_operator(
                session,
                actor,
                services.settings.passwords,
                username=username,
                display_name=f"测试 {username}",
                region=region,
                password=PASSWORD,
                password_expired=False,
            )
            world.ids[username] = operator.id
            if role is not None:
                grant = await grant_role(
                    session,
                    actor,
                    user_id=operator.id,
                    role_name=role,
                    region=region,
                    reason="测试",
                )
                world.grant_ids[username] = grant.id
    return world


class Api:
    """A GraphQL client over HTTP (in-process ASGI transport)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        lang: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        return await self.post(
            """mutation ($u: String!, $p: String!) {
                 login(input: {username: $u, password: $p}) {
                   tokens { accessToken refreshToken accessTokenExpiresAt }
                   user { id username }
                   userErrors { field message code }
                 }
               }""",
            {"u": username, "p": password},
        )

    async def token(self, username: str) -> str:
        if username not in self._tokens:
            result = await self.login(username)
            payload = result["data"]["login"]
            assert not payload["userErrors"], payload
            self._tokens[username] = payload["tokens"]["accessToken"]
        return self._tokens[username]

    async def as_(
        self, username: str, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """Run ``query`` as ``username``; returns ``data`` and fails on any top-level error."""
        result = await self.post(query, variables, token=await self.token(username), **kw)
        assert "errors" not in result, result
        return result["data"]


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]
