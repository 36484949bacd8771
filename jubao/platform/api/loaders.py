"""Request-scoped DataLoaders: one query per kind of object per request, not one per row."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule, Grant, grant_of, subject
from jubao.pension.applications import Application, ApplicationReview
from jubao.pension.contributions import Contribution
from jubao.pension.ledger import balances as ledger_balances
from jubao.pension.people import Person, PersonEvent, record_unmasked_reads
from jubao.tenants.models import Region

if TYPE_CHECKING:
    from jubao.platform.api.context import Context


class Loaders:
    """Each batch opens its own session: loaders run concurrently with resolvers."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.person = DataLoader[int, Person | None](self._persons)
        self.balances = DataLoader[int, dict[str, int]](self._balances)
        self.contributions = DataLoader[int, list[Contribution]](self._contributions)
        self.applications = DataLoader[int, list[Application]](self._applications)
        self.application = DataLoader[int, Application | None](self._applications_by_id)
        self.events = DataLoader[int, list[PersonEvent]](self._events)
        self.reviews = DataLoader[int, list[ApplicationReview]](self._reviews)
        self.reveal = DataLoader[tuple[str, str], bool](self._reveal)
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

    async def _by_id(self, model: Any, ids: list[int]) -> list[Any]:
        async with self._context.session() as session:
            found = {
                row.id: row for row in await session.scalars(select(model).where(model.id.in_(ids)))
            }
        return [found.get(i) for i in ids]

    async def _per_person(self, model: Any, person_ids: list[int], *order: Any) -> list[list[Any]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(model).where(model.person_id.in_(person_ids)).order_by(*order)
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                grouped[row.person_id].append(row)
        return [grouped[p] for p in person_ids]

    async def _persons(self, ids: list[int]) -> list[Person | None]:
        return await self._by_id(Person, ids)

    async def _applications_by_id(self, ids: list[int]) -> list[Application | None]:
        return await self._by_id(Application, ids)

    async def _contributions(self, person_ids: list[int]) -> list[list[Contribution]]:
        return await self._per_person(Contribution, person_ids, Contribution.year)

    async def _applications(self, person_ids: list[int]) -> list[list[Application]]:
        return await self._per_person(Application, person_ids, Application.id)

    async def _events(self, person_ids: list[int]) -> list[list[PersonEvent]]:
        return await self._per_person(PersonEvent, person_ids, PersonEvent.id)

    async def _balances(self, person_ids: list[int]) -> list[dict[str, int]]:
        async with self._context.session() as session:
            found = await ledger_balances(session, person_ids)
        return [found[p] for p in person_ids]

    async def _reviews(self, application_ids: list[int]) -> list[list[ApplicationReview]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(ApplicationReview)
                .where(ApplicationReview.application_id.in_(application_ids))
                .order_by(ApplicationReview.step)
            )
            grouped: dict[int, list[ApplicationReview]] = defaultdict(list)
            for row in rows:
                grouped[row.application_id].append(row)
        return [grouped[a] for a in application_ids]

    async def _reveal(self, keys: list[tuple[str, str]]) -> list[bool]:
        """Every unmasked read of personal data is recorded: one audit event per batch."""
        context = self._context
        async with context.transaction() as session:
            await record_unmasked_reads(
                session, context.actor, [p for p, _ in keys], [f for _, f in keys]
            )
        return [True] * len(keys)

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
