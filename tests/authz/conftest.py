from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.policy import grants_of
from jubao.authz.principal import Principal
from jubao.platform.services import Services
from tests.helpers import World

ActorFor = Callable[[str], AbstractAsyncContextManager[tuple[Actor, AsyncSession]]]


@pytest.fixture
def acting(services: Services, world: World) -> ActorFor:
    """``async with acting("perm.county") as (actor, session)``: a unit of work done by one of
    the world's operators, with their compiled principal and scoped session."""

    @asynccontextmanager
    async def act(username: str) -> AsyncIterator[tuple[Actor, AsyncSession]]:
        user_id = world.ids[username]
        async with services.db.session(Actor.system("load principal")) as session:
            principal = Principal(user_id, await grants_of(session, user_id))
        actor = Actor.operator(user_id, username, principal)
        async with services.db.transaction(actor) as session:
            yield actor, session

    return act
