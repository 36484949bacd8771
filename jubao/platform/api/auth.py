"""Logging in, refreshing tokens, changing one's password, and `me`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from jubao.authz.actor import Actor
from jubao.authz.login import authenticate, change_own_password
from jubao.platform.api.context import Info
from jubao.platform.api.enums import AuthzAction, AuthzObject
from jubao.platform.api.grants import Grant
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.user_errors import UserError, attempt
from jubao.platform.api.users import User
from jubao.platform.tokens import TokenPair


@strawberry.type(description="登录与密码错误 — login, refresh or password change refused")
class AuthenticationError(UserError):
    retry_after: int | None = strawberry.field(
        default=None,
        description="稍后再试 — with THROTTLED: seconds to wait before the next attempt",
    )


@strawberry.type(description="令牌 — send `Authorization: Bearer <accessToken>` with each request")
class AuthTokens:
    access_token: str = strawberry.field(description="访问令牌 — short-lived JWT")
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(
        description="刷新令牌 — single use; exchange it with tokenRefresh before it expires"
    )
    refresh_token_expires_at: datetime

    @classmethod
    def of(cls, pair: TokenPair) -> AuthTokens:
        return cls(
            access_token=pair.access_token,
            access_token_expires_at=pair.access_expires_at,
            refresh_token=pair.refresh_token,
            refresh_token_expires_at=pair.refresh_expires_at,
        )


@strawberry.input(description="登录 — log in with username and password")
class LoginInput:
    username: str
    password: str


@strawberry.input(description="刷新令牌 — exchange a refresh token for new tokens")
class TokenRefreshInput:
    refresh_token: str


@strawberry.input(description="修改密码 — change your own password; ends your other sessions")
class PasswordChangeInput:
    current_password: str
    new_password: str


@strawberry.type
class LoginPayload:
    tokens: AuthTokens | None = None
    user: User | None = None
    user_errors: list[AuthenticationError] = strawberry.field(default_factory=list)


@strawberry.type
class TokenRefreshPayload:
    tokens: AuthTokens | None = None
    user_errors: list[AuthenticationError] = strawberry.field(default_factory=list)


@strawberry.type
class PasswordChangePayload:
    tokens: AuthTokens | None = None
    user_errors: list[AuthenticationError] = strawberry.field(default_factory=list)


@strawberry.type(description="一项有效权限 — an effective permission and where it applies")
class Permission:
    object: AuthzObject
    action: AuthzAction
    region_prefixes: list[str] = strawberry.field(
        description="区划前缀 — applies to every region whose code starts with one of these"
    )


@strawberry.type(description="当前操作员 — the caller, their grants and effective permissions")
class Me:
    user: User
    grants: list[Grant]
    permissions: list[Permission]


@strawberry.type
class AuthQueries:
    @strawberry.field(description="当前操作员 — who am I", permission_classes=[LoggedIn])
    def me(self, info: Info) -> Me:
        authenticated = info.context.authenticated
        principal = authenticated.actor.principal
        assert principal is not None
        return Me(
            user=User.of(authenticated.operator),
            grants=[Grant.of(g) for g in principal.grants],
            permissions=[
                Permission(object=obj, action=act, region_prefixes=sorted(scope.prefixes))
                for obj, act, scope in principal.permissions()
            ],
        )


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="登录 — log in; repeated failures make the next attempts wait (THROTTLED)"
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        context = info.context
        services = context.services

        async def work() -> LoginPayload:
            operator = await authenticate(
                context.system_transaction,
                services.settings.passwords,
                services.settings.throttle,
                input.username,
                input.password,
                address=context.client_address,
            )
            async with context.system_transaction() as session:
                pair = await services.tokens.issue(session, operator)
            return LoginPayload(tokens=AuthTokens.of(pair), user=User.of(operator))

        return await attempt(context.lang, LoginPayload, AuthenticationError, work())

    @strawberry.mutation(description="刷新令牌 — new tokens for a refresh token (single use)")
    async def token_refresh(self, info: Info, input: TokenRefreshInput) -> TokenRefreshPayload:
        context = info.context

        async def work() -> TokenRefreshPayload:
            async with context.services.db.write_session(Actor.system("token refresh")) as session:
                _, pair = await context.services.tokens.rotate(session, input.refresh_token)
            return TokenRefreshPayload(tokens=AuthTokens.of(pair))

        return await attempt(context.lang, TokenRefreshPayload, AuthenticationError, work())

    @strawberry.mutation(
        description="修改密码 — change your password; returns new tokens, ends other sessions",
        permission_classes=[LoggedIn],
    )
    async def password_change(
        self, info: Info, input: PasswordChangeInput
    ) -> PasswordChangePayload:
        context = info.context
        services = context.services

        async def work() -> PasswordChangePayload:
            # One's own password needs no grant: the work runs unscoped, audited as the caller.
            operator = await change_own_password(
                context.system_transaction,
                services.settings.passwords,
                services.settings.throttle,
                context.actor,
                context.operator,
                current_password=input.current_password,
                new_password=input.new_password,
                address=context.client_address,
            )
            async with context.system_transaction() as session:
                pair = await services.tokens.issue(session, operator)
            return PasswordChangePayload(tokens=AuthTokens.of(pair))

        return await attempt(context.lang, PasswordChangePayload, AuthenticationError, work())
