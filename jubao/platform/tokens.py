"""Access tokens (signed JWT, short-lived) and refresh tokens (opaque, rotated, stored hashed).

Both carry the operator's token version: deactivating an operator or changing the password
raises it, which ends every existing token at once. A refresh token is used once; presenting a
used one again revokes its whole family (someone copied it) — unless it comes back within a
short grace period, which is a client retrying a refresh whose answer it lost. The access tokens
issued with a family name it (``fam``), so that they end with it too: the family is recorded as
revoked, and the operator's revoked families are read with the operator row whenever a caller
is authenticated (``jubao.platform.authn``), at no extra query.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import ForeignKey, Index, String, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.operators import Operator, rights_changed
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, BigId, dialect_of, upsert, utcnow
from jubao.platform.api.ids import int_key
from jubao.platform.secret import signing_secret
from jubao.platform.settings import Settings

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm (or "none") is refused


class TokenError(ErrorCode):
    MISSING = ("请先登录", "Log in first")
    EXPIRED = ("登录已过期，请刷新令牌或重新登录", "The token has expired; refresh it or log in")
    INVALID = ("令牌无效", "The token is invalid")
    REVOKED = (
        "会话已结束（账号已停用、密码已更改或刷新令牌被重复使用），请重新登录",
        "The session has ended (account deactivated, password changed, or its refresh token "
        "used twice); log in again",
    )
    REFRESH_INVALID = (
        "刷新令牌无效或已过期，请重新登录",
        "The refresh token is invalid or expired; log in again",
    )


class RefreshToken(Base):
    __tablename__ = "refresh_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"), index=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_version: Mapped[int]
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RevokedFamily(Base):
    """A refresh-token family ended because one of its tokens came back after use: the access
    tokens issued with it are refused until they would have expired anyway, and then the row
    is of no more use (it is deleted when another family is revoked)."""

    __tablename__ = "revoked_token_family"

    family: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    revoked_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_revoked_token_family_operator_id_revoked_at", "operator_id", "revoked_at"),
    )


# Access tokens are checked against families revoked this much longer than they live, for
# servers whose clocks differ a little.
CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class AccessClaims:
    operator_id: int
    token_version: int
    family: str


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key: str | None = None
        self._issuer = settings.jwt_issuer
        self._access_ttl = settings.access_token_ttl
        self._refresh_ttl = settings.refresh_token_ttl
        self._reuse_grace = timedelta(seconds=settings.refresh_reuse_grace_seconds)

    def signing_key(self) -> str:
        """The key, read (or in development generated) on first use: a command that signs no
        token leaves no secret file behind."""
        if self._key is None:
            self._key = signing_secret(self._settings)
        return self._key

    @property
    def revocations_kept(self) -> timedelta:
        """How long a revoked family still matters: the longest an access token issued before
        the revocation can live."""
        return self._access_ttl + CLOCK_SKEW

    def access_token(self, operator: Operator, family: str) -> tuple[str, datetime]:
        now = utcnow()
        expires = now + self._access_ttl
        claims = {
            "iss": self._issuer,
            "sub": str(operator.id),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "ver": operator.token_version,
            "fam": family,
        }
        return jwt.encode(claims, self.signing_key(), algorithm=ALGORITHM), expires

    def decode_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.signing_key(),
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "sub", "ver", "fam"]},
            )
            # A subject that is not an operator key (one beyond the column's range) would fail
            # in the database rather than here.
            operator_id = int_key(claims["sub"])  # PyJWT has checked that it is a string
            if operator_id is None:
                raise DomainError(TokenError.INVALID)
            return AccessClaims(
                operator_id=operator_id,
                token_version=int(claims["ver"]),
                family=str(claims["fam"]),
            )
        except jwt.ExpiredSignatureError:
            raise DomainError(TokenError.EXPIRED) from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise DomainError(TokenError.INVALID) from None

    async def issue(
        self, session: AsyncSession, operator: Operator, *, family: str | None = None
    ) -> TokenPair:
        family = family or uuid.uuid4().hex
        access, access_expires = self.access_token(operator, family)
        refresh = secrets.token_urlsafe(32)
        now = utcnow()
        row = RefreshToken(
            operator_id=operator.id,
            family=family,
            token_hash=_digest(refresh),
            token_version=operator.token_version,
            issued_at=now,
            expires_at=now + self._refresh_ttl,
        )
        session.add(row)
        await session.flush()
        return TokenPair(access, access_expires, refresh, row.expires_at)

    async def rotate(self, session: AsyncSession, refresh_token: str) -> tuple[Operator, TokenPair]:
        """Exchange a refresh token for a new pair. Commits (a detected reuse must stick)."""
        row = await session.scalar(
            select(RefreshToken)
            .where(RefreshToken.token_hash == _digest(refresh_token))
            .with_for_update()
        )
        now = utcnow()
        if row is None or row.expires_at <= now or row.revoked_at is not None:
            raise DomainError(TokenError.REFRESH_INVALID, field="refreshToken")
        family = update(RefreshToken).where(
            RefreshToken.family == row.family, RefreshToken.revoked_at.is_(None)
        )
        if row.used_at is not None:
            if now - row.used_at > self._reuse_grace:
                # Presented again long after use: someone copied it. End the whole family,
                # the access tokens issued with it included.
                await session.execute(family.values(revoked_at=now))
                await self._revoke_family(session, row, now)
                await session.commit()
                raise DomainError(TokenError.REFRESH_INVALID, field="refreshToken")
            # A client retrying a refresh whose answer it never received (flaky mobile
            # networks): the pair it missed is void, and it gets a new one.
            await session.execute(
                family.where(RefreshToken.used_at.is_(None)).values(revoked_at=now)
            )
        operator = await session.get(Operator, row.operator_id)
        if operator is None or not operator.active or operator.token_version != row.token_version:
            raise DomainError(TokenError.REFRESH_INVALID, field="refreshToken")
        row.used_at = row.used_at or now
        pair = await self.issue(session, operator, family=row.family)
        await session.commit()
        return operator, pair

    async def _revoke_family(self, session: AsyncSession, row: RefreshToken, now: datetime) -> None:
        await session.execute(
            delete(RevokedFamily).where(RevokedFamily.revoked_at < now - self.revocations_kept)
        )
        await session.execute(
            upsert(dialect_of(session), RevokedFamily)
            .values(family=row.family, operator_id=row.operator_id, revoked_at=now)
            .on_conflict_do_nothing(index_elements=["family"])  # two replays at once
        )
        # Whoever remembers this operator as authenticated must read them again (at once in
        # this process, within the auth cache's time in the others).
        rights_changed(session, row.operator_id)


async def token_holder(
    session: AsyncSession, operator_id: int, *, revoked_since: datetime
) -> tuple[Operator | None, frozenset[str]]:
    """The operator a token names, and their token families revoked since ``revoked_since``,
    in one query (usually none: the outer join yields the operator row alone)."""
    rows = (
        await session.execute(
            select(Operator, RevokedFamily.family)
            .outerjoin(
                RevokedFamily,
                and_(
                    RevokedFamily.operator_id == Operator.id,
                    RevokedFamily.revoked_at >= revoked_since,
                ),
            )
            .where(Operator.id == operator_id)
        )
    ).all()
    if not rows:
        return None, frozenset()
    return rows[0][0], frozenset(family for _, family in rows if family is not None)
