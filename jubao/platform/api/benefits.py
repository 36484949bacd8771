"""待遇 in the API: the award (待遇核定表) of a person, its figures before a claim is made,
and the monthly notice list of people reaching the pension age."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Self

import strawberry

from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError
from jubao.pension.benefits import rules
from jubao.pension.benefits.award import Award, assess_award
from jubao.pension.benefits.due import due_statement
from jubao.pension.month import Month
from jubao.pension.people.persons import Person, PersonError, visible_person
from jubao.platform.api.context import Info
from jubao.platform.api.enums import AccountComponent, PensionItem
from jubao.platform.api.forms import register_node
from jubao.platform.api.ids import INT64, int_key_of
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First
from jubao.platform.api.people import PersonNode, person_by_id, person_page
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.scalars import Money
from jubao.platform.api.user_errors import UserError, attempt
from jubao.tenants.codes import RegionCode


@strawberry.type(description="基础养老金的一项 — one item of one level's layer")
class BasicPensionItem:
    region_prefix: str = strawberry.field(
        description='出资层级的区划前缀（"" 为国家） — the funding level ("" national)'
    )
    item: PensionItem
    amount: Money = strawberry.field(description="每月金额 — a month")


@strawberry.type(description="核定时的账户余额 — the account balance of one component at award")
class AwardBalance:
    component: AccountComponent
    balance: Money


@strawberry.type(description="待遇核定数 — what an award states (all amounts a month)")
class AwardFigures:
    transitional: bool = strawberry.field(
        description="制度实施时已到龄（只领基础养老金） — of age when the county's scheme began"
    )
    start_month: Month = strawberry.field(description="待遇开始年月 — the first month paid")
    years_paid: int = strawberry.field(description="累计缴费年限")
    years_required: int = strawberry.field(description="应缴年限 — years required")
    years_for_topup: int = strawberry.field(
        description="计算年限加发的缴费年限（到龄后一次性补缴的年度不计）"
    )
    balances: list[AwardBalance] = strawberry.field(description="个人账户储存额（分项）")
    account_total: Money = strawberry.field(description="个人账户储存额合计")
    divisor: int = strawberry.field(description="计发月数")
    account_pension: Money = strawberry.field(description="个人账户养老金")
    basic_pension_items: list[BasicPensionItem] = strawberry.field(
        description="基础养老金（分层级、分项目）"
    )
    basic_pension: Money = strawberry.field(description="基础养老金合计")
    monthly: Money = strawberry.field(description="月养老金 — basic + account pension")
    eligible: strawberry.Private[date]
    region: strawberry.Private[RegionCode]
    person_id: strawberry.Private[int]

    @strawberry.field(
        description=(
            "符合领取条件日期（无个人敏感信息权限时为空：多为到龄之日，即出生日期） — null "
            "without the personal-data right (it is mostly the 60th birthday)"
        )
    )
    def eligible_on(self, info: Info) -> date | None:
        return info.context.disclosure.show_date(
            self.region, f"person:{self.person_id}", self.eligible
        )

    @classmethod
    def of(cls, found: rules.Figures, region: RegionCode, person_id: int) -> Self:
        return cls(
            region=region,
            person_id=person_id,
            eligible=found.eligible_on,
            transitional=found.transitional,
            start_month=found.start,
            years_paid=found.years.paid,
            years_required=found.years.required,
            years_for_topup=found.years.for_topup,
            balances=[
                AwardBalance(component=c, balance=Money(amount))
                for c, amount in sorted(found.balances.items())
            ],
            account_total=Money(found.account_total),
            divisor=found.divisor,
            account_pension=Money(found.account_pension),
            basic_pension_items=[
                BasicPensionItem(
                    region_prefix=line.prefix, item=line.item, amount=Money(line.amount)
                )
                for line in found.lines
            ],
            basic_pension=Money(found.basic_pension),
            monthly=Money(found.monthly),
        )


@strawberry.type(
    name="BenefitAward",
    description="待遇核定表 — an approved award, never edited: a correction is a new version",
)
class BenefitAwardNode(KeyedNode):
    awarded_at: datetime = strawberry.field(description="核定时间")
    awarded_by: str = strawberry.field(description="复核人 — who approved it")
    effective_month: Month = strawberry.field(
        description="执行月份 — the first month these figures pay (the start, or a correction's)"
    )
    reason: str | None = strawberry.field(description="更正原因 — a correction's (else null)")
    row: strawberry.Private[Award]

    @classmethod
    def of(cls, row: Award) -> Self:
        return cls(
            row=row,
            awarded_at=row.awarded_at,
            awarded_by=row.awarded_by,
            effective_month=Month.of(row.effective_month),
            reason=row.reason,
        )

    @strawberry.field(description="更正前的版本 — the version this one corrects (null: the first)")
    async def corrects(self, info: Info) -> BenefitAwardNode | None:
        if self.row.corrects_id is None:
            return None
        row = await info.context.loaders.award.load(self.row.corrects_id)
        return BenefitAwardNode.of(row) if row else None

    @strawberry.field(description="核定数 — the figures")
    def figures(self) -> AwardFigures:
        return AwardFigures.of(
            self.row.figures, RegionCode(self.row.region_code), self.row.person_id
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[Award | None]]:
        return info.context.loaders.award.load_many(keys)

    @strawberry.field(description="参保人 — the person (null if outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        return await person_by_id(info, self.row.person_id)


async def _awards(info: Info, ids: list[int]) -> list[BenefitAwardNode | None]:
    rows = await info.context.loaders.award.load_many(ids)
    return [BenefitAwardNode.of(row) if row else None for row in rows]


register_node("BenefitAward", BenefitAwardNode, _awards)


async def award_of(info: Info, person: Person) -> BenefitAwardNode | None:
    """The person's award, for those who may read benefits where they live."""
    if not info.context.actor.can(Obj.BENEFIT, Act.READ, person.region):
        return None
    row = await info.context.loaders.award_of.load(person.id)
    return BenefitAwardNode.of(row) if row else None


@strawberry.type(name="AwardError", description="待遇核定条件不符 — why no pension can be awarded")
class AwardUserError(UserError):
    pass


@strawberry.type(description="待遇测算 — the figures an award would state today, or why not")
class BenefitAwardPreview:
    figures: AwardFigures | None = None
    user_errors: list[AwardUserError] = strawberry.field(default_factory=list)


@strawberry.type
class BenefitQueries:
    @strawberry.field(
        description=(
            "待遇测算 — run every check of a pension claim for a person and compute the award's "
            "figures from the records as they are today (nothing is stored); the approval "
            "computes them again"
        ),
        permission_classes=[LoggedIn],
    )
    async def benefit_award_preview(self, info: Info, person: strawberry.ID) -> BenefitAwardPreview:
        context = info.context

        async def work() -> BenefitAwardPreview:
            key = int_key_of(person, "Person", INT64)
            if key is None:
                raise DomainError(PersonError.NOT_FOUND, field="person")
            async with context.session() as session:
                row = await visible_person(session, key)
                if not context.actor.can(Obj.BENEFIT, Act.READ, row.region):
                    raise DomainError(PersonError.NOT_FOUND, field="person")
                found = await assess_award(session, row, context.services.clock.today())
            return BenefitAwardPreview(figures=AwardFigures.of(found, row.region, row.id))

        return await attempt(context.lang, BenefitAwardPreview, AwardUserError, work())

    @strawberry.field(
        description=(
            "领取待遇通知表 — the people of a region (in your scope) who reach the pension age in "
            "a month and have no pension yet; printed the month before, as a file at "
            "/benefits/due/{region}/{month}.xlsx"
        ),
        permission_classes=[LoggedIn],
    )
    async def pension_due(
        self,
        info: Info,
        region: RegionCode,
        month: Month,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PersonNode]:
        async with info.context.session() as session:
            statement = await due_statement(session, region, month)
        return await person_page(info, statement, first, after)
