"""Who is calling: from a bearer token to an `Actor` with its compiled principal."""

from __future__ import annotations

from dataclasses import dataclass

from jubao.authz.actor import Actor
from jubao.authz.operators import Operator
from jubao.authz.policy import grants_of
from jubao.authz.principal import Principal
from jubao.errors import DomainError
from jubao.platform.services import Services
from jubao.platform.tokens import TokenError

_AUTHENTICATOR = Actor.system("authentication")


@dataclass(frozen=True)
class Authenticated:
    operator: Operator
    actor: Actor


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DomainError(TokenError.INVALID)
    return token.strip()


async def authenticate_token(services: Services, token: str) -> Authenticated:
    """One session, two indexed queries: the operator row and its grants."""
    claims = services.tokens.decode_access(token)
    async with services.db.session(_AUTHENTICATOR) as session:
        operator = await session.get(Operator, claims.operator_id)
        if operator is None or not operator.active:
            raise DomainError(TokenError.REVOKED)
        if operator.token_version != claims.token_version:
            raise DomainError(TokenError.REVOKED)
        grants = await grants_of(session, operator.id)
    principal = Principal(operator.id, grants)
    return Authenticated(operator, Actor.operator(operator.id, operator.username, principal))
