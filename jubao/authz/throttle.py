"""Throttling password guesses without handing anyone a way to lock an operator out.

An attempt counts as failed *before* its password is checked (a right password takes the count
back), in a short transaction that takes attempts on the same buckets one at a time, so guesses
sent in parallel cannot outrun the count. It counts in three buckets:

- **the username from this address**: after ``free_failures`` failures, each next attempt
  waits 1 s, 2 s, 4 s, … (doubling) up to ``max_delay`` after the last failure;
- **the username from anywhere**: after ``username_free_failures``, waits doubling up to
  ``username_max_delay`` — kept short, since it is what a guesser with many addresses can make
  the real owner wait, and it caps how fast such a guesser gets answers at one per that delay;
- **the address, whatever the username** (password spraying; it also bounds the rows one
  address can make us store): after ``address_free_failures``, waits doubling up to
  ``max_delay``.

An attempt made while one of its waits runs is refused with the time left: its password is not
checked and nothing is counted. A username's address that logged in with it successfully in
the last ``trusted`` days is only throttled by its own bucket (the username-wide and
address-wide ones neither slow it nor count it), so guessers elsewhere cannot keep the owner
out from where they usually work, however many addresses they use (as "familiar locations" in
Azure AD's smart lockout). IPv6 addresses count by their /64 network, the block one subscriber
holds.

Unknown usernames are counted exactly like known ones, so the throttle reveals nothing. A
bucket is a row keyed by the SHA-256 of what it counts (any input, however long or odd, is
stored as 64 hex digits); its count is forgotten ``window`` after its last failure, and the
expired row is deleted by a later attempt, a hundred at a time, more than an attempt can add.
The table thus holds the buckets that failed within the last window, at most three per attempt
that was let through, plus the trusted addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base, dialect_of, upsert, utcnow

FIRST_DELAY = timedelta(seconds=1)
PRUNE_BATCH = 100
NO_WAIT = timedelta(0)


@dataclass(frozen=True)
class Throttle:
    free_failures: int = 3
    max_delay: timedelta = timedelta(minutes=15)
    username_free_failures: int = 10
    username_max_delay: timedelta = timedelta(seconds=60)
    address_free_failures: int = 20
    window: timedelta = timedelta(hours=1)
    trusted: timedelta = timedelta(days=30)


class LoginThrottle(Base):
    """One bucket of recent failed logins (see the module's description)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime | None]
    # (username, address) buckets only: logged in successfully from here, so exempt from the
    # username-wide and address-wide waits until then
    trusted_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


def delay(failures: int, free: int, longest: timedelta) -> timedelta:
    """How long the next attempt waits after ``failures`` recent failures."""
    if failures < free:
        return NO_WAIT
    return min(FIRST_DELAY * 2 ** min(failures - free, 32), longest)


def address_bucket(address: str) -> str:
    """What an address's guesses count against: the address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _key(*parts: str) -> str:
    # surrogatepass: a hostile username may hold a lone surrogate; it still names one bucket
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Buckets:
    """The buckets one login attempt counts in."""

    pair: str
    username: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> Buckets:
        network = address_bucket(address)
        return cls(
            pair=_key("username+address", username, network),
            username=_key("username", username),
            address=_key("address", network),
        )

    @property
    def keys(self) -> tuple[str, str, str]:
        return self.pair, self.username, self.address


async def prune(session: AsyncSession, now: datetime) -> None:
    """Delete up to a hundred expired buckets. Run in a transaction of its own: rows another
    attempt holds are skipped, and it waits for nothing, so it can deadlock with nothing."""
    expired = (
        select(LoginThrottle.key)
        .where(LoginThrottle.expires_at < now)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.key.in_(expired.scalar_subquery()))
    )


async def admit(session: AsyncSession, throttle: Throttle, buckets: Buckets) -> timedelta:
    """Count one attempt as failed, before its password is checked: ``NO_WAIT`` if it may go
    ahead, else how long until it may (and then nothing is counted)."""
    rows = await _lock(session, buckets)
    now = utcnow()  # once it is our turn: the attempt before may have waited for its own
    pair = rows.get(buckets.pair)
    gates = [(buckets.pair, throttle.free_failures, throttle.max_delay)]
    if not _trusted(pair, now):
        gates += [
            (buckets.username, throttle.username_free_failures, throttle.username_max_delay),
            (buckets.address, throttle.address_free_failures, throttle.max_delay),
        ]
    wait = max(
        _opens_at(rows.get(key), now, throttle.window, free, longest) - now
        for key, free, longest in gates
    )
    if wait > NO_WAIT:
        return wait
    for key, _, _ in gates:
        row = rows.get(key)
        await _store(
            session,
            key,
            failures=_failures(row, now, throttle.window) + 1,
            last_failure_at=now,
            trusted_until=row.trusted_until if row else None,
            window=throttle.window,
        )
    return NO_WAIT


async def succeeded(session: AsyncSession, throttle: Throttle, buckets: Buckets) -> None:
    """The password was right: clear the address's count for the username and trust the
    address for it; take back the failure counted in the wider buckets (if they counted it)."""
    rows = await _lock(session, buckets)
    now = utcnow()
    if not _trusted(rows.get(buckets.pair), now):
        await session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key.in_([buckets.username, buckets.address]),
                LoginThrottle.failures > 0,
            )
            .values(failures=LoginThrottle.failures - 1)
        )
    if throttle.trusted > NO_WAIT:
        await _store(
            session,
            buckets.pair,
            failures=0,
            last_failure_at=None,
            trusted_until=now + throttle.trusted,
            window=throttle.window,
        )
    else:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.key == buckets.pair))


async def _lock(session: AsyncSession, buckets: Buckets) -> dict[str, LoginThrottle]:
    """The buckets' rows, which no other attempt reads or writes until the transaction ends.
    SQLite runs one write transaction at a time anyway; PostgreSQL takes an advisory lock per
    bucket, in a fixed order (no deadlocks), which unlike a row lock also holds for a bucket
    that has no row yet."""
    if dialect_of(session) == "postgresql":
        for key in sorted(buckets.keys):
            lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
            await session.execute(select(func.pg_advisory_xact_lock(lock_id)))
    found = await session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(buckets.keys))
        .execution_options(populate_existing=True)
    )
    return {row.key: row for row in found}


def _trusted(row: LoginThrottle | None, now: datetime) -> bool:
    return row is not None and row.trusted_until is not None and row.trusted_until > now


def _failures(row: LoginThrottle | None, now: datetime, window: timedelta) -> int:
    if row is None or row.last_failure_at is None or row.last_failure_at + window <= now:
        return 0
    return row.failures


def _opens_at(
    row: LoginThrottle | None, now: datetime, window: timedelta, free: int, longest: timedelta
) -> datetime:
    wait = delay(_failures(row, now, window), free, longest)
    if row is None or row.last_failure_at is None or not wait:
        return now
    return row.last_failure_at + wait


async def _store(
    session: AsyncSession,
    key: str,
    *,
    failures: int,
    last_failure_at: datetime | None,
    trusted_until: datetime | None,
    window: timedelta,
) -> None:
    ends = [t for t in (last_failure_at and last_failure_at + window, trusted_until) if t]
    values = {
        "failures": failures,
        "last_failure_at": last_failure_at,
        "trusted_until": trusted_until,
        "expires_at": max(ends),
    }
    statement = upsert(dialect_of(session), LoginThrottle).values(key=key, **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"], set_={name: statement.excluded[name] for name in values}
        )
    )
