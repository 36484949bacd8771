"""Granting and revoking roles: administration rules, separation of duties, audit.

Rules (DESIGN §3):
- a role is granted at a region whose level lies in the role's level range;
- an administrator acts only inside their own subtree (``grant admin`` at the target region),
  on operators they can see, never on themselves;
- no escalation: every administrative right the role carries (``admin`` on some object) must be
  one the administrator holds at that region;
- static separation of duties (on by default): no operator may hold ``process`` and ``review``
  on the same object in overlapping regions;
- every grant and revoke is recorded in the audit trail with its reason.
The command line acts as the system: it skips the administrator rules (``administration``),
never the others.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.administration import check_administers
from jubao.authz.operators import check_reason, lock_operator, visible_operator
from jubao.authz.policy import Grant, adapter_for, grant_by_id, grants_of, subject
from jubao.authz.roles import CATALOGUE, Role
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use


class GrantError(ErrorCode):
    UNKNOWN_ROLE = ("没有名为“{role}”的角色", "There is no role named '{role}'")
    LEVEL_MISMATCH = (
        "角色“{role}”只能授予{lowest}到{highest}级区划，{region} 是{level}级",
        "Role '{role}' can be granted from level {lowest} to {highest}; {region} is level {level}",
    )
    INACTIVE_USER = ("该操作员已停用，不能授权", "The operator is deactivated")
    SOD_CONFLICT = (
        "违反职责分离：该操作员在 {other_region} 持有“{other_role}”，"
        "与“{role}”在 {region} 对“{obj}”的经办和审核权限冲突",
        "Separation of duties: the operator holds '{other_role}' at {other_region}, which "
        "with '{role}' at {region} would let them both process and review '{obj}'",
    )
    ALREADY_GRANTED = (
        "该操作员已在 {region} 持有“{role}”",
        "The operator already holds '{role}' at {region}",
    )
    GRANT_NOT_FOUND = ("找不到该授权", "No such grant")


def role_named(name: str) -> Role:
    role = CATALOGUE.get(name)
    if role is None:
        raise DomainError(GrantError.UNKNOWN_ROLE, field="role", role=name[:64])
    return role


def _overlap(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def sod_conflict(role: Role, prefix: str, held: list[Grant]) -> tuple[Grant, Obj] | None:
    """The first held grant that, with ``role`` at ``prefix``, gives process+review of one
    object in overlapping regions."""
    processes, reviews = role.objects_with(Act.PROCESS), role.objects_with(Act.REVIEW)
    for grant in held:
        other = CATALOGUE.get(grant.role)
        if other is None or not _overlap(prefix, grant.prefix):
            continue
        clash = (processes & other.objects_with(Act.REVIEW)) | (
            reviews & other.objects_with(Act.PROCESS)
        )
        if clash:
            return grant, min(clash)
    return None


async def grant_role(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    role_name: str,
    region: RegionCode,
    reason: str | None,
    separation_of_duties: bool = True,
) -> Grant:
    reason = check_reason(reason)
    role = role_named(role_name)
    if not role.fits(region.level):
        raise DomainError(
            GrantError.LEVEL_MISMATCH,
            field="region",
            role=role.text,
            region=region.code,
            lowest=role.min_level.text,
            highest=role.max_level.text,
            level=region.level.text,
        )
    check_administers(actor, role, region, user_id)
    await check_in_use(session, region)
    operator = await visible_operator(session, user_id)
    if not operator.active:
        raise DomainError(GrantError.INACTIVE_USER, field="user")

    await lock_operator(session, user_id)
    held = await grants_of(session, user_id)
    already = DomainError(
        GrantError.ALREADY_GRANTED, field="role", role=role.text, region=region.code
    )
    if any(g.role == role.name and g.prefix == region.prefix for g in held):
        raise already
    if separation_of_duties and (conflict := sod_conflict(role, region.prefix, held)):
        other_grant, obj = conflict
        raise DomainError(
            GrantError.SOD_CONFLICT,
            field="role",
            role=role.text,
            region=region.code,
            other_role=CATALOGUE[other_grant.role].text,
            other_region=RegionCode.from_prefix(other_grant.prefix).code,
            obj=obj.text,
        )
    try:
        await adapter_for(session).add_policy(
            "g", "g", [subject(user_id), role.name, region.prefix]
        )
        await session.flush()
    except IntegrityError:  # the same grant made concurrently
        raise already from None
    grant = next(
        g
        for g in await grants_of(session, user_id)
        if g.role == role.name and g.prefix == region.prefix
    )
    _record(session, actor, "grant.add", grant, reason)
    return grant


async def revoke_grant(
    session: AsyncSession, actor: Actor, *, grant_id: int, reason: str | None
) -> Grant:
    reason = check_reason(reason)
    grant = await grant_by_id(session, grant_id)
    # A grant outside the administrator's subtree is "not found", like any unseen object.
    if grant is None or not grant_visible(actor, grant):
        raise DomainError(GrantError.GRANT_NOT_FOUND, field="grant")
    region = RegionCode.from_prefix(grant.prefix)
    # A role since removed from the catalogue can still be revoked.
    check_administers(actor, CATALOGUE.get(grant.role), region, grant.user_id)
    await lock_operator(session, grant.user_id)
    removed = await adapter_for(session).remove_policy(
        "g", "g", [subject(grant.user_id), grant.role, grant.prefix]
    )
    if not removed:  # revoked concurrently
        raise DomainError(GrantError.GRANT_NOT_FOUND, field="grant")
    _record(session, actor, "grant.revoke", grant, reason)
    return grant


def _record(session: AsyncSession, actor: Actor, action: str, grant: Grant, reason: str) -> None:
    audit.record(
        session,
        actor,
        action,
        f"user:{grant.user_id}",
        region_code=RegionCode.from_prefix(grant.prefix).code,
        reason=reason,
        grant_id=grant.id,
        role=grant.role,
        prefix=grant.prefix,
    )


def grant_visible(actor: Actor, grant: Grant) -> bool:
    """An operator sees their own grants and those inside their ``grant read`` scope."""
    return grant.user_id == actor.operator_id or actor.can(
        Obj.GRANT, Act.READ, RegionCode.from_prefix(grant.prefix)
    )
