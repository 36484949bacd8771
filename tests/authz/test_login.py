import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jubao.authz.actor import Actor
from jubao.authz.login import LoginError, LoginThrottle, authenticate, change_own_password
from jubao.authz.operators import Operator, OperatorError
from jubao.authz.passwords import Passwords
from jubao.errors import DomainError
from jubao.orm import utcnow
from jubao.platform.services import Services
from tests.helpers import PASSWORD, World

SYSTEM = Actor.system("login")


async def attempt(services: Services, username: str, password: str) -> Operator | LoginError:
    settings = services.settings
    try:
        return await authenticate(
            lambda: services.db.transaction(SYSTEM),
            settings.passwords,
            settings.throttle,
            username,
            password,
        )
    except DomainError as error:
        code = error.code
    assert isinstance(code, LoginError)
    return code


async def age_attempts(services: Services, by: timedelta) -> None:
    """Move every recorded attempt (and lock) back in time."""
    async with services.db.transaction(SYSTEM) as session:
        for state in await session.scalars(select(LoginThrottle)):
            state.attempts = [(utcnow() - by).isoformat() for _ in state.attempts]
            if state.locked_until is not None:
                state.locked_until = utcnow() - timedelta(seconds=1)


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
    await age_attempts(services, timedelta(minutes=16))
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_the_window_slides(services: Services, world: World) -> None:
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    await age_attempts(services, timedelta(minutes=16))  # those four fall out of the window
    for _ in range(4):
        assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_a_success_resets_the_count(services: Services, world: World) -> None:
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)
    for _ in range(4):
        await attempt(services, "auditor", "guess")
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)


async def test_parallel_guesses_cannot_outrun_the_count(
    services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempts are counted before the password is checked: of a burst of twelve parallel
    guesses, at most five are ever checked, and the account ends up locked."""
    checked = 0
    original = Passwords.verify

    async def counting(self: Passwords, stored: str | None, password: str) -> bool:
        nonlocal checked
        checked += 1
        return await original(self, stored, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    results = await asyncio.gather(*(attempt(services, "auditor", f"guess{n}") for n in range(12)))
    assert checked == 5
    assert results.count(LoginError.LOCKED) == 7
    assert await attempt(services, "auditor", PASSWORD) is LoginError.LOCKED


async def test_unknown_usernames_are_throttled_alike(services: Services, world: World) -> None:
    for _ in range(5):
        await attempt(services, "ghost", "guess")
    assert await attempt(services, "ghost", "guess") is LoginError.LOCKED


async def test_stale_throttle_rows_are_cleared(services: Services, world: World) -> None:
    for name in ("ghost.1", "ghost.2"):
        await attempt(services, name, "guess")
    async with services.db.transaction(SYSTEM) as session:
        await session.execute(
            update(LoginThrottle).values(updated_at=utcnow() - timedelta(hours=1))
        )
    await attempt(services, "someone", "guess")
    async with services.db.session(SYSTEM) as session:
        left = sorted(s.username for s in await session.scalars(select(LoginThrottle)))
    assert left == ["someone"]


async def test_deactivated_operator_cannot_log_in(services: Services, world: World) -> None:
    async with services.db.transaction(SYSTEM) as session:
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
    with pytest.raises(DomainError) as caught:
        await authenticate(
            lambda: services.db.transaction(SYSTEM),
            settings.passwords,
            settings.throttle,
            "auditor",
            PASSWORD,
        )
    assert caught.value.message() == "登录失败次数过多，请 15 分钟后再试"


async def test_change_own_password(services: Services, world: World) -> None:
    settings = services.settings
    async with services.db.session(SYSTEM) as session:
        operator = await session.get(Operator, world.ids["nobody"])
    assert operator is not None

    async def change(current: str, new: str) -> Operator:
        return await change_own_password(
            lambda: services.db.transaction(SYSTEM),
            settings.passwords,
            settings.throttle,
            SYSTEM,
            operator,
            current_password=current,
            new_password=new,
        )

    with pytest.raises(DomainError) as caught:
        await change("wrong", "new-secret-99")
    assert caught.value.code is OperatorError.WRONG_PASSWORD
    changed = await change(PASSWORD, "new-secret-99")
    assert changed.token_version == 1
    assert await settings.passwords.verify(changed.password_hash, "new-secret-99")
    # the snapshot's sessions have ended, so it cannot change the password again
    with pytest.raises(DomainError) as caught:
        await change("new-secret-99", "another-secret-1")
    assert caught.value.code is OperatorError.SESSION_ENDED
