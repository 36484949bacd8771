"""Account batch runs in the API: a year's interest posting (结息批次), as finance staff and
auditors read it back."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Self

import strawberry
from sqlalchemy import select

from jubao.pension.accounts.interest import InterestRun as InterestRunRow
from jubao.platform.api.context import Info
from jubao.platform.api.forms import register_node
from jubao.platform.api.ids import INT64, int_key
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.scalars import Money, Year
from jubao.tenants.codes import RegionCode


@strawberry.type(name="InterestRun", description="结息批次 — one posting of a year's interest")
class InterestRunNode(KeyedNode):
    year: Year = strawberry.field(description="结息年度")
    region_code: RegionCode = strawberry.field(description="结息区划 — the region it covers")
    actor: str = strawberry.field(description="经办 — who ran it")
    started_at: datetime
    finished_at: datetime | None = strawberry.field(
        description="完成时间 — null while unfinished (running it again completes it)"
    )
    accounts: int = strawberry.field(description="计息账户数 — accounts credited by this run")
    total: Money = strawberry.field(description="利息合计 — interest credited by this run")
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, row: InterestRunRow) -> Self:
        return cls(
            pk=row.id,
            year=Year(row.year),
            region_code=RegionCode(row.region_code),
            actor=row.actor,
            started_at=row.started_at,
            finished_at=row.finished_at,
            accounts=row.accounts,
            total=Money(row.total),
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.pk)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[InterestRunRow | None]]:
        return info.context.loaders.interest_run.load_many(keys)


async def _runs(info: Info, ids: list[int]) -> list[InterestRunNode | None]:
    rows = await info.context.loaders.interest_run.load_many(ids)
    return [InterestRunNode.of(row) if row else None for row in rows]


register_node("InterestRun", InterestRunNode, _runs)


@strawberry.type
class AccountQueries:
    @strawberry.field(
        description=(
            "结息批次 — interest runs in your scope, in the order they began (each states what "
            "it credited, an interrupted one too)"
        ),
        permission_classes=[LoggedIn],
    )
    async def interest_runs(
        self,
        info: Info,
        year: Year | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[InterestRunNode]:
        statement = select(InterestRunRow)
        if year is not None:
            statement = statement.where(InterestRunRow.year == int(year))
        return await paginate(
            info,
            statement,
            InterestRunRow.id,
            first=first,
            after=after,
            to_node=InterestRunNode.of,
            key_type=lambda text: int_key(text, INT64),
        )
