"""Request-scoped DataLoaders: one query per kind of object per request, not one per row."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from jubao.audit import AuditEvent
from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule, Grant, grant_of, subject
from jubao.jobs import Job
from jubao.orm import among
from jubao.pension.accounts.contributions import Contribution
from jubao.pension.accounts.interest import InterestRun
from jubao.pension.accounts.ledger import Statement
from jubao.pension.accounts.ledger import balances as ledger_balances
from jubao.pension.accounts.ledger import statements as ledger_statements
from jubao.pension.benefits.award import Award, replaced
from jubao.pension.benefits.payroll import PayLine, PayrollRun
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.verification import Verification
from jubao.pension.people.persons import Person, PersonEvent
from jubao.pension.policy.params import PolicyBook
from jubao.pension.termination.deaths import DeathReport
from jubao.pension.termination.recovery import RecoveryOrder
from jubao.pension.termination.termination import Termination
from jubao.pension.workflow.applications import Application, ApplicationReview
from jubao.tenants.models import Region
from jubao.tenants.scope import unscoped

if TYPE_CHECKING:
    from jubao.platform.api.context import Context

K = TypeVar("K")
V = TypeVar("V")


def known(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The value at once if ``loader`` already holds it (preloaded, or loaded earlier in the
    request), else the awaitable load: a field resolved from what is known costs no task."""
    loaded = loader.cache_map.get(key)
    if loaded is not None and loaded.done() and loaded.exception() is None:
        return loaded.result()
    return loader.load(key)


class Loaders:
    """Each batch opens its own session: loaders run concurrently with resolvers."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self.person = DataLoader[int, Person | None](self._persons)
        self.balances = DataLoader[int, dict[str, int]](self._balances)
        self.statement = DataLoader[tuple[int, int], Statement](self._statements)
        self.contributions = DataLoader[int, list[Contribution]](self._contributions)
        self.contribution = DataLoader[int, Contribution | None](self._contributions_by_id)
        self.interest_run = DataLoader[int, InterestRun | None](self._interest_runs)
        self.award = DataLoader[int, Award | None](self._awards)
        self.award_of = DataLoader[int, Award | None](self._awards_of)
        self.job = DataLoader[int, Job | None](self._jobs)
        self.payroll_run = DataLoader[int, PayrollRun | None](self._payroll_runs)
        self.pay_line = DataLoader[int, PayLine | None](self._pay_lines)
        self.audit_event = DataLoader[int, AuditEvent | None](self._audit_events)
        self.holder = DataLoader[int, Operator | None](self._holders)
        self.applications = DataLoader[int, list[Application]](self._applications)
        self.application = DataLoader[int, Application | None](self._applications_by_id)
        self.events = DataLoader[int, list[PersonEvent]](self._events)
        self.holds = DataLoader[int, list[BenefitHold]](self._holds)
        self.verifications = DataLoader[int, list[Verification]](self._verifications)
        self.terminations = DataLoader[int, list[Termination]](self._terminations)
        self.recovery_orders = DataLoader[int, list[RecoveryOrder]](self._recovery_orders)
        self.death_reports = DataLoader[int, list[DeathReport]](self._death_reports)
        self._policies: asyncio.Task[PolicyBook] | None = None
        self.reviews = DataLoader[int, list[ApplicationReview]](self._reviews)
        self.region = DataLoader[str, Region | None](self._regions)
        self.operator = DataLoader[int, Operator | None](self._operators)
        self.grants = DataLoader[int, list[Grant]](self._grants)
        self.grant = DataLoader[int, Grant | None](self._grants_by_id)

    def policies(self) -> Awaitable[PolicyBook]:
        """The policy sets, read once per request (the fifty people of a page ask at once)."""
        if self._policies is None:
            self._policies = asyncio.ensure_future(self._read_policies())
        return self._policies

    async def _read_policies(self) -> PolicyBook:
        async with self._context.session() as session:
            return await PolicyBook(session).load()

    def _among(self, column: Any, values: list[Any]) -> Any:
        return among(column, values, self._context.services.db.engine.dialect.name)

    async def _regions(self, codes: list[str]) -> list[Region | None]:
        return await self._by_key(Region.code, codes)

    async def _operators(self, ids: list[int]) -> list[Operator | None]:
        return await self._by_key(Operator.id, ids)

    async def _awards(self, ids: list[int]) -> list[Award | None]:
        return await self._by_key(Award.id, ids)

    async def _awards_of(self, person_ids: list[int]) -> list[Award | None]:
        """Each person's award in force: the version no correction replaces."""
        async with self._context.session() as session:
            rows = await session.scalars(
                select(Award).where(self._among(Award.person_id, person_ids), ~replaced(Award.id))
            )
            found = {row.person_id: row for row in rows}
        return [found.get(p) for p in person_ids]

    async def _jobs(self, ids: list[int]) -> list[Job | None]:
        return await self._by_key(Job.id, ids)

    async def _payroll_runs(self, ids: list[int]) -> list[PayrollRun | None]:
        return await self._by_key(PayrollRun.id, ids)

    async def _pay_lines(self, ids: list[int]) -> list[PayLine | None]:
        return await self._by_key(PayLine.id, ids)

    async def _by_key(self, column: Any, keys: list[Any]) -> list[Any]:
        """The rows whose ``column`` is each of ``keys`` (None where there is none)."""
        async with self._context.session() as session:
            rows = await session.scalars(select(column.class_).where(self._among(column, keys)))
            found = {getattr(row, column.key): row for row in rows}
        return [found.get(k) for k in keys]

    async def _per_person(self, model: Any, person_ids: list[int], *order: Any) -> list[list[Any]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(model).where(self._among(model.person_id, person_ids)).order_by(*order)
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                grouped[row.person_id].append(row)
        return [grouped[p] for p in person_ids]

    async def _holds(self, person_ids: list[int]) -> list[list[BenefitHold]]:
        return await self._per_person(BenefitHold, person_ids, BenefitHold.id)

    async def _verifications(self, person_ids: list[int]) -> list[list[Verification]]:
        return await self._per_person(
            Verification, person_ids, Verification.verified_on, Verification.id
        )

    async def _terminations(self, person_ids: list[int]) -> list[list[Termination]]:
        return await self._per_person(Termination, person_ids, Termination.id)

    async def _recovery_orders(self, person_ids: list[int]) -> list[list[RecoveryOrder]]:
        return await self._per_person(RecoveryOrder, person_ids, RecoveryOrder.id)

    async def _death_reports(self, person_ids: list[int]) -> list[list[DeathReport]]:
        return await self._per_person(DeathReport, person_ids, DeathReport.id)

    async def _persons(self, ids: list[int]) -> list[Person | None]:
        return await self._by_key(Person.id, ids)

    async def _applications_by_id(self, ids: list[int]) -> list[Application | None]:
        return await self._by_key(Application.id, ids)

    async def _audit_events(self, ids: list[int]) -> list[AuditEvent | None]:
        return await self._by_key(AuditEvent.id, ids)

    async def _holders(self, ids: list[int]) -> list[Operator | None]:
        """The operators holding grants the caller may see, wherever they are homed: who holds
        power in one's region is what a grant list is for (unscoped, by id)."""
        table = unscoped(Operator)
        async with self._context.session() as session:
            rows = await session.execute(select(table).where(self._among(table.c.id, ids)))
            found = {row.id: Operator(**row._mapping) for row in rows}
        return [found.get(i) for i in ids]

    async def _interest_runs(self, ids: list[int]) -> list[InterestRun | None]:
        return await self._by_key(InterestRun.id, ids)

    async def _contributions_by_id(self, ids: list[int]) -> list[Contribution | None]:
        return await self._by_key(Contribution.id, ids)

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

    async def _statements(self, keys: list[tuple[int, int]]) -> list[Statement]:
        """Statements by (person, year): one pair of queries for each year asked."""
        years: dict[int, list[int]] = defaultdict(list)
        for person_id, year in keys:
            years[year].append(person_id)
        found: dict[tuple[int, int], Statement] = {}
        async with self._context.session() as session:
            for year, person_ids in years.items():
                for person_id, result in (
                    await ledger_statements(session, person_ids, year)
                ).items():
                    found[person_id, year] = result
        return [found[key] for key in keys]

    async def preload_balances(self, person_ids: list[int]) -> None:
        """Fill ``balances`` for a page in one query, without a future per person."""
        found = await self._balances(person_ids)
        self.balances.prime_many(dict(zip(person_ids, found, strict=True)))

    async def _reviews(self, application_ids: list[int]) -> list[list[ApplicationReview]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(ApplicationReview)
                .where(self._among(ApplicationReview.application_id, application_ids))
                .order_by(ApplicationReview.step)
            )
            grouped: dict[int, list[ApplicationReview]] = defaultdict(list)
            for row in rows:
                grouped[row.application_id].append(row)
        return [grouped[a] for a in application_ids]

    async def _grants_by_id(self, ids: list[int]) -> list[Grant | None]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(CasbinRule).where(CasbinRule.ptype == "g", self._among(CasbinRule.id, ids))
            )
            found = {row.id: grant_of(row) for row in rows}
        return [found.get(i) for i in ids]

    async def _grants(self, user_ids: list[int]) -> list[list[Grant]]:
        async with self._context.session() as session:
            rows = await session.scalars(
                select(CasbinRule)
                .where(
                    CasbinRule.ptype == "g",
                    self._among(CasbinRule.v0, [subject(u) for u in user_ids]),
                )
                .order_by(CasbinRule.id)
            )
            by_user: dict[int, list[Grant]] = defaultdict(list)
            for row in rows:
                grant = grant_of(row)
                by_user[grant.user_id].append(grant)
        return [by_user[u] for u in user_ids]
