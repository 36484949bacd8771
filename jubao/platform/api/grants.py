"""Roles and grants in the API: the catalogue, who holds what where, granting and revoking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

import strawberry
from sqlalchemy import or_, select
from strawberry import relay

from jubao.authz import grants as grant_rules
from jubao.authz import policy
from jubao.authz.grants import GrantError, grant_visible
from jubao.authz.operators import OperatorError
from jubao.authz.roles import CATALOGUE, ROLES
from jubao.authz.roles import Role as RoleDef
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, Lang
from jubao.platform.api.context import Info
from jubao.platform.api.enums import AuthzAction, AuthzObject, RegionLevel, RoleName
from jubao.platform.api.ids import int_key, int_key_of
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.user_errors import UserError, attempt
from jubao.platform.api.users import User
from jubao.tenants.codes import RegionCode


@strawberry.type(description="授权错误 — grant or revoke refused")
class RoleGrantError(UserError):
    pass


@strawberry.type(description="角色的一项权限 — one permission of a role")
class RolePermission:
    object: AuthzObject
    action: AuthzAction


@strawberry.type(name="Role", description="角色 — a role in the catalogue")
class Role:
    name: RoleName = strawberry.field(description="角色标识 — role identifier")
    title: str = strawberry.field(description="角色名称 — role title in the request's language")
    title_zh: str = strawberry.field(description="中文名称 — Chinese title")
    min_level: RegionLevel = strawberry.field(
        description="可授予的最高级别 — highest level it may be granted at"
    )
    max_level: RegionLevel = strawberry.field(
        description="可授予的最低级别 — lowest level it may be granted at"
    )
    permissions: list[RolePermission] = strawberry.field(description="权限 — permissions")

    @classmethod
    def of(cls, role: RoleDef, lang: Lang) -> Self:
        return cls(
            name=RoleName(role.name),
            title=role.zh if lang is Lang.ZH else role.en,
            title_zh=role.zh,
            min_level=role.min_level,
            max_level=role.max_level,
            permissions=[RolePermission(object=o, action=a) for o, a in sorted(role.permissions)],
        )


@strawberry.type(name="Grant", description="授权 — a role held by an operator over a region")
class Grant(relay.Node):
    region_code: RegionCode = strawberry.field(
        description="授权区划 — the region; the grant reaches its whole subtree"
    )
    region_prefix: str = strawberry.field(description="区划前缀 — the region's significant digits")
    pk: strawberry.Private[int]
    user_pk: strawberry.Private[int]
    role_name: strawberry.Private[str]

    @classmethod
    def of(cls, grant: policy.Grant) -> Self:
        return cls(
            pk=grant.id,
            user_pk=grant.user_id,
            role_name=grant.role,
            region_code=RegionCode.from_prefix(grant.prefix),
            region_prefix=grant.prefix,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.pk)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one signature for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        actor = info.context.actor
        keys = [int_key(k) for k in node_ids]
        grants = await info.context.loaders.grant.load_many([k for k in keys if k is not None])
        found = {g.id: g for g in grants if g is not None and grant_visible(actor, g)}
        return [cls.of(found[k]) if k in found else None for k in keys]

    @strawberry.field(description="角色 — the role")
    def role(self, info: Info) -> Role | None:
        role = CATALOGUE.get(self.role_name)
        return Role.of(role, info.context.lang) if role else None

    @strawberry.field(description="授权区划 — the region (null if outside your scope)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code.code)

    @strawberry.field(
        description=(
            "持有人 — the operator holding it, also when homed outside your region (who holds "
            "power in your region is what the grant says; their home region itself shows only "
            "if in your scope)"
        )
    )
    async def user(self, info: Info) -> User | None:
        row = await info.context.loaders.holder.load(self.user_pk)
        return User.of(row) if row else None


@strawberry.input(description="授予角色 — grant a role over a region")
class RoleGrantInput:
    user: strawberry.ID = strawberry.field(description="操作员 ID — the user's ID")
    role: RoleName = strawberry.field(description="角色 — the role")
    region: RegionCode = strawberry.field(
        description="区划 — where; the grant reaches the whole subtree"
    )
    reason: str = strawberry.field(description="原因 — why (recorded in the audit trail)")


@strawberry.input(description="撤销授权 — revoke a grant")
class RoleRevokeInput:
    grant: strawberry.ID = strawberry.field(description="授权 ID — the grant's ID")
    reason: str = strawberry.field(description="原因 — why (recorded in the audit trail)")


@strawberry.type
class RoleGrantPayload:
    grant: Grant | None = None
    user_errors: list[RoleGrantError] = strawberry.field(default_factory=list)


@strawberry.type
class RoleRevokePayload:
    grant: Grant | None = None
    user_errors: list[RoleGrantError] = strawberry.field(default_factory=list)


@strawberry.input(description="授权查询条件 — filters for the grant list")
class GrantFilter:
    user: strawberry.ID | None = strawberry.field(default=None, description="操作员 ID")
    role: RoleName | None = strawberry.field(default=None, description="角色")
    region: RegionCode | None = strawberry.field(
        default=None, description="区划：该区划及其下级的授权"
    )


@strawberry.type
class RoleQueries:
    @strawberry.field(description="角色目录 — the role catalogue", permission_classes=[LoggedIn])
    def roles(self, info: Info) -> list[Role]:
        return [Role.of(role, info.context.lang) for role in ROLES]

    @strawberry.field(
        description=(
            "授权列表 — grants at regions in your grant-read scope (and your own), by user, "
            "role or region"
        ),
        permission_classes=[LoggedIn],
    )
    async def grants(
        self,
        info: Info,
        where: GrantFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Grant]:
        actor = info.context.actor
        rule = policy.CasbinRule
        statement = select(rule).where(rule.ptype == "g")
        scope = actor.scope(Obj.GRANT, Act.READ)
        if scope is not None:
            own = rule.v0 == policy.subject(actor.operator_id or 0)
            statement = statement.where(
                or_(own, *(rule.v2.startswith(p, autoescape=True) for p in scope.prefixes))
            )
        if where is not None:
            if where.user is not None:
                user_id = int_key_of(where.user, "User")
                statement = statement.where(rule.v0 == policy.subject(user_id or 0))
            if where.role is not None:
                statement = statement.where(rule.v1 == where.role.value)
            if where.region is not None:
                statement = statement.where(
                    rule.v2.startswith(where.region.prefix, autoescape=True)
                )
        return await paginate(
            info,
            statement,
            rule.id,
            first=first,
            after=after,
            to_node=lambda row: Grant.of(policy.grant_of(row)),
            key_type=int_key,
        )


@strawberry.type
class RoleMutations:
    @strawberry.mutation(
        description="授予角色 — grant a role (needs GRANT ADMIN at the region; audited)",
        permission_classes=[LoggedIn],
    )
    async def role_grant(self, info: Info, input: RoleGrantInput) -> RoleGrantPayload:
        context = info.context

        async def work() -> RoleGrantPayload:
            user_id = int_key_of(input.user, "User")
            if user_id is None:
                raise DomainError(OperatorError.NOT_FOUND, field="user")
            async with context.transaction() as session:
                grant = await grant_rules.grant_role(
                    session,
                    context.actor,
                    user_id=user_id,
                    role_name=input.role.value,
                    region=input.region,
                    reason=input.reason,
                    separation_of_duties=context.services.settings.separation_of_duties,
                )
            return RoleGrantPayload(grant=Grant.of(grant))

        return await attempt(context.lang, RoleGrantPayload, RoleGrantError, work())

    @strawberry.mutation(
        description="撤销授权 — revoke a grant (needs GRANT ADMIN at its region; audited)",
        permission_classes=[LoggedIn],
    )
    async def role_revoke(self, info: Info, input: RoleRevokeInput) -> RoleRevokePayload:
        context = info.context

        async def work() -> RoleRevokePayload:
            grant_id = int_key_of(input.grant, "Grant")
            if grant_id is None:
                raise DomainError(GrantError.GRANT_NOT_FOUND, field="grant")
            async with context.transaction() as session:
                grant = await grant_rules.revoke_grant(
                    session, context.actor, grant_id=grant_id, reason=input.reason
                )
            return RoleRevokePayload(grant=Grant.of(grant))

        return await attempt(context.lang, RoleRevokePayload, RoleGrantError, work())
