import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from jubao.authz import throttle
from jubao.authz.actor import Actor
from jubao.authz.login import LoginError, authenticate, change_own_password
from jubao.authz.operators import Operator, OperatorError
from jubao.authz.passwords import Passwords
from jubao.authz.throttle import LoginThrottle, address_bucket
from jubao.errors import DomainError, Lang
from jubao.orm import utcnow
from jubao.platform.services import Services
from tests.conftest import make_settings
from tests.helpers import PASSWORD, World

SYSTEM = Actor.system("login")
HOME = "192.0.2.10"  # the address the tests' operators log in from


class Throttled:
    """A refused attempt, and how long it was told to wait."""

    def __init__(self, error: DomainError) -> None:
        self.error = error
        self.seconds: int = error.params["retry_after"]

    def __repr__(self) -> str:
        return f"Throttled({self.seconds})"


Outcome = Operator | LoginError | Throttled


async def attempt(services: Services, username: str, password: str, address: str = HOME) -> Outcome:
    settings = services.settings
    try:
        return await authenticate(
            lambda: services.db.transaction(SYSTEM),
            settings.passwords,
            settings.throttle,
            username,
            password,
            address=address,
        )
    except DomainError as error:
        refused = error
    if refused.code is LoginError.THROTTLED:
        return Throttled(refused)
    assert isinstance(refused.code, LoginError)
    return refused.code


async def wait(services: Services, seconds: float) -> None:
    """Let time pass for the throttle: move every recorded time back."""
    by = timedelta(seconds=seconds)
    async with services.db.transaction(SYSTEM) as session:
        for bucket in await session.scalars(select(LoginThrottle)):
            bucket.expires_at -= by
            if bucket.last_failure_at is not None:
                bucket.last_failure_at -= by
            if bucket.trusted_until is not None:
                bucket.trusted_until -= by


async def guess(services: Services, username: str, address: str) -> int:
    """One wrong guess that gets checked, after waiting out whatever it is told to wait;
    the seconds it waited."""
    waited = 0
    while isinstance(outcome := await attempt(services, username, "guess", address), Throttled):
        waited += outcome.seconds
        await wait(services, outcome.seconds)
    assert outcome is LoginError.INVALID_CREDENTIALS
    return waited


async def rows(services: Services) -> int:
    async with services.db.session(SYSTEM) as session:
        return await session.scalar(select(func.count()).select_from(LoginThrottle)) or 0


async def test_right_and_wrong_passwords(services: Services, world: World) -> None:
    operator = await attempt(services, "Village.Assistant ", PASSWORD)
    assert isinstance(operator, Operator)
    assert operator.id == world.ids["village.assistant"]
    assert await attempt(services, "village.assistant", "nope") is LoginError.INVALID_CREDENTIALS
    assert await attempt(services, "no.such.user", PASSWORD) is LoginError.INVALID_CREDENTIALS


async def test_waits_double_per_username_and_address_up_to_the_longest(
    services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three failures are free; then each attempt waits 1 s, 2 s, 4 s, … up to 15 minutes
    after the last failure, even with the right password (which is not checked meanwhile)."""
    # the throttle's clock stands still (`wait` moves the records instead): a loaded machine
    # taking a second between two attempts would shorten the wait it reports
    now = utcnow()
    monkeypatch.setattr(throttle, "utcnow", lambda: now)
    for _ in range(3):
        assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    waits = []
    for _ in range(12):
        refused = await attempt(services, "auditor", PASSWORD)
        assert isinstance(refused, Throttled)
        waits.append(refused.seconds)
        await wait(services, refused.seconds)
        assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    # from another address the owner waits a minute at most (the username-wide wait), and
    # another username from here goes ahead
    elsewhere = await attempt(services, "auditor", PASSWORD, "198.51.100.3")
    assert isinstance(elsewhere, Throttled) and elsewhere.seconds <= 60
    assert isinstance(await attempt(services, "finance", PASSWORD), Operator)
    # once the wait is over, the right password works (and clears the count)
    await wait(services, 900)
    assert isinstance(await attempt(services, "auditor", PASSWORD), Operator)
    assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS


async def test_failures_are_forgotten_an_hour_after_the_last(
    services: Services, world: World
) -> None:
    for _ in range(3):
        await attempt(services, "auditor", "guess")
    await wait(services, 59 * 60)
    await guess(services, "auditor", HOME)  # the fourth within the hour: the next waits 2 s
    assert (await attempt(services, "auditor", "guess")).seconds == 2  # type: ignore[union-attr]
    await wait(services, 60 * 60)
    for _ in range(3):
        assert await attempt(services, "auditor", "guess") is LoginError.INVALID_CREDENTIALS
    assert (await attempt(services, "auditor", "guess")).seconds == 1  # type: ignore[union-attr]


async def test_guessers_elsewhere_slow_the_owner_briefly_and_never_where_they_work(
    services: Services, world: World
) -> None:
    """Forty wrong guesses at `admin` from forty addresses: the username-wide wait grows to a
    minute at most. The owner at a new address waits that minute at worst; at an address they
    logged in from before, not at all."""
    assert isinstance(await attempt(services, "admin", PASSWORD, HOME), Operator)
    waited = [await guess(services, "admin", f"203.0.113.{n}") for n in range(40)]
    assert waited[:10] == [0] * 10  # ten failures from anywhere are free
    assert max(waited) == 60  # then one answer a minute at most, however many addresses
    away = await attempt(services, "admin", PASSWORD, "198.51.100.77")
    assert isinstance(away, Throttled) and away.seconds <= 60
    assert isinstance(await attempt(services, "admin", PASSWORD, HOME), Operator)
    await wait(services, 60)
    assert isinstance(await attempt(services, "admin", PASSWORD, "198.51.100.77"), Operator)


async def test_one_address_spraying_many_usernames_is_slowed(
    services: Services, world: World
) -> None:
    """Twenty failures from one address are free whatever the usernames, then it waits; a
    refused attempt stores nothing, so one address adds at most two rows per checked guess."""
    sprayer = "203.0.113.200"  # an office's address, shared with an operator who works there
    assert isinstance(await attempt(services, "finance", PASSWORD, sprayer), Operator)
    for n in range(20):
        assert await attempt(services, f"name.{n}", "guess", sprayer) is (
            LoginError.INVALID_CREDENTIALS
        )
    before = await rows(services)
    assert before == 2 + 41  # finance's (username, address) and username; 20 + 20 + 1
    for n in range(20, 40):
        refused = await attempt(services, f"name.{n}", "guess", sprayer)
        assert isinstance(refused, Throttled) and refused.seconds == 1
    assert await rows(services) == before
    # an operator who logged in from this address before is not slowed by it; others are
    assert isinstance(await attempt(services, "finance", PASSWORD, sprayer), Operator)
    assert isinstance(await attempt(services, "auditor", PASSWORD, sprayer), Throttled)


async def test_parallel_guesses_cannot_outrun_the_count(
    services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempts are counted before the password is checked: of twelve parallel guesses from
    one address, three are checked; of fifteen from fifteen addresses, ten."""
    checked = 0
    original = Passwords.verify

    async def counting(self: Passwords, stored: str | None, password: str) -> bool:
        nonlocal checked
        checked += 1
        return await original(self, stored, password)

    monkeypatch.setattr(Passwords, "verify", counting)
    results = await asyncio.gather(*(attempt(services, "auditor", f"guess{n}") for n in range(12)))
    assert checked == 3
    assert sum(isinstance(r, Throttled) for r in results) == 9
    assert isinstance(await attempt(services, "auditor", PASSWORD), Throttled)

    checked = 0
    results = await asyncio.gather(
        *(attempt(services, "finance", "guess", f"203.0.113.{n}") for n in range(15))
    )
    assert checked == 10
    assert sum(isinstance(r, Throttled) for r in results) == 5


async def test_unknown_usernames_are_throttled_alike(services: Services, world: World) -> None:
    outcomes = {}
    for name in ("auditor", "ghost"):
        for _ in range(4):
            await guess(services, name, HOME)
        refused = await attempt(services, name, "guess")
        assert isinstance(refused, Throttled)
        outcomes[name] = refused.seconds
    assert outcomes == {"auditor": 2, "ghost": 2}


async def test_expired_buckets_are_deleted(services: Services, world: World) -> None:
    for n in range(30):
        await attempt(services, f"ghost.{n}", "guess", f"203.0.113.{n}")
    assert await rows(services) == 90  # per (username, address), username and address
    await wait(services, 3600)
    await attempt(services, "someone", "guess")
    assert await rows(services) == 3  # the last attempt's buckets only


async def test_deactivated_operator_cannot_log_in(services: Services, world: World) -> None:
    async with services.db.transaction(SYSTEM) as session:
        await session.execute(
            update(Operator).where(Operator.username == "nobody").values(active=False)
        )
    assert await attempt(services, "nobody", PASSWORD) is LoginError.INACTIVE
    # ... and a wrong password still says only "wrong"
    assert await attempt(services, "nobody", "guess") is LoginError.INVALID_CREDENTIALS


async def test_the_message_says_how_long_to_wait(services: Services, world: World) -> None:
    for _ in range(3):
        await attempt(services, "auditor", "guess")
    refused = await attempt(services, "auditor", PASSWORD)
    assert isinstance(refused, Throttled)
    assert refused.error.message() == "尝试次数过多，请 1 秒后再试"
    assert refused.error.message(Lang.EN) == "Too many attempts; try again in 1 second"
    for _ in range(10):
        await guess(services, "auditor", HOME)
    refused = await attempt(services, "auditor", PASSWORD)
    assert isinstance(refused, Throttled) and refused.seconds == 900
    assert refused.error.message() == "尝试次数过多，请 15 分钟后再试"
    assert refused.error.message(Lang.EN) == "Too many attempts; try again in 15 minutes"


def test_ipv6_addresses_count_by_their_64_network() -> None:
    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:bbbb::2")
    assert address_bucket("2001:db8:1:2::1") != address_bucket("2001:db8:1:3::1")
    assert address_bucket("::ffff:192.0.2.1") == address_bucket("192.0.2.1") == "192.0.2.1"
    assert address_bucket("192.0.2.1") != address_bucket("192.0.2.2")


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
            address=HOME,
        )

    for _ in range(3):
        with pytest.raises(DomainError) as caught:
            await change("wrong", "new-secret-99")
        assert caught.value.code is OperatorError.WRONG_PASSWORD
    with pytest.raises(DomainError) as caught:  # guesses at the current password are throttled
        await change(PASSWORD, "new-secret-99")
    assert caught.value.code is LoginError.THROTTLED
    await wait(services, 1)
    changed = await change(PASSWORD, "new-secret-99")
    assert changed.token_version == 1
    assert await settings.passwords.verify(changed.password_hash, "new-secret-99")
    # the snapshot's sessions have ended, so it cannot change the password again
    with pytest.raises(DomainError) as caught:
        await change("new-secret-99", "another-secret-1")
    assert caught.value.code is OperatorError.SESSION_ENDED


def test_the_window_must_outlast_the_longest_wait() -> None:
    with pytest.raises(ValidationError, match="JUBAO_LOGIN_WINDOW_MINUTES must be longer"):
        make_settings("sqlite://", login_window_minutes=15, login_max_delay_minutes=15)
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        make_settings("sqlite://", login_free_failures=0)
