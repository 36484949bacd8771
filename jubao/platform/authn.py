"""Who is calling: from a bearer token to an `Actor` with its compiled principal."""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from jubao.authz.actor import Actor
from jubao.authz.operators import RIGHTS_CHANGED, Operator
from jubao.authz.policy import grants_of
from jubao.authz.principal import Principal
from jubao.authz.scoping import ScopedSession
from jubao.errors import DomainError
from jubao.orm import utcnow
from jubao.platform.tokens import AccessClaims, TokenError, token_holder

if TYPE_CHECKING:
    from jubao.platform.services import Services

AUTHENTICATOR = Actor.system("authentication")


@dataclass(frozen=True)
class Authenticated:
    operator: Operator
    actor: Actor
    # the operator's token families revoked recently (a replayed refresh token): their access
    # tokens are refused, the operator's others are not
    revoked_families: frozenset[str] = field(default=frozenset())


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DomainError(TokenError.INVALID)
    return token.strip()


async def authenticate_token(services: Services, token: str) -> Authenticated:
    """Who holds ``token``: two indexed queries, the operator row (with their recently revoked
    token families) and their grants, unless the same operator was authenticated a moment ago
    (``AuthCache``)."""
    claims = services.tokens.decode_access(token)
    auth = services.auth_cache.get(claims)
    if auth is None:
        auth = await _read_caller(services, claims)
    if claims.family in auth.revoked_families:
        raise DomainError(TokenError.REVOKED)
    return auth


async def _read_caller(services: Services, claims: AccessClaims) -> Authenticated:
    generation = services.auth_cache.generation
    async with services.db.session(AUTHENTICATOR) as session:
        operator, revoked = await token_holder(
            session,
            claims.operator_id,
            revoked_since=utcnow() - services.tokens.revocations_kept,
        )
        if not operator or not operator.active or operator.token_version != claims.token_version:
            raise DomainError(TokenError.REVOKED)
        grants = await grants_of(session, operator.id)
    principal = Principal(operator.id, grants)
    auth = Authenticated(
        operator, Actor.operator(operator.id, operator.username, principal), revoked
    )
    services.auth_cache.put(auth, generation)
    return auth


class AuthCache:
    """Callers authenticated in the last ``seconds``, so that a burst of requests with one
    token reads the operator and their grants once, not per request (DESIGN §3 allows a change
    to take effect in other processes within a second).

    In this process a change is in force at once: committing a transaction that changed an
    operator's rights (``jubao.authz.operators.rights_changed``) forgets them here."""

    def __init__(
        self,
        seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[int, tuple[float, Authenticated]] = OrderedDict()
        # Counts the forgettings: what was read before one may already be out of date.
        self.generation = 0
        _caches.add(self)

    def get(self, claims: AccessClaims) -> Authenticated | None:
        entry = self._entries.get(claims.operator_id)
        if entry is None:
            return None
        expires, auth = entry
        if self._clock() >= expires or auth.operator.token_version != claims.token_version:
            del self._entries[claims.operator_id]
            return None
        return auth

    def put(self, auth: Authenticated, generation: int) -> None:
        """Remember ``auth``, read when ``generation`` was current, unless rights changed
        meanwhile (a revoke committed while it was read must not be undone by it)."""
        if self._seconds <= 0 or generation != self.generation:
            return
        self._entries[auth.operator.id] = (self._clock() + self._seconds, auth)
        self._entries.move_to_end(auth.operator.id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, operator_ids: Iterable[int]) -> None:
        self.generation += 1
        for operator_id in operator_ids:
            self._entries.pop(operator_id, None)


_caches: weakref.WeakSet[AuthCache] = weakref.WeakSet()


@event.listens_for(ScopedSession, "after_commit")
def _forget_changed_rights(session: Session) -> None:
    changed = session.info.pop(RIGHTS_CHANGED, None)
    if changed:
        for cache in _caches:
            cache.forget(changed)


@event.listens_for(ScopedSession, "after_rollback")
def _discard_rolled_back(session: Session) -> None:
    session.info.pop(RIGHTS_CHANGED, None)
