"""The per-request context: language, caller, sessions and DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import cached_property

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.operators import Operator
from jubao.errors import DomainError, Lang
from jubao.pension.people.personal import Disclosure
from jubao.platform.api.errors import unauthenticated
from jubao.platform.api.loaders import Loaders
from jubao.platform.authn import Authenticated
from jubao.platform.client_address import UNKNOWN
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
        client_address: str = UNKNOWN,
    ) -> None:
        self.services = services
        self.lang = lang
        self.request_id = request_id
        # what login throttling counts by (logging in, changing one's password)
        self.client_address = client_address
        self._auth = auth
        self._auth_error = auth_error
        self._session: AsyncSession | None = None
        self._session_lock = asyncio.Lock()

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

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The request's read session, scoped to the caller. Sibling fields resolve
        concurrently and one AsyncSession must not be used by two tasks at once, so its use is
        serialised; sharing it saves a connection check-out (and its ping) per resolver."""
        async with self._session_lock:
            if self._session is None:
                self._session = self.services.db.open_session(self.actor)
            yield self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.services.db.transaction(self.actor) as session:
            yield session
        # What was just committed must be what the request reads next (the read session may
        # hold an older snapshot, and objects loaded before the change).
        async with self._session_lock:
            if self._session is not None:
                await self._session.rollback()

    def system_transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Unscoped work that needs no grant (logging in, one's own password)."""
        return self.services.db.transaction(_SELF_SERVICE)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self)

    @cached_property
    def disclosure(self) -> Disclosure:
        """The personal data this request shows (recorded before the answer leaves, by
        `jubao.platform.api.schema.RecordDisclosures`)."""
        return Disclosure(self.actor)


Info = strawberry.Info[Context, None]
