"""Callers are authenticated once and remembered for a moment (``AuthCache``): a change made in
this process takes effect at once, one made elsewhere once the memory expires."""

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from jubao.authz.actor import Actor
from jubao.authz.grants import revoke_grant
from jubao.platform.app import create_app
from jubao.platform.authn import AuthCache
from jubao.platform.services import Services
from tests.api.test_sql_counts import counting
from tests.helpers import Api, World

PERMISSIONS = "{ me { permissions { object } } }"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def remembering(
    services: Services, world: World, clock: FakeClock
) -> AsyncIterator[tuple[Api, Services]]:
    """The API with a one-second memory on a clock the test moves."""
    services = dataclasses.replace(services, auth_cache=AuthCache(1.0, clock=clock))
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        yield Api(client), services


async def test_a_caller_is_read_once_then_remembered(
    remembering: tuple[Api, Services], clock: FakeClock
) -> None:
    api, services = remembering
    token = await api.token("county.processor")
    with counting(services) as first:
        await api.post("{ __typename }", token=token)
    with counting(services) as second:
        await api.post("{ __typename }", token=token)
    clock.now += 1.5
    with counting(services) as later:
        await api.post("{ __typename }", token=token)
    assert (len(first), len(second), len(later)) == (2, 0, 2)  # the operator row, the grants


async def test_a_change_committed_in_this_process_takes_effect_at_once(
    remembering: tuple[Api, Services], world: World
) -> None:
    api, services = remembering
    assert (await api.as_("county.processor", PERMISSIONS))["me"]["permissions"]
    async with services.db.transaction(Actor.system("test")) as session:
        await revoke_grant(
            session, Actor.system("test"), grant_id=world.grant_ids["county.processor"], reason="测"
        )
    assert (await api.as_("county.processor", PERMISSIONS))["me"]["permissions"] == []


async def test_a_change_made_elsewhere_takes_effect_when_the_memory_expires(
    remembering: tuple[Api, Services], world: World, clock: FakeClock
) -> None:
    api, services = remembering
    token = await api.token("village.assistant")
    assert "errors" not in await api.post(PERMISSIONS, token=token)
    # Another process deactivates the operator: nothing here hears of it.
    async with services.db.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE operator SET active = false, token_version = token_version + 1 WHERE id = :id"
            ),
            {"id": world.ids["village.assistant"]},
        )
    assert "errors" not in await api.post(PERMISSIONS, token=token)
    clock.now += 1.01
    refused = await api.post(PERMISSIONS, token=token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_memory_is_bounded_and_forgets_on_request(clock: FakeClock) -> None:
    cache = AuthCache(1.0, max_entries=2, clock=clock)
    entries = [_authenticated(n) for n in (1, 2, 3)]
    for auth in entries:
        cache.put(auth, cache.generation)
    assert cache.get(_claims(1)) is None  # the oldest made room
    assert cache.get(_claims(2)) is entries[1]
    assert cache.get(_claims(3, version=2)) is None  # a newer token: read the operator again
    cache.put(entries[1], cache.generation)
    cache.forget([2])
    assert cache.get(_claims(2)) is None


def test_rights_read_before_a_change_are_not_remembered_after_it(clock: FakeClock) -> None:
    cache = AuthCache(1.0, clock=clock)
    read_at = cache.generation  # a request starts reading operator 1's grants…
    cache.forget([1])  # …a revoke of them commits meanwhile…
    cache.put(_authenticated(1), read_at)  # …and what the request read is out of date
    assert cache.get(_claims(1)) is None
    cache.put(_authenticated(1), cache.generation)  # read afresh: remembered
    assert cache.get(_claims(1)) is not None


def test_a_zero_memory_remembers_nothing(clock: FakeClock) -> None:
    cache = AuthCache(0, clock=clock)
    cache.put(_authenticated(1), cache.generation)
    assert cache.get(_claims(1)) is None


def _claims(operator_id: int, version: int = 1):  # type: ignore[no-untyped-def]
    from jubao.platform.tokens import AccessClaims

    return AccessClaims(operator_id=operator_id, token_version=version, family="f" * 32)


def _authenticated(operator_id: int):  # type: ignore[no-untyped-def]
    from jubao.authz.operators import Operator
    from jubao.authz.principal import Principal
    from jubao.platform.authn import Authenticated

    operator = Operator(id=operator_id, username=f"u{operator_id}", token_version=1)
    return Authenticated(
        operator, Actor.operator(operator_id, operator.username, Principal(operator_id, []))
    )


async def test_a_revoked_token_family_is_refused_from_memory_and_elsewhere_within_a_second(
    remembering: tuple[Api, Services], world: World, clock: FakeClock
) -> None:
    """Families revoked recently are read with the operator row (no query of their own), so a
    remembered caller's revoked family is refused without reading anything, and one revoked by
    another process is refused once the memory expires."""
    api, services = remembering
    first, second = (await api.login("auditor"), await api.login("auditor"))
    token_a = first["data"]["login"]["tokens"]["accessToken"]
    token_b = second["data"]["login"]["tokens"]["accessToken"]
    family_a = services.tokens.decode_access(token_a).family
    assert "errors" not in await api.post(PERMISSIONS, token=token_a)
    # Another process finds family A's refresh token replayed and revokes the family.
    async with services.db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO revoked_token_family (family, operator_id, revoked_at) "
                "VALUES (:family, :operator, CURRENT_TIMESTAMP)"
            ),
            {"family": family_a, "operator": world.ids["auditor"]},
        )
    assert "errors" not in await api.post(PERMISSIONS, token=token_a)  # still remembered
    clock.now += 1.01
    with counting(services) as read:
        assert "errors" not in await api.post(PERMISSIONS, token=token_b)
    with counting(services) as remembered:
        refused = await api.post(PERMISSIONS, token=token_a)
    assert refused["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "REVOKED"}
    assert (len(read), len(remembered)) == (2, 0)
