"""The audit trail for auditors: who did what, to what, where, when and why — read-only, and
only what happened in the caller's region (events of the whole province, such as logging in,
belong to no region and are read from the logs)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Self

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from jubao.audit import AuditEvent as AuditEventRow
from jubao.errors import Text
from jubao.platform.api.context import Info
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope
from jubao.text import TextField

ACTION = TextField("where.action", Text("操作类型", "The action"), 50)


@strawberry.type(name="AuditEvent", description="审计记录 — one event of the audit trail")
class AuditEventNode(KeyedNode):
    at: datetime = strawberry.field(description="时间 — when")
    actor: str = strawberry.field(description="操作人 — who (user:id username, or the system)")
    action: str = strawberry.field(
        description=(
            "操作 — what, e.g. application.submit, application.approve, grant.add, "
            "person.personal_data_read, interest.post, contribution.bank_export"
        )
    )
    target: str = strawberry.field(description="对象 — what it was done to, e.g. application:12")
    region_code: RegionCode | None = strawberry.field(description="区划 — where")
    reason: str | None = strawberry.field(description="原因 — why, when one was given")
    detail: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="详情 — what else the event records (by action)"
    )
    pk: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: AuditEventRow) -> Self:
        return cls(
            pk=row.id,
            at=row.at,
            actor=row.actor,
            actor_id=row.actor_id,
            action=row.action,
            target=row.target,
            region_code=RegionCode(row.region_code) if row.region_code else None,
            reason=row.reason,
            detail=row.detail,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.pk)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[AuditEventRow | None]]:
        return info.context.loaders.audit_event.load_many(keys)

    @strawberry.field(description="区划 — null if none, or outside your scope")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code.code if self.region_code else None)


@strawberry.input(description="审计记录查询条件 — filters for the audit trail")
class AuditFilter:
    region: RegionCode | None = strawberry.field(default=None, description="区划（含下级）")
    actor: strawberry.ID | None = strawberry.field(default=None, description="操作员 ID")
    action: str | None = strawberry.field(
        default=None, description="操作类型（完全相同，或以 . 结尾的前缀，如 application.）"
    )
    since: datetime | None = strawberry.field(default=None, description="自（含）")
    until: datetime | None = strawberry.field(default=None, description="至（不含）")


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="审计记录 — the audit trail of your region (auditors), oldest first",
        permission_classes=[LoggedIn],
    )
    async def audit_events(
        self,
        info: Info,
        where: AuditFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[AuditEventNode]:
        statement = select(AuditEventRow)
        if where is not None:
            if where.region is not None:
                statement = statement.where(
                    Scope.of([where.region.prefix]).clause(AuditEventRow.region_code)
                )
            if where.actor is not None:
                operator_id = int_key_of(where.actor, "User")
                statement = statement.where(AuditEventRow.actor_id == (operator_id or -1))
            if (action := ACTION.optional(where.action)) is not None:
                statement = statement.where(
                    AuditEventRow.action.startswith(action, autoescape=True)
                    if action.endswith(".")
                    else AuditEventRow.action == action
                )
            if where.since is not None:
                statement = statement.where(AuditEventRow.at >= where.since)
            if where.until is not None:
                statement = statement.where(AuditEventRow.at < where.until)
        return await paginate(
            info,
            statement,
            AuditEventRow.id,
            first=first,
            after=after,
            to_node=AuditEventNode.of,
            key_type=lambda text: int_key(text, INT64),
        )
