"""Operators (操作员): the people who log in, and the rules for creating and retiring them."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import ForeignKey, String, false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.audit import AuditActor
from jubao.authz.actor import Actor
from jubao.authz.administration import check_administers
from jubao.authz.passwords import Passwords
from jubao.authz.policy import grants_of
from jubao.authz.roles import CATALOGUE
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, utcnow
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import RegionScoped, unscoped
from jubao.text import DISPLAY_NAME, REASON

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


class OperatorError(ErrorCode):
    USERNAME_INVALID = (
        "用户名须为 3–64 位小写字母、数字、点、下划线或连字符，且以字母或数字开头",
        "A username is 3–64 lowercase letters, digits, dots, underscores or hyphens, "
        "starting with a letter or digit",
    )
    USERNAME_TAKEN = ("用户名“{username}”已被使用", "The username '{username}' is taken")
    NOT_FOUND = ("找不到该操作员", "No such operator")
    ALREADY_INACTIVE = ("该操作员已停用", "This operator is already deactivated")
    SELF_DEACTIVATE = ("不能停用自己的账号", "You cannot deactivate your own account")
    OUTRANKS = (
        "该操作员持有您无权撤销的授权，不能由您停用",
        "The operator holds grants you could not revoke, so you cannot deactivate them",
    )
    WRONG_PASSWORD = ("原密码不正确", "The current password is wrong")
    SESSION_ENDED = (
        "会话已结束（账号已停用或密码已更改），请重新登录",
        "The session has ended (deactivated or password changed); log in again",
    )


class Operator(Base, RegionScoped):
    """An operator account, homed in one region. Rights come only from grants."""

    __tablename__ = "operator"
    __scope_object__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(12), ForeignKey("region.code"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every token; raising it ends every session of this operator at once.
    token_version: Mapped[int] = mapped_column(default=0)
    # Set by someone else (an administrator creating the account): until the operator sets
    # their own, they may do nothing but that. Nobody then works under a password another
    # person knows; an administrator who took the account over first would lock its owner
    # out, which shows, and the audit trail names who changed the password when.
    password_expired: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]

    @property
    def region(self) -> RegionCode:
        return RegionCode(self.region_code)


def normalize_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username).strip().lower()


def valid_username(username: str) -> bool:
    """Whether ``username`` (normalised) could name an operator at all."""
    return bool(_USERNAME.fullmatch(username))


def check_reason(reason: str | None) -> str:
    return REASON.clean(reason)


async def username_taken(session: AsyncSession, username: str) -> bool:
    # Usernames are unique across the province, so this look-up is deliberately unscoped
    # (a Core query on the table, which the ORM scope hook does not touch).
    table = unscoped(Operator)
    found = await session.execute(select(table.c.id).where(table.c.username == username))
    return found.first() is not None


async def find_by_username(session: AsyncSession, username: str) -> Operator | None:
    name = normalize_username(username)
    if not valid_username(name):
        return None  # nobody has it (and it need not reach the database: NUL, lone surrogates)
    return await session.scalar(select(Operator).where(Operator.username == name))


async def create_operator(
    session: AsyncSession,
    actor: Actor,
    passwords: Passwords,
    *,
    username: str,
    display_name: str,
    region: RegionCode,
    password: str,
    password_expired: bool = True,
) -> Operator:
    """A new operator. The initial password is the administrator's, so it must be changed at
    the first login unless ``password_expired`` is False (the operator chose it themselves, as
    the first administrator does at the command line, or it is a demonstration account)."""
    actor.require(Obj.USER, Act.ADMIN, region, field="region")
    username = normalize_username(username)
    if not valid_username(username):
        raise DomainError(OperatorError.USERNAME_INVALID, field="username")
    display_name = DISPLAY_NAME.clean(display_name)
    passwords.check_rules(password, username)
    # Hashing takes tens of milliseconds: do it before the first statement opens the
    # transaction (on SQLite that takes the database's write lock).
    password_hash = await passwords.hash(password)
    await check_in_use(session, region)
    if await username_taken(session, username):
        raise DomainError(OperatorError.USERNAME_TAKEN, field="username", username=username)
    operator = Operator(
        username=username,
        display_name=display_name,
        region_code=region.code,
        password_hash=password_hash,
        password_expired=password_expired,
    )
    session.add(operator)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request took the name between check and insert
        raise DomainError(
            OperatorError.USERNAME_TAKEN, field="username", username=username
        ) from None
    audit.record(
        session,
        actor,
        "user.create",
        f"user:{operator.id}",
        region_code=region.code,
        username=username,
        display_name=display_name,
    )
    return operator


async def visible_operator(session: AsyncSession, operator_id: int) -> Operator:
    """The operator if the session's actor may read it; "not found" otherwise."""
    operator = await session.get(Operator, operator_id)
    if operator is None:
        raise DomainError(OperatorError.NOT_FOUND, field="id")
    return operator


RIGHTS_CHANGED = "operators whose rights changed"


def rights_changed(session: AsyncSession, operator_id: int) -> None:
    """Note that this transaction changes what the operator may do (grants, deactivation, a
    new password): once it commits, whoever remembers their rights must read them again."""
    session.info.setdefault(RIGHTS_CHANGED, set()).add(operator_id)


async def lock_operator(session: AsyncSession, operator_id: int) -> None:
    """Serialise changes to one operator's rights: a row lock on PostgreSQL, the write lock on
    SQLite. Checks that read the operator's grants must run after this."""
    rights_changed(session, operator_id)
    await session.execute(
        update(unscoped(Operator))
        .where(unscoped(Operator).c.id == operator_id)
        .values(updated_at=func.now())
    )


async def deactivate_operator(
    session: AsyncSession, actor: Actor, operator_id: int, reason: str | None
) -> Operator:
    reason = check_reason(reason)
    operator = await visible_operator(session, operator_id)
    actor.require(Obj.USER, Act.ADMIN, operator.region, field="id")
    if operator.id == actor.operator_id:
        raise DomainError(OperatorError.SELF_DEACTIVATE, field="id")
    if not operator.active:
        raise DomainError(OperatorError.ALREADY_INACTIVE, field="id")
    # Retiring someone takes away all they hold: only for those who could revoke all of it.
    for grant in await grants_of(session, operator.id):
        try:
            check_administers(
                actor, CATALOGUE.get(grant.role), RegionCode.from_prefix(grant.prefix), operator.id
            )
        except DomainError:
            raise DomainError(OperatorError.OUTRANKS, field="id") from None
    now = utcnow()
    rights_changed(session, operator.id)
    operator.active = False
    operator.deactivated_at = now
    operator.updated_at = now
    operator.token_version += 1
    audit.record(
        session,
        actor,
        "user.deactivate",
        f"user:{operator.id}",
        region_code=operator.region_code,
        reason=reason,
    )
    return operator


async def set_password(
    session: AsyncSession,
    actor: AuditActor,
    operator_id: int,
    token_version: int,
    password_hash: str,
) -> Operator:
    """Store a new password hash (checked and hashed by the caller, outside the transaction);
    every existing session ends. Refused if the sessions already ended meanwhile."""
    operator = await session.get(Operator, operator_id)
    if operator is None or operator.token_version != token_version or not operator.active:
        raise DomainError(OperatorError.SESSION_ENDED)
    operator.password_hash = password_hash
    operator.password_expired = False
    rights_changed(session, operator.id)
    operator.token_version += 1
    operator.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "user.password_change",
        f"user:{operator.id}",
        region_code=operator.region_code,
    )
    return operator
