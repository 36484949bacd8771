"""Operators in the API: the `User` type, the scoped `users` list, creating and deactivating."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from sqlalchemy import select

from jubao.authz import operators
from jubao.authz.grants import grant_visible
from jubao.authz.operators import Operator, OperatorError
from jubao.errors import DomainError
from jubao.platform.api.context import Info
from jubao.platform.api.ids import INT32, int_key, int_key_of
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.user_errors import UserError, attempt
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope

if TYPE_CHECKING:
    from jubao.platform.api.grants import Grant


@strawberry.type(description="操作员管理错误 — operator change refused")
class UserAccountError(UserError):
    pass


@strawberry.type(name="User", description="操作员 — an operator account")
class User(KeyedNode):
    username: str = strawberry.field(description="用户名 — login name")
    display_name: str = strawberry.field(description="姓名 — name")
    region_code: RegionCode = strawberry.field(description="所属区划 — home region")
    active: bool = strawberry.field(description="是否启用 — false once deactivated")
    password_change_required: bool = strawberry.field(
        description="须先修改初始密码 — the password an administrator set is not yet changed"
    )
    created_at: datetime = strawberry.field(description="创建时间 — created at")
    deactivated_at: datetime | None = strawberry.field(description="停用时间 — deactivated at")
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: Operator) -> Self:
        return cls(
            pk=row.id,
            username=row.username,
            display_name=row.display_name,
            region_code=RegionCode(row.region_code),
            active=row.active,
            password_change_required=row.password_expired,
            created_at=row.created_at,
            deactivated_at=row.deactivated_at,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.pk)

    largest = INT32

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[Operator | None]]:
        return info.context.loaders.operator.load_many(keys)

    @strawberry.field(description="所属区划 — home region (null if outside your scope)")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code.code)

    @strawberry.field(description="持有的授权（您能看到的部分） — the grants you can see")
    async def grants(
        self, info: Info
    ) -> list[Annotated[Grant, strawberry.lazy("jubao.platform.api.grants")]]:
        from jubao.platform.api.grants import Grant

        actor = info.context.actor
        held = await info.context.loaders.grants.load(self.pk)
        return [Grant.of(g) for g in held if grant_visible(actor, g)]


@strawberry.input(description="新建操作员 — create an operator")
class UserCreateInput:
    username: str = strawberry.field(description="用户名 — 3–64 lowercase letters/digits/._-")
    display_name: str = strawberry.field(description="姓名 — name")
    region: RegionCode = strawberry.field(description="所属区划 — home region")
    password: str = strawberry.field(description="初始密码 — initial password")


@strawberry.type
class UserCreatePayload:
    user: User | None = None
    user_errors: list[UserAccountError] = strawberry.field(default_factory=list)


@strawberry.input(description="停用操作员 — deactivate an operator; ends their sessions")
class UserDeactivateInput:
    id: strawberry.ID = strawberry.field(description="操作员 ID — the user's ID")
    reason: str = strawberry.field(description="原因 — why (recorded in the audit trail)")


@strawberry.type
class UserDeactivatePayload:
    user: User | None = None
    user_errors: list[UserAccountError] = strawberry.field(default_factory=list)


@strawberry.type
class UserQueries:
    @strawberry.field(
        description="操作员列表 — operators homed in your scope, optionally under `region`",
        permission_classes=[LoggedIn],
    )
    async def users(
        self,
        info: Info,
        region: RegionCode | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[User]:
        statement = select(Operator)
        if region is not None:
            statement = statement.where(Scope.of([region.prefix]).clause(Operator.region_code))
        return await paginate(
            info,
            statement,
            Operator.id,
            first=first,
            after=after,
            to_node=User.of,
            key_type=int_key,
        )


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        description="新建操作员 — create an operator (needs USER ADMIN at the region)",
        permission_classes=[LoggedIn],
    )
    async def user_create(self, info: Info, input: UserCreateInput) -> UserCreatePayload:
        context = info.context

        async def work() -> UserCreatePayload:
            async with context.transaction() as session:
                row = await operators.create_operator(
                    session,
                    context.actor,
                    context.services.settings.passwords,
                    username=input.username,
                    display_name=input.display_name,
                    region=input.region,
                    password=input.password,
                )
            return UserCreatePayload(user=User.of(row))

        return await attempt(context.lang, UserCreatePayload, UserAccountError, work())

    @strawberry.mutation(
        description="停用操作员 — deactivate an operator (needs USER ADMIN at their region)",
        permission_classes=[LoggedIn],
    )
    async def user_deactivate(
        self, info: Info, input: UserDeactivateInput
    ) -> UserDeactivatePayload:
        context = info.context

        async def work() -> UserDeactivatePayload:
            operator_id = int_key_of(input.id, "User")
            if operator_id is None:
                raise DomainError(OperatorError.NOT_FOUND, field="id")
            async with context.transaction() as session:
                row = await operators.deactivate_operator(
                    session, context.actor, operator_id, input.reason
                )
            return UserDeactivatePayload(user=User.of(row))

        return await attempt(context.lang, UserDeactivatePayload, UserAccountError, work())
