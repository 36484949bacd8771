"""待遇发放 in the API: payroll runs and their pay lines, the three steps of a run, and a
person's payments."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any, Self

import strawberry
from sqlalchemy import Select, select

from jubao.errors import DomainError
from jubao.pension.benefits import payroll
from jubao.pension.benefits.payroll import LineState, PayLine, PayrollError, PayrollRun
from jubao.pension.benefits.reconciliation import reconcile
from jubao.pension.month import Month
from jubao.pension.people.persons import Person
from jubao.pension.termination.payouts import prepare_payouts
from jubao.platform.api.benefits import BasicPensionItem
from jubao.platform.api.context import Info
from jubao.platform.api.enums import (
    FundingLevel,
    PayLineKind,
    PayLineState,
    PayrollRunKind,
    PayrollRunState,
    PensionItem,
)
from jubao.platform.api.forms import register_node
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.api.jobs import JobNode
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.people import PersonNode, person_by_id
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.scalars import Money
from jubao.platform.api.user_errors import UserError, attempt
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope


@strawberry.type(description="核对项 — one figure of a run reckoned from its lines and its legs")
class ReconciliationCheck:
    name: str
    lines: Money = strawberry.field(description="按发放明细 — from the pay lines")
    ledger: Money = strawberry.field(description="按账务分录 — from the ledger's legs")
    ok: bool = strawberry.field(description="相符 — the two agree")


@strawberry.type(description="出资层级的基础养老金 — the basic pension one level funds")
class FundedAmount:
    level: FundingLevel
    amount: Money


@strawberry.type(name="PayrollRun", description="发放批次 — one county's payroll for a month")
class PayrollRunNode(KeyedNode):
    region: RegionCode = strawberry.field(description="县（区）")
    month: Month = strawberry.field(description="发放年月 — the month paid (supplementary: run)")
    kind: PayrollRunKind
    state: PayrollRunState
    lines: int = strawberry.field(description="送银行笔数 — lines to be sent")
    total: Money = strawberry.field(description="送银行金额 — their sum")
    held: int = strawberry.field(description="待补录账户笔数 — lines held without an account")
    prepared_by: str = strawberry.field(description="生成人")
    prepared_at: datetime
    reviewed_by: str | None = strawberry.field(description="审核人")
    reviewed_at: datetime | None
    released_by: str | None = strawberry.field(description="拨付人 — finance officer")
    released_at: datetime | None
    row: strawberry.Private[PayrollRun]

    @classmethod
    def of(cls, row: PayrollRun) -> Self:
        return cls(
            row=row,
            region=RegionCode(row.region_code),
            month=row.period,
            kind=payroll.RunKind(row.kind),
            state=payroll.RunState(row.state),
            lines=row.lines,
            total=Money(row.total),
            held=row.held,
            prepared_by=row.prepared_by_name,
            prepared_at=row.prepared_at,
            reviewed_by=row.reviewed_by_name,
            reviewed_at=row.reviewed_at,
            released_by=row.released_by_name,
            released_at=row.released_at,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[PayrollRun | None]]:
        return info.context.loaders.payroll_run.load_many(keys)

    @strawberry.field(description="发放明细 — the run's lines")
    async def pay_lines(
        self,
        info: Info,
        state: PayLineState | None = None,
        kind: PayLineKind | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PayLineNode]:
        statement = select(PayLine).where(PayLine.run_id == self.row.id)
        return await _lines(info, _filtered(statement, state, kind), first, after)

    @strawberry.field(description="账账相符 — the run's figures from its lines and the ledger")
    async def reconciliation(self, info: Info) -> list[ReconciliationCheck]:
        async with info.context.session() as session:
            checks = await reconcile(session, self.row.id)
        return [
            ReconciliationCheck(
                name=check.name(info.context.lang),
                lines=Money(check.lines),
                ledger=Money(check.ledger),
                ok=check.ok,
            )
            for check in checks
        ]


@strawberry.type(name="PayLine", description="发放明细 — one payment to one person")
class PayLineNode(KeyedNode):
    month: Month = strawberry.field(description="待遇所属期 — the month paid for")
    kind: PayLineKind
    state: PayLineState
    basic_pension: list[FundedAmount] = strawberry.field(description="基础养老金（分出资层级）")
    from_account: Money = strawberry.field(description="个人账户养老金（从个人账户支付）")
    from_pool: Money = strawberry.field(
        description="个人账户养老金（账户用尽后由统筹基金支付） — after the account ran out"
    )
    amount: Money = strawberry.field(description="发放金额")
    items: list[BasicPensionItem] = strawberry.field(description="基础养老金项目")
    reason: str | None = strawberry.field(description="银行失败原因 — the bank's reason")
    bank_reference: str | None = strawberry.field(description="银行流水号")
    settled_on: date | None = strawberry.field(description="发放日期 — when the bank paid")
    row: strawberry.Private[PayLine]

    @classmethod
    def of(cls, row: PayLine) -> Self:
        return cls(
            row=row,
            month=Month.of(row.month),
            kind=payroll.LineKind(row.kind),
            state=payroll.LineState(row.state),
            basic_pension=[
                FundedAmount(level=funder, amount=Money(row.basic(funder)))
                for funder in payroll.Funder
                if row.basic(funder)
            ],
            from_account=Money(row.from_account),
            from_pool=Money(row.from_pool),
            amount=Money(row.amount),
            items=[
                BasicPensionItem(
                    region_prefix=item["prefix"],
                    item=PensionItem(item["item"]),
                    amount=Money(item["amount"]),
                )
                for item in row.items
            ],
            reason=row.reason,
            bank_reference=row.bank_reference,
            settled_on=row.settled_on,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[PayLine | None]]:
        return info.context.loaders.pay_line.load_many(keys)

    @strawberry.field(description="银行账号（发放时） — the account it was sent to (masked)")
    def bank_account(self, info: Info) -> str | None:
        shown = info.context.disclosure.show(
            RegionCode(self.row.region_code),
            f"person:{self.row.person_id}",
            "bank_account",
            self.row.bank_account,
        )
        return None if shown is None else str(shown)

    @strawberry.field(description="发放批次 — the run (null if outside your scope)")
    async def run(self, info: Info) -> PayrollRunNode | None:
        row = await info.context.loaders.payroll_run.load(self.row.run_id)
        return PayrollRunNode.of(row) if row else None

    @strawberry.field(description="参保人 — the person (null if outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        return await person_by_id(info, self.row.person_id)


def _filtered(
    statement: Select[Any], state: LineState | None, kind: payroll.LineKind | None
) -> Select[Any]:
    if state is not None:
        statement = statement.where(PayLine.state == state.value)
    if kind is not None:
        statement = statement.where(PayLine.kind == kind.value)
    return statement


async def _lines(
    info: Info,
    statement: Select[Any],
    first: int,
    after: str | None,
    *,
    newest_first: bool = False,
) -> Connection[PayLineNode]:
    return await paginate(
        info,
        statement,
        PayLine.id,
        first=first,
        after=after,
        to_node=PayLineNode.of,
        key_type=lambda text: int_key(text, INT64),
        newest_first=newest_first,
    )


async def payments_of(
    info: Info, person: Person, first: int, after: str | None
) -> Connection[PayLineNode]:
    """A person's pay lines, newest first (none for those who may not read payroll there)."""
    statement = select(PayLine).where(PayLine.person_id == person.id)
    return await _lines(info, statement, first, after, newest_first=True)


async def _runs(info: Info, ids: list[int]) -> list[PayrollRunNode | None]:
    rows = await info.context.loaders.payroll_run.load_many(ids)
    return [PayrollRunNode.of(row) if row else None for row in rows]


async def _pay_lines(info: Info, ids: list[int]) -> list[PayLineNode | None]:
    rows = await info.context.loaders.pay_line.load_many(ids)
    return [PayLineNode.of(row) if row else None for row in rows]


register_node("PayrollRun", PayrollRunNode, _runs)
register_node("PayLine", PayLineNode, _pay_lines)


@strawberry.type
class PayrollQueries:
    @strawberry.field(
        description="发放批次 — payroll runs in your scope, newest first",
        permission_classes=[LoggedIn],
    )
    async def payroll_runs(
        self,
        info: Info,
        region: RegionCode | None = None,
        month: Month | None = None,
        state: PayrollRunState | None = None,
        kind: PayrollRunKind | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PayrollRunNode]:
        statement = select(PayrollRun)
        if region is not None:
            statement = statement.where(Scope.of([region.prefix]).clause(PayrollRun.region_code))
        if month is not None:
            statement = statement.where(PayrollRun.month == month.first_day)
        if state is not None:
            statement = statement.where(PayrollRun.state == state.value)
        if kind is not None:
            statement = statement.where(PayrollRun.kind == kind.value)
        return await paginate(
            info,
            statement,
            PayrollRun.id,
            first=first,
            after=after,
            to_node=PayrollRunNode.of,
            key_type=lambda text: int_key(text, INT64),
            newest_first=True,
        )

    @strawberry.field(
        description=(
            "发放明细 — pay lines in your scope (where the person lives); waiting: the failed "
            "and held lines not yet paid again, for the township to correct the bank account"
        ),
        permission_classes=[LoggedIn],
    )
    async def pay_lines(
        self,
        info: Info,
        region: RegionCode | None = None,
        month: Month | None = None,
        state: PayLineState | None = None,
        kind: PayLineKind | None = None,
        waiting: bool = False,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PayLineNode]:
        statement = _filtered(select(PayLine), state, kind)
        if region is not None:
            statement = statement.where(Scope.of([region.prefix]).clause(PayLine.region_code))
        if month is not None:
            statement = statement.where(PayLine.month == month.first_day)
        if waiting:
            statement = statement.where(
                PayLine.state.in_([LineState.FAILED.value, LineState.HELD.value]),
                ~payroll.replaced(PayLine.id),
            )
        return await _lines(info, statement, first, after)


@strawberry.input(description="生成发放批次 — prepare a county's run for a month")
class PayrollPrepareInput:
    region: RegionCode = strawberry.field(description="县（区）")
    month: Month = strawberry.field(description="发放年月")


@strawberry.input(description="补充发放 — a run of the county's failed and held lines")
class PayrollSupplementaryInput:
    region: RegionCode = strawberry.field(description="县（区）")


@strawberry.input(description="发放批次 — a run")
class PayrollRunInput:
    run: strawberry.ID = strawberry.field(description="发放批次的全局 ID")


@strawberry.type(name="PayrollError", description="发放不能进行 — why a payroll step was refused")
class PayrollUserError(UserError):
    pass


@strawberry.type(description="发放批次操作的结果 — the run, or why not")
class PayrollRunPayload:
    run: PayrollRunNode | None = None
    user_errors: list[PayrollUserError] = strawberry.field(default_factory=list)


@strawberry.type(description="全省（市）发放的后台作业 — the job preparing every county's run")
class PayrollJobPayload:
    job: JobNode | None = None
    user_errors: list[PayrollUserError] = strawberry.field(default_factory=list)


def _run_key(run: strawberry.ID) -> int:
    key = int_key_of(run, "PayrollRun", INT64)
    if key is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    return key


@strawberry.type
class PayrollMutations:
    @strawberry.mutation(
        description="生成发放批次 — prepare (agency processor: process benefit)",
        permission_classes=[LoggedIn],
    )
    async def payroll_prepare(self, info: Info, input: PayrollPrepareInput) -> PayrollRunPayload:
        context = info.context

        async def work() -> PayrollRunPayload:
            async with context.transaction() as session:
                row = await payroll.prepare(
                    session,
                    context.actor,
                    input.region,
                    input.month,
                    today=context.services.clock.today(),
                )
            return PayrollRunPayload(run=PayrollRunNode.of(row))

        return await attempt(context.lang, PayrollRunPayload, PayrollUserError, work())

    @strawberry.mutation(
        description=(
            "全省（市）统一发放 — prepare every county's run of a month under a province or "
            "city, as a background job (a county already prepared, or with nobody to pay, is "
            "passed over)"
        ),
        permission_classes=[LoggedIn],
    )
    async def payroll_prepare_all(
        self, info: Info, input: PayrollPrepareInput
    ) -> PayrollJobPayload:
        context = info.context

        async def work() -> PayrollJobPayload:
            async with context.transaction() as session:
                row = await payroll.prepare_all(
                    session,
                    context.actor,
                    input.region,
                    input.month,
                    today=context.services.clock.today(),
                )
            context.services.jobs.kick()
            return PayrollJobPayload(job=JobNode.of(row))

        return await attempt(context.lang, PayrollJobPayload, PayrollUserError, work())

    @strawberry.mutation(
        description="补充发放 — prepare a run of the failed and held lines",
        permission_classes=[LoggedIn],
    )
    async def payroll_supplementary_prepare(
        self, info: Info, input: PayrollSupplementaryInput
    ) -> PayrollRunPayload:
        context = info.context

        async def work() -> PayrollRunPayload:
            async with context.transaction() as session:
                row = await payroll.prepare_supplementary(
                    session, context.actor, input.region, today=context.services.clock.today()
                )
            return PayrollRunPayload(run=PayrollRunNode.of(row))

        return await attempt(context.lang, PayrollRunPayload, PayrollUserError, work())

    @strawberry.mutation(
        description=(
            "一次性支付批次 — a county's run of what ended insurance pays out (heirs' payments, "
            "refunds, funeral grants) not yet in a run; reviewed, released and sent to the bank "
            "like any run"
        ),
        permission_classes=[LoggedIn],
    )
    async def payroll_payouts_prepare(
        self, info: Info, input: PayrollSupplementaryInput
    ) -> PayrollRunPayload:
        context = info.context

        async def work() -> PayrollRunPayload:
            async with context.transaction() as session:
                row = await prepare_payouts(
                    session, context.actor, input.region, today=context.services.clock.today()
                )
            return PayrollRunPayload(run=PayrollRunNode.of(row))

        return await attempt(context.lang, PayrollRunPayload, PayrollUserError, work())

    @strawberry.mutation(
        description="审核发放批次 — review a prepared run (agency reviewer; not its preparer)",
        permission_classes=[LoggedIn],
    )
    async def payroll_review(self, info: Info, input: PayrollRunInput) -> PayrollRunPayload:
        context = info.context

        async def work() -> PayrollRunPayload:
            async with context.transaction() as session:
                row = await payroll.review(session, context.actor, _run_key(input.run))
            return PayrollRunPayload(run=PayrollRunNode.of(row))

        return await attempt(context.lang, PayrollRunPayload, PayrollUserError, work())

    @strawberry.mutation(
        description=(
            "拨付 — release a reviewed run to the bank (finance officer; a third person); the "
            "run is immutable from then on"
        ),
        permission_classes=[LoggedIn],
    )
    async def payroll_release(self, info: Info, input: PayrollRunInput) -> PayrollRunPayload:
        context = info.context

        async def work() -> PayrollRunPayload:
            async with context.transaction() as session:
                row = await payroll.release(
                    session,
                    context.actor,
                    _run_key(input.run),
                    today=context.services.clock.today(),
                )
            return PayrollRunPayload(run=PayrollRunNode.of(row))

        return await attempt(context.lang, PayrollRunPayload, PayrollUserError, work())
