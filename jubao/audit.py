"""The audit trail: who did what, to whom, where, when and why.

Rows are only ever inserted. Services call :func:`record` in the same transaction as the change
they describe, so an event exists exactly when its change does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base, BigId, utcnow
from jubao.tenants.scope import RegionScoped


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
