"""The per-request context: language, caller, sessions and DataLoaders."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from functools import cached_property

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.operators import Operator
from jubao.errors import DomainError, Lang
from jubao.platform.api.errors import unauthenticated
from jubao.platform.api.loaders import Loaders
from jubao.platform.authn import Authenticated
from jubao.platform.services import Services
from jubao.platform.tokens import TokenError

_SELF_SERVICE = Actor.system("self-service")


class Context:
    def __init__(
        self,
        services: Services,
        *,
        lang: Lang,
        request_id: str,
        auth: Authenticated | None = None,
        auth_error: DomainError | None = None,
    ) -> None:
        self.services = services
        self.lang = lang
        self.request_id = request_id
        self._auth = auth
        self._auth_error = auth_error

    @property
    def authenticated(self) -> Authenticated:
        if self._auth is None:
            raise unauthenticated(self.lang, self._auth_error or DomainError(TokenError.MISSING))
        return self._auth

    @property
    def actor(self) -> Actor:
        return self.authenticated.actor

    @property
    def operator(self) -> Operator:
        return self.authenticated.operator

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A read session scoped to the caller (each resolver opens its own: sibling fields
        resolve concurrently, and one AsyncSession must not be shared between tasks)."""
        return self.services.db.session(self.actor)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.services.db.transaction(self.actor)

    def system_transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Unscoped work that needs no grant (logging in, one's own password)."""
        return self.services.db.transaction(_SELF_SERVICE)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self)


Info = strawberry.Info[Context, None]
