"""注销 in the API: a person's ended insurance and its figures (the 注销登记表), what they owe
back, and the deaths reported of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry

from jubao.authz.vocabulary import Act, Obj
from jubao.pension.month import Month
from jubao.pension.people.persons import Person
from jubao.pension.termination.deaths import DeathReport, DeathSource, suspected_statement
from jubao.pension.termination.duplicates import duplicates_statement
from jubao.pension.termination.reasons import RefundScope, TerminationReason
from jubao.pension.termination.recovery import RecoveryCause, RecoveryOrder
from jubao.pension.termination.termination import Termination
from jubao.platform.api.context import Info
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First
from jubao.platform.api.people import ComponentBalance, PersonNode, component_list, person_page
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.scalars import Money
from jubao.tenants.codes import RegionCode


@strawberry.type(name="Termination", description="注销登记表 — an ended insurance and its figures")
class TerminationNode:
    reason: TerminationReason
    local_reason: str | None = strawberry.field(description="本地注销原因代码（LOCAL）")
    died_on: date | None = strawberry.field(description="死亡日期")
    proof: str = strawberry.field(description="证明材料")
    scope: RefundScope = strawberry.field(description="支付范围（按原因、死亡日期的政策）")
    balances: list[ComponentBalance] = strawberry.field(description="注销时的账户储存额")
    refund: Money = strawberry.field(description="个人账户余额支付")
    to_pool: Money = strawberry.field(description="划回统筹基金")
    funeral: Money = strawberry.field(description="丧葬补助金")
    overpaid: Money = strawberry.field(description="应追回金额")
    recovered: Money = strawberry.field(description="从支付中扣回")
    payout: Money = strawberry.field(description="实际支付（领款人）")
    terminated_at: datetime = strawberry.field(description="注销时间")
    terminated_by: str = strawberry.field(description="复核人")

    @classmethod
    def of(cls, row: Termination) -> Self:
        return cls(
            reason=TerminationReason(row.reason),
            local_reason=row.local_reason,
            died_on=row.died_on,
            proof=row.proof,
            scope=RefundScope(row.scope),
            balances=component_list(row.balances),
            refund=Money(row.refund),
            to_pool=Money(row.to_pool),
            funeral=Money(row.funeral),
            overpaid=Money(row.overpaid),
            recovered=Money(row.recovered),
            payout=Money(row.payout),
            terminated_at=row.terminated_at,
            terminated_by=row.terminated_by,
        )


@strawberry.type(
    name="RecoveryOrder", description="追回单 — what is owed back, and how much is settled"
)
class RecoveryOrderNode:
    number: int = strawberry.field(description="追回单编号（缴回时填写）")
    cause: str = strawberry.field(description="原因")
    overpaid: Money = strawberry.field(description="应追回待遇")
    fine: Money = strawberry.field(description="罚款")
    recovered: Money = strawberry.field(description="已追回（先待遇后罚款）")
    outstanding: Money = strawberry.field(description="尚欠")
    made_on: date = strawberry.field(description="立单日期")
    settled_on: date | None = strawberry.field(description="结清日期")

    @classmethod
    def of(cls, row: RecoveryOrder) -> Self:
        return cls(
            number=row.id,
            cause=RecoveryCause(row.cause).text.zh,
            overpaid=Money(row.overpaid),
            fine=Money(row.fine),
            recovered=Money(row.recovered),
            outstanding=Money(row.outstanding),
            made_on=row.made_on,
            settled_on=row.settled_on,
        )


@strawberry.type(name="DeathReport", description="死亡信息 — one source's word of a death")
class DeathReportNode:
    source: str = strawberry.field(description="来源（村镇报告、公安户籍注销、民政火化）")
    died_on: date = strawberry.field(description="死亡日期")
    died_month: Month = strawberry.field(description="死亡年月")
    file: str | None = strawberry.field(description="来源文件")
    recorded_at: datetime = strawberry.field(description="记录时间")

    @classmethod
    def of(cls, row: DeathReport) -> Self:
        return cls(
            source=DeathSource(row.source).text.zh,
            died_on=row.died_on,
            died_month=Month.of(row.died_on),
            file=row.file,
            recorded_at=row.recorded_at,
        )


async def termination_of(info: Info, person: Person) -> TerminationNode | None:
    if not info.context.actor.can(Obj.TERMINATION, Act.READ, person.region):
        return None
    rows = await info.context.loaders.terminations.load(person.id)
    return TerminationNode.of(rows[-1]) if rows else None


async def recovery_orders_of(info: Info, person: Person) -> list[RecoveryOrderNode]:
    if not info.context.actor.can(Obj.BENEFIT, Act.READ, person.region):
        return []
    return [
        RecoveryOrderNode.of(r) for r in await info.context.loaders.recovery_orders.load(person.id)
    ]


async def death_reports_of(info: Info, person: Person) -> list[DeathReportNode]:
    if not info.context.actor.can(Obj.TERMINATION, Act.READ, person.region):
        return []
    rows = await info.context.loaders.death_reports.load(person.id)
    return [DeathReportNode.of(r) for r in rows]


@strawberry.type
class TerminationQueries:
    @strawberry.field(
        description=(
            "疑似死亡人员 — a region's people (in your scope) some source reported dead whose "
            "insurance has not ended: to be confirmed by a termination or refuted by a resumption"
        ),
        permission_classes=[LoggedIn],
    )
    async def suspected_deaths(
        self, info: Info, region: RegionCode, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[PersonNode]:
        return await person_page(info, suspected_statement(region), first, after)

    @strawberry.field(
        description=(
            "重复领取名单 — a region's recipients (in your scope) whom the employees'-scheme "
            "list shows receiving a pension there: each to be cleared by a termination for "
            "OTHER_PENSION"
        ),
        permission_classes=[LoggedIn],
    )
    async def pension_duplicates(
        self, info: Info, region: RegionCode, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[PersonNode]:
        return await person_page(info, duplicates_statement(region), first, after)
