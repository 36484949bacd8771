from datetime import timedelta

import pytest
from sqlalchemy import update

from jubao.authz.actor import Actor
from jubao.authz.login import LoginError, LoginThrottle, authenticate
from jubao.authz.operators import Operator
from jubao.errors import DomainError
from jubao.orm import utcnow
from jubao.platform.services import Services
from tests.helpers import PASSWORD, World


async def attempt(services: Services, username: str, password: str) -> Operator | LoginError:
    settings = services.settings
    async with services.db.write_session(Actor.system("login")) as session:
        try:
            operator = await authenticate(
                session, settings.passwords, settings.throttle, username, password
            )
        except DomainError as error:
            code = error.code
        else:
            await session.commit()
            return operator
    assert isinstance(code, LoginError)
    return code


async def test_right_and_wrong_passwords(services: Services, world: World) -> None:
    operator = await attempt(services, "Village.Assistant ", PASSWORD)
    assert isinstance(operator, Operator)
    assert operator.id == world.ids["village.assistant"]
    assert await attempt(services, "village.assistant", "nope") is LoginError.INVALID_CREDENTIALS
    assert await attempt(services, "no.such.user", PASSWORD) is LoginError.INVALID_CREDENTIALS


async def test_five_failures_lock_the_username_even_for_the_right_password(
    services: Services, world: World
) -> None:
    for _ in range(5):
        assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    assert await attempt(services, "auditor", PASSWORD) is LoginError.LOCKED
    # other usernames are not affected
    assert isinstance(await attempt(services, "finance", PASSWORD), Operator)
    # the lock ends after the lockout period
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_failures_outside_the_window_do_not_add_up(services: Services, world: World) -> None:
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(LoginThrottle).values(window_start=utcnow() - timedelta(minutes=16))
        )
    assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_a_success_resets_the_count(services: Services, world: World) -> None:
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_unknown_usernames_are_throttled_alike(services: Services, world: World) -> None:
    for _ in range(5):
        await attempt(services, "ghost", "guess")
    assert await attempt(services, "ghost", "guess") is LoginError.LOCKED


async def test_deactivated_operator_cannot_log_in(services: Services, world: World) -> None:
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(Operator).where(Operator.username == "nobody").values(active=False)
        )
    assert await attempt(services, "nobody", PASSWORD) is LoginError.INACTIVE
    # ... and a wrong password still says only "wrong"
    assert await attempt(services, "nobody", "guess") is LoginError.INVALID_CREDENTIALS


async def test_the_message_says_how_long_to_wait(services: Services, world: World) -> None:
    for _ in range(5):
        await attempt(services, "auditor", "guess")
    settings = services.settings
    async with services.db.write_session(Actor.system("login")) as session:
        with pytest.raises(DomainError) as caught:
            await authenticate(session, settings.passwords, settings.throttle, "auditor", PASSWORD)
    assert caught.value.message() == "登录失败次数过多，请 15 分钟后再试"
