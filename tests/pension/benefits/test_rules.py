"""The pension's rules with the rulebook's figures (§5.4, §5.7)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jubao.pension.accounts.contributions import PaidYear
from jubao.pension.benefits.due import born_between
from jubao.pension.benefits.rules import (
    account_pension,
    age_in_month,
    count_years,
    eligible_on,
    is_transitional,
    pension_date,
    required_years,
)
from jubao.pension.month import Month
from jubao.pension.policy.params import SchemeRules

SCHEME = SchemeRules(started="2011-07")


def test_the_account_pension_of_the_rulebook() -> None:
    # §5.7: balance 9,800.00 → 9,800 / 139 = 70.50; with a basic pension of 150.00, 220.50
    assert account_pension(980_000, 139) == 7_050
    assert 15_000 + account_pension(980_000, 139) == 22_050
    # Fuzhou (§5.8): 13,900 → 100 a month
    assert account_pension(1_390_000, 139) == 10_000
    assert account_pension(0, 139) == 0
    assert account_pension(69, 139) == 0 and account_pension(70, 139) == 1  # half a fen up


@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=1, max_value=300))
def test_the_account_pension_is_the_nearest_fen(balance: int, divisor: int) -> None:
    paid = account_pension(balance, divisor)
    assert abs(paid * divisor - balance) * 2 <= divisor


@pytest.mark.parametrize(
    ("birth", "required", "transitional"),
    [
        (date(1970, 1, 1), 15, False),  # 41 when the scheme began: the full 15
        (date(1966, 7, 2), 15, False),  # 44: more than 15 years to go
        (date(1956, 7, 2), 6, False),  # 54 (55 the next day): 6 years
        (date(1956, 7, 1), 5, False),  # 55 on the day it began: 5
        (date(1955, 9, 1), 5, False),  # 55 at the start (56 that September): 5 years
        (date(1952, 3, 10), 1, False),  # 59 at the start: one year
        (date(1951, 7, 1), 0, True),  # 60 on the very day it began
        (date(1940, 1, 1), 0, True),
    ],
)
def test_years_required_by_age_when_the_scheme_began(
    birth: date, required: int, transitional: bool
) -> None:
    assert required_years(birth, SCHEME, 60) == required
    assert is_transitional(birth, SCHEME, 60) is transitional


def test_a_county_may_ask_fewer_years() -> None:
    assert (
        required_years(date(1970, 1, 1), SchemeRules(started="2011-07", required_years=10), 60)
        == 10
    )


def test_the_pension_age_and_the_age_in_a_month() -> None:
    assert pension_date(date(1966, 12, 10), 60) == date(2026, 12, 10)
    assert pension_date(date(1964, 2, 29), 61) == date(2025, 3, 1)  # as `age_on` counts
    birth = date(1961, 8, 15)
    # a top-up for 65 starts the month after the birthday, like the pension at 60
    assert age_in_month(birth, Month(2026, 8)) == 64
    assert age_in_month(birth, Month(2026, 9)) == 65
    assert age_in_month(date(1961, 8, 1), Month(2026, 8)) == 64


def test_years_after_the_pension_age_count_for_the_pension_but_not_the_top_up() -> None:
    reached = date(2026, 12, 10)
    paid = [PaidYear(2011 + n, date(2011 + n, 6, 30)) for n in range(13)]
    lump = [PaidYear(2024, date(2027, 1, 5), True), PaidYear(2025, date(2027, 1, 5), True)]
    years = count_years(paid + lump, 15, reached)
    assert (years.paid, years.for_topup, years.short) == (15, 13, 0)
    assert eligible_on(reached, date(2011, 8, 1), paid + lump, 15) == date(2027, 1, 5)
    assert count_years(paid, 15, reached).short == 2
    # the ordinary contribution of the year of 60, paid after the birthday, counts for both
    ordinary = [*paid, PaidYear(2026, date(2026, 12, 20))]
    assert count_years(ordinary, 15, reached).for_topup == 14


def test_a_payment_beyond_the_years_required_delays_nothing() -> None:
    reached = date(2026, 7, 10)
    paid = [PaidYear(2010 + n, date(2010 + n, 3, 1)) for n in range(16)]
    late = [*paid, PaidYear(2026, date(2026, 8, 20))]
    assert eligible_on(reached, date(2010, 1, 1), late, 15) == reached
    # a payment that completes the years does: the 15th, paid after the birthday
    short = [*paid[:14], PaidYear(2026, date(2026, 8, 20))]
    assert eligible_on(reached, date(2010, 1, 1), short, 15) == date(2026, 8, 20)
    # nobody already of age when the scheme began waits for a payment
    assert eligible_on(reached, date(2026, 9, 1), [], 0) == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("month", "age"),
    [(Month(y, m), a) for y in (2024, 2025, 2027, 2028) for m in (1, 2, 3, 12) for a in (60, 61)],
)
def test_the_birth_dates_of_a_month_are_exactly_those_reaching_the_age_in_it(
    month: Month, age: int
) -> None:
    earliest, latest = born_between(month, age)
    day = date(month.year - age - 1, 1, 1)
    while day <= date(month.year - age + 1, 12, 31):
        assert (earliest <= day <= latest) == (Month.of(pension_date(day, age)) == month), day
        day += timedelta(days=1)
