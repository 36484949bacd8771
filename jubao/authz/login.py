"""Password checks, throttled per username and client address (``jubao.authz.throttle``).

The attempt is counted before the password is checked, in a short transaction; the password
itself is checked outside any transaction: argon2 takes tens of milliseconds, and on SQLite an
open write transaction would hold every other writer back meanwhile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from jubao.audit import AuditActor
from jubao.authz.operators import (
    Operator,
    OperatorError,
    find_by_username,
    normalize_username,
    set_password,
)
from jubao.authz.passwords import PasswordError, Passwords
from jubao.authz.throttle import NO_WAIT, Buckets, Throttle, admit, prune, succeeded
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import utcnow

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class LoginError(ErrorCode):
    INVALID_CREDENTIALS = ("用户名或密码错误", "Wrong username or password")
    THROTTLED = (
        "尝试次数过多，请 {wait}后再试",
        "Too many attempts; try again in {wait}",
    )
    INACTIVE = ("该账号已停用", "This account is deactivated")


def throttled(wait: timedelta) -> DomainError:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        text = Text(f"{seconds} 秒", f"{seconds} second" + ("s" if seconds > 1 else ""))
    else:
        minutes = math.ceil(seconds / 60)
        text = Text(f"{minutes} 分钟", f"{minutes} minutes")
    return DomainError(LoginError.THROTTLED, retry_after=seconds, wait=text)


async def check_password(
    unit_of_work: UnitOfWork,
    passwords: Passwords,
    throttle: Throttle,
    username: str,
    password: str,
    *,
    address: str,
) -> Operator | None:
    """The operator if ``password`` is theirs, None if not; ``LoginError.THROTTLED`` while
    attempts for the username from ``address`` (the client's) must wait."""
    name = normalize_username(username)
    buckets = Buckets.of(name, address)
    async with unit_of_work() as session:
        await prune(session, utcnow())
    async with unit_of_work() as session:
        wait = await admit(session, throttle, buckets)
        operator = None if wait > NO_WAIT else await find_by_username(session, name)
    if wait > NO_WAIT:
        raise throttled(wait)
    if not await passwords.verify(operator.password_hash if operator else None, password):
        return None
    assert operator is not None
    new_hash = (
        await passwords.hash(password) if passwords.needs_rehash(operator.password_hash) else None
    )
    async with unit_of_work() as session:
        await succeeded(session, throttle, buckets)
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
    *,
    address: str,
) -> Operator:
    """The operator logging in from ``address``, or ``LoginError``."""
    operator = await check_password(
        unit_of_work, passwords, throttle, username, password, address=address
    )
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
    address: str,
) -> Operator:
    """The operator changes their own password from ``address``; guesses at the current one
    count as failed logins. Every existing session ends (the token version moves)."""
    passwords.check_rules(new_password, operator.username, field_name="newPassword")
    if new_password == current_password:
        # An initial password stays the administrator's unless it really changes.
        raise DomainError(PasswordError.UNCHANGED, field="newPassword")
    confirmed = await check_password(
        unit_of_work, passwords, throttle, operator.username, current_password, address=address
    )
    if confirmed is None or confirmed.id != operator.id:
        raise DomainError(OperatorError.WRONG_PASSWORD, field="currentPassword")
    new_hash = await passwords.hash(new_password)
    async with unit_of_work() as session:
        return await set_password(session, actor, operator.id, operator.token_version, new_hash)
