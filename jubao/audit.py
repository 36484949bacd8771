"""The audit trail: who did what, to whom, where, when and why.

Rows are only ever inserted. Services call :func:`record` in the same transaction as the change
they describe, so an event exists exactly when its change does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base, BigId, insert_many, utcnow
from jubao.tenants.scope import RegionScoped, unscoped


class AuditActor(Protocol):
    @property
    def operator_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


class AuditEvent(Base, RegionScoped):
    __tablename__ = "audit_event"
    __scope_object__ = "audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50), index=True)
    target: Mapped[str] = mapped_column(String(100), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


def record(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    target: str,
    *,
    region_code: str | None = None,
    reason: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.operator_id,
        actor=actor.label,
        action=action,
        target=target,
        region_code=region_code,
        detail=detail,
        reason=reason,
    )
    session.add(event)
    return event


async def record_many(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    target: str,
    events: Iterable[tuple[str | None, dict[str, Any]]],
) -> None:
    """Events of one action, each with its region and detail, written at once (a bank file
    of a county records a read per village: tens of thousands of rows a month)."""
    at = utcnow()
    rows = [
        (at, actor.operator_id, actor.label, action, target, region_code, detail)
        for region_code, detail in events
    ]
    await insert_many(
        session,
        unscoped(AuditEvent),
        ("at", "actor_id", "actor", "action", "target", "region_code", "detail"),
        rows,
    )
