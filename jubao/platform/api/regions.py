"""Regions: the tree an operator browses, limited to their read scope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Self

import strawberry
from sqlalchemy import select
from strawberry import relay

from jubao.authz.vocabulary import Act, Obj
from jubao.platform.api.context import Info
from jubao.platform.api.enums import RegionLevel
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.permissions import LoggedIn
from jubao.tenants import models
from jubao.tenants.codes import Level, RegionCode


@strawberry.type(name="Region", description="行政区划 — administrative region")
class Region(relay.Node):
    code: RegionCode = strawberry.field(description="区划代码 — statistical code")
    name: str = strawberry.field(description="名称 — name")
    level: RegionLevel = strawberry.field(description="级别 — level")
    urban_rural_class: str | None = strawberry.field(
        description="城乡分类代码 — urban-rural class (111 主城区 … 220 村庄), villages only"
    )
    valid_from: date = strawberry.field(description="启用日期 — in use since")
    valid_to: date | None = strawberry.field(description="撤销日期 — abolished on, if abolished")
    parent_code: strawberry.Private[str | None]

    @classmethod
    def of(cls, row: models.Region) -> Self:
        return cls(
            code=RegionCode(row.code),
            name=row.name,
            level=Level(row.level),
            urban_rural_class=row.urban_rural_class,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            parent_code=row.parent_code,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return root.code.code

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one signature for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await info.context.loaders.region.load_many(list(node_ids))
        return [cls.of(row) if row else None for row in rows]

    @strawberry.field(description="上级区划 — parent (null if outside your scope)")
    async def parent(self, info: Info) -> Region | None:
        return await region_by_code(info, self.parent_code)

    @strawberry.field(description="下级区划 — the children in your scope, by code")
    async def children(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[Region]:
        statement = select(models.Region).where(models.Region.parent_code == self.code.code)
        return await paginate(
            info, statement, models.Region.code, first=first, after=after, to_node=Region.of
        )


async def region_by_code(info: Info, code: str | None) -> Region | None:
    if code is None:
        return None
    row = await info.context.loaders.region.load(code)
    return Region.of(row) if row else None


@strawberry.type
class RegionQueries:
    @strawberry.field(
        description="按代码查询区划；不在您的范围内时为 null — a region by code",
        permission_classes=[LoggedIn],
    )
    async def region(self, info: Info, code: RegionCode) -> Region | None:
        return await region_by_code(info, code.code)

    @strawberry.field(
        description=(
            "浏览区划 — browse regions: the children of `parent`, or every region of `level`, "
            "or (with neither) the top regions of your scope"
        ),
        permission_classes=[LoggedIn],
    )
    async def regions(
        self,
        info: Info,
        parent: RegionCode | None = None,
        level: RegionLevel | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Region]:
        actor = info.context.actor
        statement = select(models.Region)
        if parent is not None:
            statement = statement.where(models.Region.parent_code == parent.code)
        if level is not None:
            statement = statement.where(models.Region.level == int(level))
        if parent is None and level is None:
            scope = actor.scope(Obj.REGION, Act.READ)
            roots = sorted(p.ljust(12, "0") for p in scope.prefixes) if scope is not None else []
            statement = statement.where(
                models.Region.code.in_(roots) if scope is not None else models.Region.level == 1
            )
        return await paginate(
            info, statement, models.Region.code, first=first, after=after, to_node=Region.of
        )
