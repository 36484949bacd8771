"""Idempotency keys: a client that sends a mutation again (a phone on a flaky network retrying)
gets the first answer back, and nothing is done twice.

A mutation request may carry ``Idempotency-Key: <1–255 visible ASCII characters>``. Keys are
the caller's own (one operator's key never meets another's). The first request with a key
runs and its answer is kept for ``JUBAO_IDEMPOTENCY_HOURS``; a repeat with the same key and
the same request (query, variables and operation name, whatever their JSON order) gets that
answer again, marked ``Idempotent-Replayed: true``, without running; the same key with a
different request is refused (422), as is a repeat while the first is still running (409).
An answer the server could not give (5xx: the database was down) is not kept: running it
again is what the client should do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Integer, LargeBinary, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base, dialect_of, upsert, utcnow

HEADER = "idempotency-key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyRecord(Base):
    """One key of one operator: the request it was first used for and, once answered, the
    answer."""

    __tablename__ = "idempotency_record"

    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[int | None]
    media_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


def valid_key(key: str) -> bool:
    return bool(_KEY.fullmatch(key))


def fingerprint(request: dict[str, Any]) -> str:
    """The request as its meaning, not its bytes: the same JSON in another key order or
    spacing is the same request."""
    wanted = {k: request.get(k) for k in ("query", "variables", "operationName")}
    return hashlib.sha256(orjson.dumps(wanted, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Replay:
    status: int
    media_type: str
    body: bytes


class KeyInUse(Exception):
    """The key was first used for a different request."""


class StillRunning(Exception):
    """The first request with this key has not been answered yet."""


async def begin(
    session: AsyncSession, operator_id: int, key: str, print_: str, window: timedelta
) -> Replay | None:
    """Claim ``key`` for this request: None if it is new (the request runs), the first
    answer if it is a repeat; `KeyInUse` or `StillRunning` otherwise."""
    now = utcnow()
    await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - window)
    )
    claimed = await session.execute(
        upsert(dialect_of(session), IdempotencyRecord)
        .values(operator_id=operator_id, key=key, fingerprint=print_, created_at=now)
        .on_conflict_do_nothing(index_elements=["operator_id", "key"])
        .returning(IdempotencyRecord.key)
    )
    if claimed.first() is not None:
        return None
    first = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.operator_id == operator_id, IdempotencyRecord.key == key
        )
    )
    assert first is not None
    if first.fingerprint != print_:
        raise KeyInUse
    if first.status is None or first.body is None:
        raise StillRunning
    return Replay(first.status, first.media_type or "application/json", first.body)


async def finish(
    session: AsyncSession, operator_id: int, key: str, status: int, media_type: str, body: bytes
) -> None:
    """Keep the answer (or, for an answer the server could not give, free the key)."""
    record = await session.get(IdempotencyRecord, (operator_id, key))
    if record is None:
        return
    if status >= 500:
        await session.delete(record)
        return
    record.status, record.media_type, record.body = status, media_type, body
