"""Password checks with throttling of repeated attempts per username.

Attempts are counted *before* the password is checked, each in a short transaction that locks
the username's row, so parallel guesses cannot outrun the count: after ``max_failures``
attempts within the sliding window, further attempts are refused for the lockout period
without being checked. A success clears the count (unless a lock is already in force). The
password itself is checked outside any transaction: argon2 takes tens of milliseconds, and on
SQLite an open write transaction would hold every other writer back meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, String, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.audit import AuditActor
from jubao.authz.operators import (
    Operator,
    OperatorError,
    find_by_username,
    normalize_username,
    set_password,
)
from jubao.authz.passwords import PasswordError, Passwords
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, dialect_of, upsert, utcnow

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class LoginError(ErrorCode):
    INVALID_CREDENTIALS = ("用户名或密码错误", "Wrong username or password")
    LOCKED = (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed logins; try again in {minutes} minutes",
    )
    INACTIVE = ("该账号已停用", "This account is deactivated")


@dataclass(frozen=True)
class Throttle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


class LoginThrottle(Base):
    """Recent unsuccessful attempts per username (known or not, so that it reveals nothing)."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[list[str]] = mapped_column(JSON)  # ISO timestamps within the window
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)


def _minutes(until: datetime, now: datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


async def _admit(session: AsyncSession, throttle: Throttle, name: str, now: datetime) -> int:
    """Count one attempt for ``name``; 0 if it may go ahead, else minutes until it may."""
    stale = now - max(throttle.window, throttle.lockout)
    await session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.updated_at < stale,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )
    await session.execute(
        upsert(dialect_of(session), LoginThrottle)
        .values(username=name, attempts=[], locked_until=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["username"])
    )
    state = await session.get(LoginThrottle, name, with_for_update=True, populate_existing=True)
    assert state is not None
    if state.locked_until is not None and state.locked_until > now:
        return _minutes(state.locked_until, now)
    recent = [t for t in state.attempts if datetime.fromisoformat(t) > now - throttle.window]
    state.updated_at = now
    if len(recent) >= throttle.max_failures:
        state.attempts, state.locked_until = [], now + throttle.lockout
        return _minutes(state.locked_until, now)
    state.attempts = [*recent, now.isoformat()]
    return 0


async def _clear(session: AsyncSession, name: str, now: datetime) -> None:
    state = await session.get(LoginThrottle, name, with_for_update=True)
    if state is not None and (state.locked_until is None or state.locked_until <= now):
        await session.delete(state)


async def check_password(
    unit_of_work: UnitOfWork,
    passwords: Passwords,
    throttle: Throttle,
    username: str,
    password: str,
) -> Operator | None:
    """The operator if ``password`` is theirs, None if not; ``LoginError.LOCKED`` when the
    username has had too many attempts."""
    name = normalize_username(username)[:64]
    now = utcnow()
    async with unit_of_work() as session:
        wait = await _admit(session, throttle, name, now)
        operator = None if wait else await find_by_username(session, name)
    if wait:
        raise DomainError(LoginError.LOCKED, minutes=wait)
    if not await passwords.verify(operator.password_hash if operator else None, password):
        return None
    assert operator is not None
    new_hash = (
        await passwords.hash(password) if passwords.needs_rehash(operator.password_hash) else None
    )
    async with unit_of_work() as session:
        await _clear(session, name, now)
        if new_hash is not None:
            fresh = await session.get(Operator, operator.id)
            if fresh is not None:
                fresh.password_hash = new_hash
    return operator


async def authenticate(
    unit_of_work: UnitOfWork,
    passwords: Passwords,
    throttle: Throttle,
    username: str,
    password: str,
) -> Operator:
    """The operator logging in, or ``LoginError``."""
    operator = await check_password(unit_of_work, passwords, throttle, username, password)
    if operator is None:
        raise DomainError(LoginError.INVALID_CREDENTIALS)
    if not operator.active:
        raise DomainError(LoginError.INACTIVE)
    return operator


async def change_own_password(
    unit_of_work: UnitOfWork,
    passwords: Passwords,
    throttle: Throttle,
    actor: AuditActor,
    operator: Operator,
    *,
    current_password: str,
    new_password: str,
) -> Operator:
    """The operator changes their own password; guesses at the current one count as failed
    logins. Every existing session ends (the token version moves)."""
    passwords.check_rules(new_password, operator.username, field_name="newPassword")
    if new_password == current_password:
        # An initial password stays the administrator's unless it really changes.
        raise DomainError(PasswordError.UNCHANGED, field="newPassword")
    confirmed = await check_password(
        unit_of_work, passwords, throttle, operator.username, current_password
    )
    if confirmed is None or confirmed.id != operator.id:
        raise DomainError(OperatorError.WRONG_PASSWORD, field="currentPassword")
    new_hash = await passwords.hash(new_password)
    async with unit_of_work() as session:
        return await set_password(session, actor, operator.id, operator.token_version, new_hash)
