"""Background jobs in the API: a province-wide run's progress and outcome (a `Job` node)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Self

import strawberry
from sqlalchemy import select

from jubao.jobs import Job as JobRow
from jubao.jobs import JobKind, JobState
from jubao.platform.api.context import Info
from jubao.platform.api.forms import register_node
from jubao.platform.api.ids import INT64, int_key
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.scalars import Money
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope

strawberry.enum(
    JobKind, name="JobKind", description="作业类型 — INTEREST 年度结息, PAYROLL 待遇发放（各县）"
)
strawberry.enum(
    JobState,
    name="JobState",
    description="作业状态 — QUEUED 排队中, RUNNING 进行中, DONE 已完成, FAILED 出错停止（可续做）",
)


@strawberry.type(name="Job", description="后台作业 — province-wide work done in chunks")
class JobNode(KeyedNode):
    kind: JobKind
    region: RegionCode = strawberry.field(description="作业区划")
    state: JobState
    chunks: int = strawberry.field(description="分块数")
    chunks_done: int = strawberry.field(description="已完成分块数 — progress")
    items: int = strawberry.field(description="已处理条数（账户、明细……）")
    total: Money = strawberry.field(description="已处理金额")
    error: str | None = strawberry.field(description="出错原因 — why it stopped")
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: JobRow) -> Self:
        return cls(
            pk=row.id,
            kind=JobKind(row.kind),
            region=RegionCode(row.region_code),
            state=JobState(row.state),
            chunks=row.chunks,
            chunks_done=row.chunks_done,
            items=row.items,
            total=Money(row.total),
            error=row.error,
            created_by=row.created_by,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.pk)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[JobRow | None]]:
        return info.context.loaders.job.load_many(keys)


async def _jobs(info: Info, ids: list[int]) -> list[JobNode | None]:
    rows = await info.context.loaders.job.load_many(ids)
    return [JobNode.of(row) if row else None for row in rows]


register_node("Job", JobNode, _jobs)


@strawberry.type
class JobQueries:
    @strawberry.field(
        description="后台作业 — background jobs in your scope, newest first",
        permission_classes=[LoggedIn],
    )
    async def jobs(
        self,
        info: Info,
        region: RegionCode | None = None,
        state: JobState | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[JobNode]:
        statement = select(JobRow)
        if region is not None:
            statement = statement.where(Scope.of([region.prefix]).clause(JobRow.region_code))
        if state is not None:
            statement = statement.where(JobRow.state == state.value)
        return await paginate(
            info,
            statement,
            JobRow.id,
            first=first,
            after=after,
            to_node=JobNode.of,
            key_type=lambda text: int_key(text, INT64),
            newest_first=True,
        )
