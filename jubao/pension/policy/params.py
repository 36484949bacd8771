"""Policy as data: effective-dated parameter sets per region prefix (rulebook §1, §6).

A parameter set belongs to a region prefix ("" for national rules, "22" a province, "2201" a
city, …) and takes effect from a year. For a region and a year, each section of the rules comes
from the most specific region prefix that sets it, and among sets of one prefix from the latest
year not after the one asked for; review chains are taken so kind by kind, and the basic
pension's layers add up instead. The national sets seeded by ``jubao migrate`` define every
section but interest, whose rate no national rule gives.

Files use yuan (integers or decimal strings, never floats) and rates as decimal strings
("0.015" or "1.5%"); stored parameters are integer fen and parts per million.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, SmallInteger, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang, Text
from jubao.orm import Base, utcnow
from jubao.pension.accounts.money import Rounding, format_yuan, parse_yuan, split_by_ratio
from jubao.pension.entitlement.reasons import BackPay, HoldReason
from jubao.pension.month import Month
from jubao.pension.termination.reasons import FuneralRule, RefundScope, TerminationReason
from jubao.pension.workflow.applications import Kind
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import RegionScoped, unscoped
from jubao.text import GROUP_NAME, TITLE, quoted

PPM = 1_000_000


class PolicyError(ErrorCode):
    INVALID = ("政策参数无效：{detail}", "Invalid policy parameters: {detail}")
    UNREADABLE = ("无法读取政策文件：{detail}", "Cannot read the policy file: {detail}")
    YEAR = ("生效年度应在 2009 到 2100 之间", "The effective year must be between 2009 and 2100")
    MONTH = ("生效月份应为 1 到 12", "The effective month must be 1 to 12")
    NOT_CONFIGURED = (
        "{region} 在 {year} 年没有配置“{section}”参数",
        "No '{section}' parameters are configured for {region} in {year}",
    )


def _stored(info: ValidationInfo) -> bool:
    """Stored parameters are already fen and ppm; files carry yuan and decimal strings."""
    return bool(info.context and info.context.get("stored"))


def _yuan(value: Any, info: ValidationInfo) -> int:
    if _stored(info) and isinstance(value, int):
        return value
    if isinstance(value, float):
        raise _rule(
            "金额应为整数或十进制字符串，不能是浮点数",
            "amounts are integers or decimal strings, not floats",
        )
    try:
        return parse_yuan(value)
    except DomainError as error:
        raise _rule(error.message(Lang.ZH), error.message(Lang.EN)) from None


def _ppm(value: Any, info: ValidationInfo) -> int:
    """Parts per million from "0.015" or "1.5%" (stored parameters hold the integer)."""
    if _stored(info) and isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise _rule(
            '利率和比例应为十进制字符串，如 "0.015" 或 "1.5%"',
            'rates and shares are decimal strings such as "0.015" or "1.5%"',
        )
    text = value.strip()
    try:
        number = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise _rule(
            f"“{quoted(text)}”不是十进制数", f"'{quoted(text)}' is not a decimal number"
        ) from None
    scaled = number * PPM
    if scaled != scaled.to_integral_value():
        raise _rule(
            f"“{quoted(text)}”精度超过百万分之一", f"'{quoted(text)}' is finer than a millionth"
        )
    return int(scaled)


Fen = Annotated[int, BeforeValidator(_yuan), Field(ge=0)]
Ppm = Annotated[int, BeforeValidator(_ppm), Field(ge=0)]


def _month(value: Any) -> Month:
    try:
        return Month.parse(value)
    except DomainError as error:
        raise _rule(error.message(Lang.ZH), error.message(Lang.EN)) from None


def _group_name(value: str) -> str:
    try:
        return GROUP_NAME.clean(value)
    except DomainError as error:
        raise _rule(error.message(Lang.ZH), error.message(Lang.EN)) from None


class Hukou(StrEnum):
    """户籍性质 as the subsidy rules distinguish it."""

    RURAL = "rural"
    URBAN = "urban"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnrollmentRules(Section):
    min_age: int = Field(16, ge=16, le=60)
    # 领取待遇年龄: people of this age or older are paid a pension, they do not pay yearly
    # contributions (国发〔2014〕8号 §七; not moved by the 2024 retirement-age reform, §1.2)
    pension_age: int = Field(60, ge=50, le=70)


class ContributionRules(Section):
    grades: list[Fen] = Field(min_length=1)
    # collective subsidy + other aid per person and year; None = the top grade (national rule)
    aid_cap: Fen | None = None

    @model_validator(mode="after")
    def _sorted(self) -> ContributionRules:
        if list(self.grades) != sorted(set(self.grades)) or self.grades[0] <= 0:
            raise _rule(
                "缴费档次应为正数、互不相同且从小到大",
                "grades must be positive, distinct and ascending",
            )
        return self

    @property
    def minimum(self) -> int:
        return self.grades[0]

    @property
    def maximum(self) -> int:
        return self.grades[-1]

    @property
    def aid_limit(self) -> int:
        return self.maximum if self.aid_cap is None else self.aid_cap


class SubsidyBracket(Section):
    grade: Fen
    rural: Fen
    urban: Fen


class SubsidySplit(Section):
    province: int = Field(ge=0)
    city: int = Field(ge=0)
    county: int = Field(ge=0)

    @model_validator(mode="after")
    def _some(self) -> SubsidySplit:
        if self.province + self.city + self.county <= 0:
            raise _rule("分担比例至少有一项大于 0", "the split needs at least one positive share")
        return self


class SubsidyRules(Section):
    """Government contribution subsidy: the bracket with the highest grade not above the
    chosen grade applies; the amount is shared province : city : county."""

    brackets: list[SubsidyBracket] = Field(min_length=1)
    split: SubsidySplit

    @model_validator(mode="after")
    def _ascending(self) -> SubsidyRules:
        grades = [b.grade for b in self.brackets]
        if grades != sorted(set(grades)):
            raise _rule(
                "补贴档应按档次从小到大排列", "subsidy brackets must be in ascending order of grade"
            )
        return self

    def amount(self, grade: int, hukou: Hukou) -> int:
        chosen = None
        for bracket in self.brackets:
            if bracket.grade <= grade:
                chosen = bracket
        if chosen is None:
            return 0
        return chosen.rural if hukou is Hukou.RURAL else chosen.urban

    def shares(self, amount: int) -> tuple[int, int, int]:
        province, city, county = split_by_ratio(
            amount, [self.split.province, self.split.city, self.split.county]
        )
        return province, city, county


class SpecialGroup(Section):
    code: str = Field(pattern=r"^[0-9A-Za-z]{1,10}$")
    name: Annotated[str, AfterValidator(_group_name)]
    # 代缴: the government pays this share of the minimum grade (0 = no 代缴)
    hardship_share: Ppm = Field(0, le=PPM)
    # when a person qualifies twice, the lower number wins
    priority: int = 100


class HardshipRules(Section):
    groups: list[SpecialGroup]
    subsidy_applies: bool = True  # does a 代缴 contribution still draw the grade's subsidy

    @model_validator(mode="after")
    def _unique(self) -> HardshipRules:
        codes = [g.code for g in self.groups]
        if len(codes) != len(set(codes)):
            raise _rule("参保身份代码不能重复", "special-group codes must be unique")
        return self

    def group(self, code: str | None) -> SpecialGroup | None:
        return next((g for g in self.groups if g.code == code), None)


class BackPaymentRules(Section):
    max_years: int = Field(15, ge=0, le=15)
    subsidy: bool = False  # back-paid years earn the subsidy?
    # a lump-sum 补缴 once of pension age, for someone short of the years (a local choice, §5.4)
    after_pension_age: bool = False


class CurrentYearCredits(StrEnum):
    NONE = "none"  # money paid this year earns nothing until next year
    MONTHS_REMAINING = "months_remaining"  # earns for the whole months left after the credit


class InterestRules(Section):
    rate: Ppm  # on the balance brought forward
    current_rate: Ppm = 0  # on this year's credits, for the months they were held
    current_year_credits: CurrentYearCredits = CurrentYearCredits.NONE
    rounding: Rounding = Rounding.HALF_UP


class AccountRules(Section):
    divisor: int = Field(139, ge=1)  # account pension = balance / divisor per month


def _default_back_pay() -> dict[HoldReason, BackPay]:
    # Guangdong pays the months a missed verification held back; a sentence's months are
    # not paid; detention and suspected death are paid back once cleared (rulebook §5.10)
    return {
        HoldReason.UNVERIFIED: BackPay.ALWAYS,
        HoldReason.IMPRISONED: BackPay.NEVER,
        HoldReason.DETAINED: BackPay.IF_CLEARED,
        HoldReason.SUSPECTED_DEATH: BackPay.IF_CLEARED,
        HoldReason.MISSING: BackPay.IF_CLEARED,
        HoldReason.OTHER: BackPay.NEVER,
    }


class EntitlementRules(Section):
    """资格认证 and pauses (rulebook §5.9–5.10, configuration item 9 and 11)."""

    # months a verification holds: counted from the month after the award or the last
    # verification; none within them pauses the pension from the month after
    cycle_months: int = Field(12, ge=1, le=36)
    # paused longer than this many months: the resumption takes a second review at its last
    # step (高风险人员待遇恢复, Jieyang: over a year)
    high_risk_months: int = Field(12, ge=1, le=600)
    back_pay: dict[HoldReason, BackPay] = Field(default_factory=_default_back_pay)

    @model_validator(mode="after")
    def _every_pause(self) -> EntitlementRules:
        missing = {r for r in HoldReason if not r.pays} - set(self.back_pay)
        if missing:
            names = "、".join(sorted(r.value for r in missing))
            raise _rule(
                f"须为每种暂停原因规定是否补发（缺 {names}）",
                f"say for every reason of a pause whether it is paid back (missing {names})",
            )
        return self


def _default_refunds() -> dict[TerminationReason, RefundScope]:
    return {
        TerminationReason.DEATH: RefundScope.ALL,  # 国发〔2014〕8号: all, subsidies included
        TerminationReason.NATIONALITY: RefundScope.PERSONAL,
        # 衔接办法 art. 8: all but the subsidies, after recovering the basic pension paid
        TerminationReason.OTHER_PENSION: RefundScope.NO_SUBSIDIES,
        TerminationReason.OTHER_SCHEME: RefundScope.PERSONAL,  # Fuding: 保费和利息
        TerminationReason.DUPLICATE_ENROLMENT: RefundScope.ALL,
        TerminationReason.NEVER_PAID: RefundScope.NONE,
        TerminationReason.LOCAL: RefundScope.PERSONAL,
    }


class FuneralGrant(Section):
    """丧葬补助金, paid by the county with the heirs' payment."""

    rule: FuneralRule = FuneralRule.NONE
    amount: Fen = 0  # fixed (Qingzhou 500)
    years: int = Field(15, ge=1, le=60)  # by_years: fewer years than this …
    below: Fen = 0  # … this much (1,000)
    above: Fen = 0  # this many or more: this much (1,500)
    multiple: int = Field(0, ge=0, le=60)  # × the basic pension standard of the month of death
    contribution_phase: bool = True  # paid for deaths before the pension
    payout_phase: bool = True  # paid for deaths of pensioners

    @model_validator(mode="after")
    def _complete(self) -> FuneralGrant:
        lacking = {
            FuneralRule.FIXED: not self.amount,
            FuneralRule.BY_YEARS: not (self.below and self.above),
            FuneralRule.MULTIPLE: not self.multiple,
        }.get(self.rule, False)
        if lacking:
            raise _rule(
                "丧葬补助金规则缺少金额：fixed 需 amount，by_years 需 below 和 above，"
                "multiple 需 multiple",
                "the funeral grant lacks its amount: fixed needs amount, by_years below and "
                "above, multiple a multiple",
            )
        return self


class LocalReason(Section):
    """A reason of termination a place adds (Sichuan: 到龄缴费不足15年), with what it pays."""

    code: str = Field(pattern=r"^[0-9A-Za-z_]{1,20}$")
    name: Annotated[str, AfterValidator(_group_name)]
    refund: RefundScope


class TerminationRules(Section):
    """注销 (rulebook §5.11–5.12, configuration items 8 and 10)."""

    refund: dict[TerminationReason, RefundScope] = Field(default_factory=_default_refunds)
    # the place's own reasons (a termination for LOCAL names one by its code)
    local_reasons: list[LocalReason] = Field(default_factory=list)
    # deaths before this day are refunded by `death_before` (国发〔2009〕32号: all but the
    # subsidies, which go back to the pool); from it, by refund["death"]
    death_rule_from: date = date(2014, 2, 21)
    death_before: RefundScope = RefundScope.NO_SUBSIDIES
    funeral: FuneralGrant = Field(default_factory=FuneralGrant)
    # 经办条例 第五十五条: obtained by fraud, repaid with a fine of 2–5 times
    fraud_fine: int = Field(2, ge=2, le=5)
    # Qingdao: someone with a pension elsewhere also repays the account pension the pool paid
    recover_pool_pension: bool = False

    def local(self, code: str | None) -> LocalReason | None:
        return next((r for r in self.local_reasons if r.code == code), None)

    @model_validator(mode="after")
    def _every_reason(self) -> TerminationRules:
        missing = set(TerminationReason) - set(self.refund)
        if missing:
            names = "、".join(sorted(r.value for r in missing))
            raise _rule(
                f"须为每种注销原因规定支付范围（缺 {names}）",
                f"say for every reason of termination what is paid out (missing {names})",
            )
        return self


class AgeTopUp(Section):
    """高龄加发: from this age on, this much a month (the highest tier reached applies)."""

    from_age: int = Field(ge=60, le=120)
    monthly: Fen


class YearsBand(Section):
    """长缴多得: each year of contribution up to ``up_to`` years (every further year when
    ``up_to`` is left out) adds ``per_year`` a month."""

    up_to: int | None = Field(None, ge=1, le=80)
    per_year: Fen


class BasicPensionRules(Section):
    """基础养老金: what the set's level adds per person and month (the national set: the
    national minimum), and the level's own top-ups for age and for years of contribution.
    Unlike the other sections, the layers add up: a national increase must not offset a local
    one (rulebook §1.3), so the national, provincial, city and county layers in force are
    summed."""

    monthly: Fen = 0
    age_topups: list[AgeTopUp] | None = None
    years_topup: list[YearsBand] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> BasicPensionRules:
        ages = [tier.from_age for tier in self.age_topups or ()]
        if ages != sorted(set(ages)):
            raise _rule(
                "高龄加发的年龄应互不相同且从小到大",
                "age top-up tiers must be distinct and in ascending order of age",
            )
        bounds = [band.up_to for band in self.years_topup or ()]
        given = [bound for bound in bounds if bound is not None]
        if None in bounds[:-1] or given != sorted(set(given)):
            raise _rule(
                "缴费年限加发的分段应从小到大，只有最后一段可以不写上限",
                "years top-up bands must ascend, and only the last may omit up_to",
            )
        return self

    def for_age(self, age: int) -> int:
        """The age top-up at ``age``: the highest tier reached."""
        reached = [tier.monthly for tier in self.age_topups or () if tier.from_age <= age]
        return reached[-1] if reached else 0

    def for_years(self, years: int) -> int:
        """The years top-up for ``years`` of contribution (Wuhan: 2 × min(y, 15) +
        3 × max(0, y − 15) yuan with bands ``[{up_to = 15, per_year = 2}, {per_year = 3}]``)."""
        total, counted = 0, 0
        for band in self.years_topup or ():
            upper = years if band.up_to is None else min(years, band.up_to)
            if upper > counted:
                total += (upper - counted) * band.per_year
                counted = upper
        return total


class PensionItem(StrEnum):
    """The items of a basic pension, each funded by the level whose layer it is."""

    BASE = "base"  # 基础养老金（本级标准）
    AGE = "age"  # 高龄加发
    YEARS = "years"  # 缴费年限加发（长缴多得）


@dataclass(frozen=True)
class PensionLine:
    """One item of one level's layer: ``prefix`` "" is the national one."""

    prefix: str
    item: PensionItem
    amount: int


@dataclass(frozen=True)
class BasicPension:
    """The basic pension in force: each level's rules (prefix "" for the national one)."""

    rules: tuple[tuple[str, BasicPensionRules], ...]

    @property
    def layers(self) -> tuple[tuple[str, int], ...]:
        """Each level's base amount."""
        return tuple((prefix, rules.monthly) for prefix, rules in self.rules)

    @property
    def monthly(self) -> int:
        """The base amounts added up (before any top-up for age or years)."""
        return sum(amount for _, amount in self.layers)

    @property
    def has_national(self) -> bool:
        """Without the national minimum the local layers alone are no basic pension."""
        return any(prefix == "" for prefix, _ in self.rules)

    def lines(self, age: int, years: int) -> list[PensionLine]:
        """What each level pays a person of ``age`` with ``years`` of contribution counted
        for the top-up (rulebook §5.7), items of nothing left out."""
        found = []
        for prefix, rules in self.rules:
            for item, amount in (
                (PensionItem.BASE, rules.monthly),
                (PensionItem.AGE, rules.for_age(age)),
                (PensionItem.YEARS, rules.for_years(years)),
            ):
                if amount:
                    found.append(PensionLine(prefix, item, amount))
        return found


class SchemeRules(Section):
    """When the county's scheme began (新农保/城居保 pilots began county by county from 2009,
    rulebook §5.4), and the years of contribution a pension needs: 15, or for people who had
    fewer than 15 years to go then, one for each year they had (Qingdao's reading); people of
    pension age then receive the basic pension without contributing."""

    started: Annotated[str, AfterValidator(lambda text: str(_month(text)))]
    required_years: int = Field(15, ge=1, le=30)

    @property
    def start(self) -> Month:
        return Month.parse(self.started)


ChainStep = Literal["province", "city", "county", "township", "region"]


class FileFormat(StrEnum):
    CSV = "csv"  # a heading row, a row per line, a 合计 row
    FIXED = "fixed"  # fixed-width records: header, details, trailer


class PayField(StrEnum):
    """The fields of a payroll bank file; the last four come back in the bank's result."""

    LINE = "line"  # 明细号: the pay line, which the result must name
    PERSON = "person_id"
    ID_NUMBER = "id_number"
    NAME = "name"
    ACCOUNT = "bank_account"
    MONTH = "month"
    AMOUNT = "amount"
    RESULT = "result"
    REASON = "reason"
    REFERENCE = "reference"
    SETTLED_ON = "settled_on"


_SENT_FIELDS = (
    PayField.LINE,
    PayField.PERSON,
    PayField.ID_NUMBER,
    PayField.NAME,
    PayField.ACCOUNT,
    PayField.MONTH,
    PayField.AMOUNT,
)
_REQUIRED_FIELDS = {PayField.LINE, PayField.ACCOUNT, PayField.AMOUNT}
# bytes in the bank's encoding (a Chinese character is 2 in GB18030, 3 in UTF-8)
DEFAULT_WIDTHS = {
    PayField.LINE: 12,
    PayField.PERSON: 12,
    PayField.ID_NUMBER: 18,
    PayField.NAME: 30,
    PayField.ACCOUNT: 32,
    PayField.MONTH: 6,
    PayField.AMOUNT: 12,
    PayField.RESULT: 1,
    PayField.REASON: 60,
    PayField.REFERENCE: 32,
    PayField.SETTLED_ON: 8,
}


class BankFileRules(Section):
    """代发文件: the layout the county's partner bank takes for pension payments."""

    format: FileFormat = FileFormat.CSV
    encoding: Literal["utf-8", "gb18030"] = "utf-8"
    # which of the line's fields the bank gets, in its order
    fields: list[PayField] = Field(default_factory=lambda: list(_SENT_FIELDS))
    # fixed-width records: each field's width in bytes, where the bank's differs
    widths: dict[PayField, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _layout(self) -> BankFileRules:
        fields = set(self.fields)
        if len(fields) != len(self.fields) or not fields <= set(_SENT_FIELDS):
            raise _rule(
                "代发文件的字段须为 line、person_id、id_number、name、bank_account、month、"
                "amount 中互不重复的若干项",
                "the bank file's fields are distinct ones of line, person_id, id_number, name, "
                "bank_account, month, amount",
            )
        if not fields >= _REQUIRED_FIELDS:
            raise _rule(
                "代发文件至少须有 line、bank_account、amount",
                "the bank file needs at least line, bank_account and amount",
            )
        if any(not 1 <= width <= 200 for width in self.widths.values()):
            raise _rule("字段宽度应在 1–200 字节之间", "field widths are 1–200 bytes")
        return self

    @property
    def sent_fields(self) -> list[PayField]:
        return list(self.fields)

    def width(self, field: PayField) -> int:
        return self.widths.get(field, DEFAULT_WIDTHS[field])


class PolicyParams(Section):
    """One parameter set; a missing section is inherited from a less specific one."""

    enrollment: EnrollmentRules | None = None
    contribution: ContributionRules | None = None
    subsidy: SubsidyRules | None = None
    hardship: HardshipRules | None = None
    back_payment: BackPaymentRules | None = None
    interest: InterestRules | None = None
    account: AccountRules | None = None
    basic_pension: BasicPensionRules | None = None
    scheme: SchemeRules | None = None
    bank_file: BankFileRules | None = None
    entitlement: EntitlementRules | None = None
    termination: TerminationRules | None = None
    review_chains: dict[Kind, list[ChainStep]] | None = None

    @model_validator(mode="after")
    def _chains(self) -> PolicyParams:
        for kind, steps in (self.review_chains or {}).items():
            if not steps:
                raise _rule(f"“{kind}”的审核流程为空", f"the review chain of {kind} is empty")
        return self


SECTIONS = tuple(PolicyParams.model_fields)


class PolicySet(Base, RegionScoped):
    __tablename__ = "policy_set"
    __scope_object__ = "policy"
    __table_args__ = (UniqueConstraint("region_prefix", "effective_year", "effective_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "" for national rules; otherwise the significant digits of a region code
    region_prefix: Mapped[str] = mapped_column(String(12))
    # the 12-digit code of that region ("000000000000" for national) so scoping works
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    effective_year: Mapped[int]
    # Benefits change by the month (a national increase paid from July); the yearly rules
    # take effect in January.
    effective_month: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    title: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Policy:
    """The rules in force for one region in one month (every section resolved); the yearly
    rules are those of January."""

    region: RegionCode
    year: int
    enrollment: EnrollmentRules
    contribution: ContributionRules
    subsidy: SubsidyRules
    hardship: HardshipRules
    back_payment: BackPaymentRules
    account: AccountRules
    review_chains: dict[str, list[str]]
    interest_rules: InterestRules | None
    basic_pension_rules: BasicPension
    scheme_rules: SchemeRules | None = None
    month: int = 1
    bank_file: BankFileRules = dataclass_field(default_factory=BankFileRules)
    entitlement: EntitlementRules = dataclass_field(default_factory=EntitlementRules)
    termination: TerminationRules = dataclass_field(default_factory=TerminationRules)

    @property
    def interest(self) -> InterestRules:
        if self.interest_rules is None:
            raise self._not_configured("interest")
        return self.interest_rules

    @property
    def scheme(self) -> SchemeRules:
        if self.scheme_rules is None:
            raise self._not_configured("scheme")
        return self.scheme_rules

    @property
    def basic_pension(self) -> BasicPension:
        if not self.basic_pension_rules.has_national:
            raise self._not_configured("basic_pension")
        return self.basic_pension_rules

    def _not_configured(self, section: str) -> DomainError:
        return DomainError(
            PolicyError.NOT_CONFIGURED, region=self.region.code, year=self.year, section=section
        )

    def hardship_payment(self, group_code: str | None) -> int:
        """What the government pays (代缴) for a member of this special group, in fen."""
        group = self.hardship.group(group_code)
        if group is None or group.hardship_share == 0:
            return 0
        return self.contribution.minimum * group.hardship_share // PPM

    def chain(self, kind: str) -> list[str]:
        steps = self.review_chains.get(kind)
        if not steps:
            raise DomainError(
                PolicyError.NOT_CONFIGURED,
                region=self.region.code,
                year=self.year,
                section=f"review_chains.{kind}",
            )
        return steps


def describe_policy(policy: Policy) -> dict[str, Any]:
    """The rules in force, as a policy file would write them (for people to read)."""
    params = PolicyParams(
        enrollment=policy.enrollment,
        contribution=policy.contribution,
        subsidy=policy.subsidy,
        hardship=policy.hardship,
        back_payment=policy.back_payment,
        interest=policy.interest_rules,
        account=policy.account,
        scheme=policy.scheme_rules,
        entitlement=policy.entitlement,
        termination=policy.termination,
        review_chains=policy.review_chains,
    )
    rules = policy.basic_pension_rules.rules
    layers = {
        (prefix or "national"): as_file_values(PolicyParams(basic_pension=layer))["basic_pension"]
        for prefix, layer in rules
    }
    basic_pension = {
        "monthly": format_yuan(policy.basic_pension_rules.monthly),
        "layers": {
            name: layer["monthly"] if set(layer) == {"monthly"} else layer
            for name, layer in layers.items()
        },
    }
    return {
        "region": policy.region.code,
        "year": policy.year,
        **({"month": policy.month} if policy.month != 1 else {}),
        **as_file_values(params),
        **({"basic_pension": basic_pension} if rules else {}),
    }


def parse_params(data: dict[str, Any], field: str = "parameters") -> PolicyParams:
    try:
        return PolicyParams.model_validate(data)
    except ValidationError as error:
        raise DomainError(PolicyError.INVALID, field=field, detail=described(error)) from None


def _rule(zh: str, en: str) -> PydanticCustomError:
    """A rule of the parameters broken, said in both languages (see `described`)."""
    return PydanticCustomError("policy_rule", en, {"zh": zh})


_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("缺少", "is missing"),
    "extra_forbidden": ("不是可设置的参数", "is not a parameter"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "string_type": ("应为字符串", "must be a string"),
    "list_type": ("应为列表", "must be a list"),
    "dict_type": ("应为一节参数（表）", "must be a table of parameters"),
    "model_type": ("应为一节参数（表）", "must be a table of parameters"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "too_short": ("至少应有 {min_length} 项", "needs at least {min_length} items"),
    "too_long": ("不能多于 {max_length} 个", "has more than {max_length}"),
    "string_too_short": ("不能为空", "must not be empty"),
    "string_too_long": ("不能超过 {max_length} 个字符", "is at most {max_length} characters"),
    "string_pattern_mismatch": ("格式不正确", "is malformed"),
    "literal_error": ("应为以下之一：{expected}", "must be one of {expected}"),
    "enum": ("应为以下之一：{expected}", "must be one of {expected}"),
}


def described(error: ValidationError, most: int = 3) -> Text:
    """What is wrong with a parameter set, in both languages, each problem at its place in
    the file ("contribution.grades[1]"). Library text is never shown."""
    zh_parts, en_parts = [], []
    for problem in error.errors()[:most]:
        place = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]
        ).lstrip(".")
        context = problem.get("ctx") or {}
        if problem["type"] == "policy_rule":
            zh, en = context["zh"], problem["msg"]
        else:
            zh, en = _PROBLEMS.get(problem["type"], ("无效", "is invalid"))
            values = {k: quoted(str(v), 80) for k, v in context.items()}
            zh, en = zh.format(**values), en.format(**values)
        zh_parts.append(f"{place}：{zh}" if place else zh)
        en_parts.append(f"{place}: {en}" if place else en)
    more = len(error.errors()) - most
    if more > 0:
        zh_parts.append(f"另有 {more} 处")
        en_parts.append(f"{more} more")
    return Text("；".join(zh_parts), "; ".join(en_parts))


def stored(params: PolicyParams) -> dict[str, Any]:
    """The canonical stored form: fen and ppm integers, sections that are set."""
    return params.model_dump(mode="json", exclude_none=True)


def rate_text(ppm: int) -> str:
    """A rate or share as a policy file writes it: 15000 ppm is "0.015"."""
    return str((Decimal(ppm) / PPM).normalize())


def as_file_values(params: PolicyParams) -> dict[str, Any]:
    """Parameters as a policy file writes them (yuan, decimal-string rates): for people to
    read, and ``parse_params(as_file_values(p)) == p``."""

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, key) for v in value]
        if key in _MONEY_KEYS and isinstance(value, int):
            return format_yuan(value)
        if key in _PPM_KEYS and isinstance(value, int):
            return rate_text(value)
        return value

    return convert(stored(params))


_MONEY_KEYS = {
    "grades",
    "aid_cap",
    "grade",
    "rural",
    "urban",
    "monthly",
    "per_year",
    "amount",
    "below",
    "above",
}
_PPM_KEYS = {"hardship_share", "rate", "current_rate"}


@dataclass(frozen=True)
class PolicyFile:
    region: RegionCode | None  # None: national
    effective_year: int
    title: str
    params: PolicyParams
    effective_month: int = 1


def read_policy_file(text: str) -> PolicyFile:
    """A TOML policy file: ``region`` (12-digit code, or "national"), ``effective_year``,
    ``effective_month`` (1 when left out), ``title``, and the parameter sections."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DomainError(PolicyError.UNREADABLE, detail=str(error)) from None
    region_text = str(data.pop("region", ""))
    year = data.pop("effective_year", None)
    month = data.pop("effective_month", 1)
    title = TITLE.optional(str(data.pop("title", "")))
    data.pop("source", None)
    if not isinstance(year, int) or not 2009 <= year <= 2100:
        raise DomainError(PolicyError.YEAR)
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise DomainError(PolicyError.MONTH)
    region = None if region_text in ("", "national") else RegionCode(region_text)
    return PolicyFile(
        region, year, title or f"{region_text or 'national'} {year}", parse_params(data), month
    )


NATIONAL = PolicyFile(
    region=None,
    effective_year=2014,
    title="国发〔2014〕8号 全国统一城乡居民基本养老保险制度（默认参数）",
    params=parse_params(
        {
            "enrollment": {"min_age": 16},
            "contribution": {
                "grades": [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000],
            },
            "subsidy": {
                # the national floors: ≥30 for the lowest grade, ≥60 from 500
                "brackets": [
                    {"grade": 100, "rural": 30, "urban": 30},
                    {"grade": 500, "rural": 60, "urban": 60},
                ],
                "split": {"province": 1, "city": 0, "county": 0},
            },
            "hardship": {
                # 参保身份 codes as the Hunan system uses them (rulebook §2.1)
                "groups": [
                    {"code": "011", "name": "普通参保人员"},
                    {
                        "code": "021",
                        "name": "重度残疾（一级）",
                        "hardship_share": "1",
                        "priority": 3,
                    },
                    {
                        "code": "022",
                        "name": "重度残疾（二级）",
                        "hardship_share": "1",
                        "priority": 5,
                    },
                    {"code": "023", "name": "残疾（三级）"},
                    {"code": "031", "name": "特困人员", "hardship_share": "1", "priority": 1},
                    {
                        "code": "051",
                        "name": "建档立卡贫困人口",
                        "hardship_share": "1",
                        "priority": 6,
                    },
                    {
                        "code": "061",
                        "name": "低保对象（全额）",
                        "hardship_share": "1",
                        "priority": 2,
                    },
                    {
                        "code": "062",
                        "name": "低保对象（差额）",
                        "hardship_share": "1",
                        "priority": 4,
                    },
                    {"code": "071", "name": "计生特扶人员"},
                    {"code": "090", "name": "其他"},
                ],
                "subsidy_applies": True,
            },
            "back_payment": {"max_years": 15, "subsidy": False},
            "account": {"divisor": 139},
            "review_chains": {
                "enrollment": ["township", "county"],
                "change": ["county"],
                "contribution": ["county"],
                "back_payment": ["county"],
                "hardship": ["county"],
                "policy": ["region"],
                "interest": ["region"],
                "suspension": ["county"],
                # 规程: the village takes the claim, the township checks it (初审), the county
                # approves and calculates (复核)
                "award": ["township", "county"],
                # entered and approved at the county, which made the award
                "award_correction": ["county"],
                # the county's audit queue of pauses and resumptions (rulebook §5.10, §7)
                "benefit_hold": ["county"],
                "benefit_resumption": ["county"],
                # the village or township takes it, the township checks, the county approves
                # and pays (rulebook §5.12)
                "termination": ["township", "county"],
                "recovery_repayment": ["county"],
            },
        }
    ),
)


# The national minimum of the basic pension (rulebook §1.3), each a national layer of its own,
# with the rulebook's evidence in the title: a province confirms the later ones against the
# notices and loads a national set for the year to correct one (what is stored is kept).
# Layers take effect by the month: the 2014 increase is paid from July 2014 (announced in
# January 2015, so its first months are arrears).
NATIONAL_MINIMUMS = tuple(
    PolicyFile(
        None, year, title, parse_params({"basic_pension": {"monthly": amount}}), effective_month
    )
    for year, effective_month, amount, title in (
        (2009, 1, 55, "国发〔2009〕32号 基础养老金最低标准每人每月55元"),
        (
            2014,
            7,
            70,
            "人社部发〔2015〕5号 基础养老金最低标准提高至每人每月70元（2014年7月1日起）",
        ),
        (2018, 1, 88, "人社部规〔2018〕3号 基础养老金最低标准提高至每人每月88元"),
        (2020, 1, 93, "基础养老金最低标准每人每月93元（规则手册：未经核实，请对照正式文件）"),
        (
            2023,
            1,
            103,
            "基础养老金最低标准每人每月103元（规则手册：仅有间接来源，请对照正式文件）",
        ),
        (
            2024,
            1,
            123,
            "基础养老金最低标准提高至每人每月123元（规则手册：第三方来源，请对照正式文件）",
        ),
        (2025, 1, 143, "基础养老金最低标准每人每月143元（规则手册：未经核实，请对照正式文件）"),
        (2026, 1, 163, "基础养老金最低标准每人每月163元（规则手册：第三方来源，请对照正式文件）"),
    )
)


def _prefix_of(region: RegionCode | None) -> str:
    return "" if region is None else region.prefix


def _code_of(prefix: str) -> str:
    return prefix.ljust(12, "0")


async def save_policy(
    session: AsyncSession, actor: audit.AuditActor, policy: PolicyFile, *, reason: str | None = None
) -> PolicySet:
    """Insert the parameter set, or replace the one for the same region, year and month (the
    old parameters are kept in the audit trail)."""
    prefix = _prefix_of(policy.region)
    if policy.region is not None:
        await check_in_use(session, policy.region)
    existing = await session.scalar(
        select(PolicySet).where(
            PolicySet.region_prefix == prefix,
            PolicySet.effective_year == policy.effective_year,
            PolicySet.effective_month == policy.effective_month,
        )
    )
    params = stored(policy.params)
    before = existing.params if existing else None
    if existing is None:
        existing = PolicySet(
            region_prefix=prefix,
            region_code=_code_of(prefix),
            effective_year=policy.effective_year,
            effective_month=policy.effective_month,
            title=policy.title,
            params=params,
        )
        session.add(existing)
    else:
        existing.title, existing.params, existing.updated_at = policy.title, params, utcnow()
    await session.flush()
    audit.record(
        session,
        actor,
        "policy.save",
        f"policy:{existing.id}",
        region_code=_code_of(prefix),
        reason=reason,
        effective_year=policy.effective_year,
        effective_month=policy.effective_month,
        before=before,
        after=params,
    )
    return existing


async def seed_national(session: AsyncSession, actor: audit.AuditActor) -> int:
    """Store the national defaults: each default set whose year has no national set yet, and
    into a national set of a default month the sections and review-chain kinds it lacks (a
    release that adds a kind of application, a loaded file that left a section out). What is
    stored is kept. Returns how many sets were stored or completed."""
    found = await session.scalars(select(PolicySet).where(PolicySet.region_prefix == ""))
    existing = {(s.effective_year, s.effective_month): s for s in found}
    changed = 0
    for default in (NATIONAL, *NATIONAL_MINIMUMS):
        present = existing.get((default.effective_year, default.effective_month))
        if present is None:
            await save_policy(session, actor, default, reason="national defaults")
            changed += 1
            continue
        defaults = stored(default.params)
        completed = {**defaults, **present.params}
        if "review_chains" in defaults and "review_chains" in present.params:
            completed["review_chains"] = {
                **defaults["review_chains"],
                **present.params["review_chains"],
            }
        if completed != present.params:
            params = PolicyParams.model_validate(completed, context={"stored": True})
            await save_policy(
                session,
                actor,
                PolicyFile(
                    None, default.effective_year, present.title, params, default.effective_month
                ),
                reason="national defaults completed",
            )
            changed += 1
    return changed


def _applies(policy_set: PolicySet, region: RegionCode, year: int, month: int) -> bool:
    return (policy_set.effective_year, policy_set.effective_month or 1) <= (
        year,
        month,
    ) and region.code.startswith(policy_set.region_prefix)


def resolve(sets: Iterable[PolicySet], region: RegionCode, year: int, month: int = 1) -> Policy:
    """Resolve each section from the most specific, then latest applicable set."""
    applicable = sorted(
        (s for s in sets if _applies(s, region, year, month)),
        key=lambda s: (len(s.region_prefix), s.effective_year, s.effective_month or 1),
        reverse=True,
    )
    chosen: dict[str, Any] = {}
    for section in SECTIONS:
        if section in _OWN_RESOLUTION:
            continue
        for policy_set in applicable:
            if section in policy_set.params:
                chosen[section] = policy_set.params[section]
                break
    chains: dict[str, list[str]] = {}
    for policy_set in applicable:  # each kind's chain from the most specific set that has one
        for kind, steps in policy_set.params.get("review_chains", {}).items():
            if kind in _KINDS:  # a kind no longer handled (sets may predate a release)
                chains.setdefault(kind, steps)
    if chains:
        chosen["review_chains"] = chains
    params = PolicyParams.model_validate(chosen, context={"stored": True})

    def need(section: str) -> Any:
        value = getattr(params, section)
        if value is None:
            raise DomainError(
                PolicyError.NOT_CONFIGURED, region=region.code, year=year, section=section
            )
        return value

    return Policy(
        region=region,
        year=year,
        enrollment=need("enrollment"),
        contribution=need("contribution"),
        subsidy=need("subsidy"),
        hardship=need("hardship"),
        back_payment=need("back_payment"),
        account=need("account"),
        review_chains=dict(need("review_chains")),
        interest_rules=params.interest,
        basic_pension_rules=_basic_pension(applicable),
        scheme_rules=params.scheme,
        month=month,
        bank_file=params.bank_file or BankFileRules(),
        entitlement=params.entitlement or EntitlementRules(),
        termination=params.termination or TerminationRules(),
    )


_OWN_RESOLUTION = {"basic_pension", "review_chains"}
_KINDS = {kind.value for kind in Kind}


def _basic_pension(applicable: list[PolicySet]) -> BasicPension:
    """Each level's latest layer (``applicable`` runs from the most specific, latest set)."""
    layers: dict[str, BasicPensionRules] = {}
    for policy_set in applicable:
        layer = policy_set.params.get("basic_pension")
        if layer is not None and policy_set.region_prefix not in layers:
            layers[policy_set.region_prefix] = BasicPensionRules.model_validate(
                layer, context={"stored": True}
            )
    return BasicPension(tuple(sorted(layers.items(), key=lambda item: len(item[0]))))


class PolicyBook:
    """Resolves policies for batch work: every parameter set is read once (they are few: tens
    or hundreds of rows), and each distinct resolution is computed once."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._sets: list[PolicySet] | None = None
        self._resolved: dict[tuple[tuple[int, ...], int, int], Policy] = {}

    async def load(self) -> PolicyBook:
        """Read every parameter set (once): from then on :meth:`resolve` needs no database."""
        if self._sets is None:
            # Policy sets are public rules, so they are read unscoped (a Core query).
            rows = await self._session.execute(select(unscoped(PolicySet)))
            self._sets = [PolicySet(**row._mapping) for row in rows]
        return self

    async def for_region(self, region: RegionCode, year: int, month: int = 1) -> Policy:
        await self.load()
        return self.resolve(region, year, month)

    def prefixes_setting(self, section: str) -> set[str]:
        """The region prefixes of the sets :meth:`load` read that set ``section``."""
        if self._sets is None:
            raise RuntimeError("PolicyBook.prefixes_setting before load")
        return {s.region_prefix for s in self._sets if section in s.params}

    async def for_month(self, region: RegionCode, month: Month) -> Policy:
        return await self.for_region(region, month.year, month.month)

    def resolve(self, region: RegionCode, year: int, month: int = 1) -> Policy:
        """The policy of ``region`` in ``year`` (and ``month``), from the sets :meth:`load`
        read."""
        if self._sets is None:
            raise RuntimeError("PolicyBook.resolve before load")
        applicable = tuple(s.id for s in self._sets if _applies(s, region, year, month))
        key = (applicable, year, month)
        policy = self._resolved.get(key)
        if policy is None:
            policy = self._resolved[key] = resolve(self._sets, region, year, month)
        # The rules are the same; only the region they are asked for differs.
        return policy if policy.region == region else replace(policy, region=region)


async def policy_for(
    session: AsyncSession, region: RegionCode, year: int, month: int = 1
) -> Policy:
    return await PolicyBook(session).for_region(region, year, month)


def level_of_step(step: str, region: RegionCode) -> Level:
    """The level at which a review step is taken for an application placed at ``region``."""
    if step == "region":
        return region.level
    return Level[step.upper()]
