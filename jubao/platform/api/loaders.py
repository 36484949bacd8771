"""Request-scoped DataLoaders: one query per kind of object per request, not one per row."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule, Grant, grant_of, subject
from jubao.tenants.models import Region

if TYPE_CHECKING:
    from jubao.platform.api.context import Context


class Loaders:
    """Each batch opens its own session: loaders run concurrently with resolvers."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.region = DataLoader[str, Region | None](self._regions)
        self.operator = DataLoader[int, Operator | None](self._operators)
        self.grants = DataLoader[int, list[Grant]](self._grants)
        self.grant = DataLoader[int, Grant | None](self._grants_by_id)

    async def _regions(self, codes: list[str]) -> list[Region | None]:
        async with self._context.session() as session:
            found = {
                r.code: r
                for r in await session.scalars(select(Region).where(Region.code.in_(codes)))
            }
        return [found.get(code) for code in codes]

    async def _operators(self, ids: list[int]) -> list[Operator | None]:
        async with self._context.session() as session:
            found = {
                o.id: o for o in await session.scalars(select(Operator).where(Operator.id.in_(ids)))
            }
        return [found.get(i) for i in ids]

    async def _grants_by_id(self, ids: list[int]) -> list[Grant | None]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(CasbinRule).where(CasbinRule.ptype == "g", CasbinRule.id.in_(ids))
            )
            found = {row.id: grant_of(row) for row in rows}
        return [found.get(i) for i in ids]

    async def _grants(self, user_ids: list[int]) -> list[list[Grant]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(CasbinRule)
                .where(CasbinRule.ptype == "g", CasbinRule.v0.in_([subject(u) for u in user_ids]))
                .order_by(CasbinRule.id)
            )
            by_user: dict[int, list[Grant]] = defaultdict(list)
            for row in rows:
                grant = grant_of(row)
                by_user[grant.user_id].append(grant)
        return [by_user[u] for u in user_ids]
