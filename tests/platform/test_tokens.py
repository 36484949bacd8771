from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from jubao.authz.actor import Actor
from jubao.authz.operators import Operator
from jubao.errors import DomainError
from jubao.platform.services import Services
from jubao.platform.tokens import RefreshToken, RevokedFamily, TokenError
from tests.helpers import World


def claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "iss": "jubao",
        "sub": "1",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "ver": 0,
        "fam": "f" * 32,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def decode_error(services: Services, token: str) -> TokenError:
    with pytest.raises(DomainError) as caught:
        services.tokens.decode_access(token)
    assert isinstance(caught.value.code, TokenError)
    return caught.value.code


def test_a_good_token_decodes(services: Services) -> None:
    token = jwt.encode(claims(sub="7", ver=3), services.settings.secret_key, algorithm="HS256")
    decoded = services.tokens.decode_access(token)
    assert (decoded.operator_id, decoded.token_version) == (7, 3)


# Claims are made when the test runs, not when it is collected: a suite that takes more than
# the tokens' five minutes would otherwise see them all expired.
@pytest.mark.parametrize(
    ("overrides", "key", "algorithm", "error"),
    [
        ({"exp": 1}, None, "HS256", TokenError.EXPIRED),
        ({}, "another-secret-of-at-least-32-bytes!", "HS256", TokenError.INVALID),
        ({}, None, "HS512", TokenError.INVALID),  # the algorithm is pinned
        ({"iss": "someone-else"}, None, "HS256", TokenError.INVALID),
        ({"ver": None}, None, "HS256", TokenError.INVALID),
        ({"fam": None}, None, "HS256", TokenError.INVALID),  # every token has a family
        ({"sub": "not-a-number"}, None, "HS256", TokenError.INVALID),
    ],
    ids=[
        "expired",
        "forged",
        "other-algorithm",
        "wrong-issuer",
        "no-version",
        "no-family",
        "bad-subject",
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_bad_tokens_are_refused(
    services: Services,
    overrides: dict[str, object],
    key: str | None,
    algorithm: str,
    error: TokenError,
) -> None:
    token = jwt.encode(
        claims(**overrides), key or services.settings.secret_key, algorithm=algorithm
    )
    assert decode_error(services, token) is error


def test_alg_none_is_refused(services: Services) -> None:
    token = jwt.encode(claims(), None, algorithm="none")
    assert decode_error(services, token) is TokenError.INVALID
    assert decode_error(services, "not.a.jwt") is TokenError.INVALID


async def issue(services: Services, user_id: int):  # type: ignore[no-untyped-def]
    async with services.db.transaction(Actor.system("t")) as session:
        operator = await session.get(Operator, user_id)
        assert operator is not None
        return await services.tokens.issue(session, operator)


async def rotate(services: Services, token: str):  # type: ignore[no-untyped-def]
    async with services.db.write_session(Actor.system("t")) as session:
        return await services.tokens.rotate(session, token)


async def refused_rotation(services: Services, token: str) -> None:
    with pytest.raises(DomainError) as caught:
        await rotate(services, token)
    assert caught.value.code is TokenError.REFRESH_INVALID


async def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(
    services: Services, world: World
) -> None:
    first = await issue(services, world.ids["auditor"])
    operator, second = await rotate(services, first.refresh_token)
    assert operator.username == "auditor"
    assert second.refresh_token != first.refresh_token
    await used_long_ago(services)
    await refused_rotation(services, first.refresh_token)  # replayed later: someone copied it
    await refused_rotation(services, second.refresh_token)  # so the whole family is dead
    await refused_rotation(services, "made-up")


async def used_long_ago(services: Services) -> None:
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=datetime.now(UTC) - timedelta(minutes=5))
        )


async def test_a_retry_within_the_grace_period_gets_a_new_pair(
    services: Services, world: World
) -> None:
    """A mobile client whose refresh answer was lost retries with the same token."""
    first = await issue(services, world.ids["auditor"])
    _, lost = await rotate(services, first.refresh_token)
    _, retried = await rotate(services, first.refresh_token)
    await refused_rotation(services, lost.refresh_token)  # the answer it never saw is void
    _, later = await rotate(services, retried.refresh_token)  # the new one works
    assert later.refresh_token not in {first.refresh_token, lost.refresh_token}


async def test_refresh_ends_with_the_token_version_and_expiry(
    services: Services, world: World
) -> None:
    pair = await issue(services, world.ids["auditor"])
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(Operator)
            .where(Operator.username == "auditor")
            .values(token_version=Operator.token_version + 1)
        )
    await refused_rotation(services, pair.refresh_token)

    pair = await issue(services, world.ids["finance"])
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await refused_rotation(services, pair.refresh_token)


async def test_revoked_families_are_kept_only_while_their_access_tokens_could_live(
    services: Services, world: World
) -> None:
    async def revoke_a_family() -> str:
        pair = await issue(services, world.ids["auditor"])
        await rotate(services, pair.refresh_token)
        await used_long_ago(services)
        await refused_rotation(services, pair.refresh_token)
        return services.tokens.decode_access(pair.access_token).family

    first = await revoke_a_family()
    async with services.db.transaction(Actor.system("t")) as session:
        await session.execute(
            update(RevokedFamily).values(
                revoked_at=datetime.now(UTC) - services.tokens.revocations_kept
            )
        )
    second = await revoke_a_family()
    async with services.db.session(Actor.system("t")) as session:
        kept = set(await session.scalars(select(RevokedFamily.family)))
    assert kept == {second} and first != second
