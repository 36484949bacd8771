"""The rules in force for a region and year, for the forms that need them (the grade picker,
the subsidy a grade earns, the special groups, the review chains) and for people to read."""

from __future__ import annotations

from typing import Self

import strawberry

from jubao.pension.month import Month
from jubao.pension.policy import params as rules
from jubao.pension.workflow.applications import Kind
from jubao.pension.workflow.engine import review_levels
from jubao.platform.api.context import Info
from jubao.platform.api.enums import ApplicationKind, RegionLevel
from jubao.platform.api.errors import Problem, problem
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.scalars import Money, Year
from jubao.tenants.codes import Level, RegionCode


@strawberry.type(description="缴费补贴档 — the subsidy from a grade up")
class SubsidyBracket:
    grade: Money = strawberry.field(description="自该档次起 — from this grade")
    rural: Money = strawberry.field(description="农业户籍每年补贴")
    urban: Money = strawberry.field(description="非农业户籍每年补贴")


@strawberry.type(description="补贴分担比例 — how the subsidy is shared")
class SubsidySplit:
    province: int
    city: int
    county: int


@strawberry.type(description="参保身份 — a special-group code")
class SpecialGroup:
    code: str
    name: str
    hardship_share: str = strawberry.field(
        description=(
            "政府代缴最低档次的比例 — the share of the minimum grade the government pays "
            '("1" all of it, "0" none)'
        )
    )
    hardship_payment: Money = strawberry.field(description="政府代缴金额 — what it pays a year")


@strawberry.type(description="补缴规则 — back-payment rules")
class BackPaymentRules:
    max_years: int = strawberry.field(description="累计最多补缴年数")
    subsidy: bool = strawberry.field(description="补缴年度是否享受政府补贴")


@strawberry.type(description="计息办法 — how interest is credited")
class InterestRules:
    rate: str = strawberry.field(
        description='上年结转额的年利率 — rate on the balance brought forward ("0.015")'
    )
    current_rate: str = strawberry.field(
        description="当年记账额的年利率 — rate on this year's credits"
    )
    current_year_credits: str = strawberry.field(
        description="当年记账额计息方式 — none | months_remaining"
    )
    rounding: str = strawberry.field(description="舍入 — half_up (到分) | jiao_up (见分进角)")


@strawberry.type(description="高龄加发档 — from this age on, this much a month")
class AgeTopUp:
    from_age: int
    monthly: Money


@strawberry.type(
    description="缴费年限加发段 — each year up to upTo (every further year when null) adds perYear"
)
class YearsBand:
    up_to: int | None
    per_year: Money


@strawberry.type(description="基础养老金的一层 — what one level adds per month")
class BasicPensionLayer:
    region_prefix: str = strawberry.field(
        description='区划前缀（"" 为国家） — "" for the national minimum'
    )
    monthly: Money
    age_topups: list[AgeTopUp] = strawberry.field(description="高龄加发（取已达到的最高档）")
    years_topup: list[YearsBand] = strawberry.field(description="缴费年限加发（长缴多得）")


@strawberry.type(description="基础养老金 — the basic pension per person and month")
class BasicPension:
    monthly: Money = strawberry.field(description="合计 — the layers added up")
    layers: list[BasicPensionLayer]


@strawberry.type(description="审核流程 — the review chain of a kind of application")
class ReviewChain:
    kind: ApplicationKind
    steps: list[str] = strawberry.field(
        description="审核层级，依次 — province | city | county | township | region (its own level)"
    )
    levels: list[RegionLevel] = strawberry.field(
        description="对本区划的申请实际经过的层级 — the levels an application placed here passes"
    )


@strawberry.type(
    name="PolicyRules", description="政策参数 — the rules in force for a region and year"
)
class PolicyRules:
    region: Region
    year: Year
    month: int = strawberry.field(description="月份 — the month asked (1 unless given)")
    min_age: int = strawberry.field(description="最低参保年龄")
    grades: list[Money] = strawberry.field(description="缴费档次 — the grades to choose from")
    aid_cap: Money = strawberry.field(description="集体补助与其他资助合计上限（每年）")
    subsidies: list[SubsidyBracket]
    subsidy_split: SubsidySplit
    special_groups: list[SpecialGroup]
    hardship_subsidy: bool = strawberry.field(description="代缴是否同时享受政府补贴")
    back_payment: BackPaymentRules
    interest: InterestRules | None = strawberry.field(
        description="计息办法 — null until the year's rate is set"
    )
    divisor: int = strawberry.field(description="个人账户养老金计发月数")
    basic_pension: BasicPension | None = strawberry.field(
        description="基础养老金 — null where no national layer applies"
    )
    review_chains: list[ReviewChain]

    @classmethod
    def of(cls, policy: rules.Policy, region: Region) -> Self:
        layers = policy.basic_pension_rules
        interest = policy.interest_rules
        return cls(
            region=region,
            year=Year(policy.year),
            month=policy.month,
            min_age=policy.enrollment.min_age,
            grades=[Money(g) for g in policy.contribution.grades],
            aid_cap=Money(policy.contribution.aid_limit),
            subsidies=[
                SubsidyBracket(grade=Money(b.grade), rural=Money(b.rural), urban=Money(b.urban))
                for b in policy.subsidy.brackets
            ],
            subsidy_split=SubsidySplit(**policy.subsidy.split.model_dump()),
            special_groups=[
                SpecialGroup(
                    code=g.code,
                    name=g.name,
                    hardship_share=rules.rate_text(g.hardship_share),
                    hardship_payment=Money(policy.hardship_payment(g.code)),
                )
                for g in sorted(policy.hardship.groups, key=lambda g: g.code)
            ],
            hardship_subsidy=policy.hardship.subsidy_applies,
            back_payment=BackPaymentRules(
                max_years=policy.back_payment.max_years, subsidy=policy.back_payment.subsidy
            ),
            interest=None
            if interest is None
            else InterestRules(
                rate=rules.rate_text(interest.rate),
                current_rate=rules.rate_text(interest.current_rate),
                current_year_credits=interest.current_year_credits.value,
                rounding=interest.rounding.value,
            ),
            divisor=policy.account.divisor,
            basic_pension=BasicPension(
                monthly=Money(layers.monthly),
                layers=[
                    BasicPensionLayer(
                        region_prefix=prefix,
                        monthly=Money(layer.monthly),
                        age_topups=[
                            AgeTopUp(from_age=t.from_age, monthly=Money(t.monthly))
                            for t in layer.age_topups or ()
                        ],
                        years_topup=[
                            YearsBand(up_to=b.up_to, per_year=Money(b.per_year))
                            for b in layer.years_topup or ()
                        ],
                    )
                    for prefix, layer in layers.rules
                ],
            )
            if layers.has_national
            else None,
            review_chains=[
                ReviewChain(
                    kind=Kind(kind),
                    steps=steps,
                    levels=[Level(n) for n in review_levels(steps, policy.region)],
                )
                for kind, steps in sorted(policy.review_chains.items())
            ],
        )


@strawberry.type
class PolicyQueries:
    @strawberry.field(
        description=(
            "政策参数 — the rules in force for a region in a year (and month: the basic pension "
            "changes by the month; the yearly rules are January's); null if the region is not in "
            "your scope"
        ),
        permission_classes=[LoggedIn],
    )
    async def policy(
        self, info: Info, region: RegionCode, year: Year, month: Month | None = None
    ) -> PolicyRules | None:
        visible = await region_by_code(info, region.code)
        if visible is None:
            return None
        if month is not None and month.year != int(year):
            raise problem(info.context.lang, Problem.MONTH_OUTSIDE_YEAR, month=month, year=year)
        async with info.context.session() as session:
            policy = await rules.policy_for(
                session, region, int(year), month.month if month is not None else 1
            )
        return PolicyRules.of(policy, visible)
