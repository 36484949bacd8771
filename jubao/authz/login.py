"""Password login with throttling of repeated failures per username."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.operators import Operator, find_by_username, normalize_username
from jubao.authz.passwords import Passwords
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, utcnow


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
    """Failed logins per username (known or not, so that it reveals nothing)."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]


async def authenticate(
    session: AsyncSession,
    passwords: Passwords,
    throttle: Throttle,
    username: str,
    password: str,
) -> Operator:
    """Return the operator whose password this is, or raise ``LoginError``.

    Login is its own unit of work: a failed attempt is committed before the error is raised,
    so that the count survives the refusal.
    """
    name = normalize_username(username)[:64]
    now = utcnow()
    state = await session.get(LoginThrottle, name, with_for_update=True)
    if state is not None and state.locked_until is not None and state.locked_until > now:
        minutes = max(1, -(-int((state.locked_until - now).total_seconds()) // 60))
        raise DomainError(LoginError.LOCKED, minutes=minutes)
    operator = await find_by_username(session, name)
    if not await passwords.verify(operator.password_hash if operator else None, password):
        try:
            await _record_failure(session, throttle, name, state, now)
            await session.commit()
        except IntegrityError:  # a concurrent first failure inserted the row; count on it
            await session.rollback()
            state = await session.get(LoginThrottle, name, with_for_update=True)
            await _record_failure(session, throttle, name, state, now)
            await session.commit()
        raise DomainError(LoginError.INVALID_CREDENTIALS)
    assert operator is not None
    if state is not None:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
    if not operator.active:
        await session.commit()
        raise DomainError(LoginError.INACTIVE)
    if passwords.needs_rehash(operator.password_hash):
        operator.password_hash = await passwords.hash(password)
    return operator


async def _record_failure(
    session: AsyncSession,
    throttle: Throttle,
    name: str,
    state: LoginThrottle | None,
    now: datetime,
) -> None:
    if state is None:
        state = LoginThrottle(username=name, failures=0, window_start=now)
        session.add(state)
    elif now - state.window_start > throttle.window:
        state.failures, state.window_start = 0, now
    state.failures += 1
    state.locked_until = None
    if state.failures >= throttle.max_failures:
        state.failures, state.window_start = 0, now
        state.locked_until = now + throttle.lockout
