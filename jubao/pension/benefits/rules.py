"""The pension's rules as pure functions (rulebook §5.4, §5.7): when someone may be paid, the
years they need, and what the award pays each month. Nothing here reads the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from jubao.pension.accounts.contributions import PaidYear
from jubao.pension.accounts.ledger import Component
from jubao.pension.accounts.money import Rounding, round_fraction
from jubao.pension.month import Month
from jubao.pension.people.idnumber import age_on
from jubao.pension.policy.params import PensionLine, Policy, SchemeRules


def pension_date(birth: date, pension_age: int) -> date:
    """The day someone reaches the pension age (born on 29 February: 1 March, as `age_on`)."""
    year = birth.year + pension_age
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def age_in_month(birth: date, month: Month) -> int:
    """The age that counts for a month's payment: the age reached before the month began, so
    that, like the pension itself, a top-up starts the month after the birthday."""
    return age_on(birth, month.first_day - timedelta(days=1))


def age_at_start(birth: date, scheme: SchemeRules) -> int:
    return age_on(birth, scheme.start.first_day)


def is_transitional(birth: date, scheme: SchemeRules, pension_age: int) -> bool:
    """Already of pension age when the county's scheme began (rulebook §5.4 A): the basic
    pension without contributions."""
    return age_at_start(birth, scheme) >= pension_age


def required_years(birth: date, scheme: SchemeRules, pension_age: int) -> int:
    """Years of contribution a pension needs (rulebook §5.4): the scheme's 15, or, for people
    who had fewer years than that to go when their county's scheme began, one for each year
    they had (Qingdao: at least 60 − age at the start); none for people already of age then."""
    return max(0, min(scheme.required_years, pension_age - age_at_start(birth, scheme)))


@dataclass(frozen=True)
class Years:
    paid: int  # years of contribution (each year once, however paid)
    required: int
    for_topup: int  # years but those back-paid as a lump sum after the pension age

    @property
    def short(self) -> int:
        return max(0, self.required - self.paid)


def count_years(paid: Iterable[PaidYear], required: int, reached_on: date) -> Years:
    """Wuhan: "a lump sum paid after 60 does not count" for the top-up; the ordinary
    contribution of the year someone turns 60, paid after the birthday, does."""
    years = list(paid)
    late_lump_sums = {p.year for p in years if p.back_payment and p.paid_on >= reached_on}
    return Years(
        paid=len({p.year for p in years}),
        required=required,
        for_topup=len({p.year for p in years} - late_lump_sums),
    )


def eligible_on(
    reached_on: date, enrolled_on: date, paid: Iterable[PaidYear], required: int
) -> date:
    """The day the last condition was met: the pension age, enrolment (people already of age
    when their county began), or the payment that completed the required years (a payment
    beyond them delays nothing)."""
    dates = sorted(p.paid_on for p in paid)
    completed = [dates[required - 1]] if 0 < required <= len(dates) else []
    return max([reached_on, enrolled_on, *completed])


def account_pension(balance: int, divisor: int) -> int:
    """个人账户养老金 = balance ÷ divisor, to the fen (HALF_UP): 9,800.00 ÷ 139 → 70.50."""
    return round_fraction(balance, divisor, Rounding.HALF_UP)


@dataclass(frozen=True)
class Figures:
    """What an award states (待遇核定表): all amounts in fen a month but the balances."""

    transitional: bool
    eligible_on: date
    start: Month
    years: Years
    balances: Mapping[Component, int]
    divisor: int
    account_pension: int
    lines: tuple[PensionLine, ...]

    @property
    def account_total(self) -> int:
        return sum(self.balances.values())

    @property
    def basic_pension(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def monthly(self) -> int:
        return self.basic_pension + self.account_pension


def figures(
    policy: Policy,
    *,
    birth: date,
    eligible: date,
    years: Years,
    balances: Mapping[Component, int],
    transitional: bool,
) -> Figures:
    """The award's figures with the rules in force in its first month (``policy`` is that
    month's)."""
    start = Month.of(eligible).next()
    total = sum(balances.values())
    return Figures(
        transitional=transitional,
        eligible_on=eligible,
        start=start,
        years=years,
        balances={c: amount for c, amount in balances.items() if amount},
        divisor=policy.account.divisor,
        account_pension=account_pension(total, policy.account.divisor),
        lines=tuple(policy.basic_pension.lines(age_in_month(birth, start), years.for_topup)),
    )
