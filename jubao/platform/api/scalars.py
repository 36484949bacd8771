"""Custom scalars, mapped from the domain's value objects."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from jubao.errors import DomainError, ErrorCode
from jubao.pension.accounts.money import MoneyError, format_yuan, parse_yuan
from jubao.pension.month import Month
from jubao.pension.people.idnumber import IdNumber, IdNumberError
from jubao.tenants.codes import RegionCode
from jubao.text import quoted

# Amounts are integer fen in Python and decimal yuan strings on the wire.
Money = NewType("Money", int)
# A calendar year of the scheme.
Year = NewType("Year", int)


class YearError(ErrorCode):
    TYPE = ("年度应为整数，如 2026", "A year must be an integer, e.g. 2026")
    RANGE = ("年度应在 2009 到 2100 之间，收到 {value}", "A year is 2009–2100, got {value}")


def _money(value: object) -> int:
    """Yuan as a decimal string ("1234.50"), or a whole number of yuan; never a float (a JSON
    or GraphQL float literal such as 1e9 is refused)."""
    if isinstance(value, (str, int, float)):
        return parse_yuan(value)
    raise DomainError(MoneyError.MALFORMED, value=quoted(str(value)))


def _id_number(value: object) -> IdNumber:
    if not isinstance(value, str):
        # A JSON number has lost a leading zero or the X, or its last digits to a float.
        raise DomainError(IdNumberError.MALFORMED)
    return IdNumber.read(value)


def _year(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(YearError.TYPE)
    if not 2009 <= value <= 2100:
        raise DomainError(YearError.RANGE, value=value if abs(value) < 10**6 else "…")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    RegionCode: strawberry.scalar(
        name="RegionCode",
        description=(
            '统计用区划代码 — 12-digit statistical division code, e.g. "410102001001" '
            "(province 2, city 2, county 2, township 3, village 3 digits)"
        ),
        serialize=str,
        parse_value=RegionCode,
    ),
    Money: strawberry.scalar(
        name="Money",
        description=(
            "金额 — an amount in yuan: a decimal string of ASCII digits with at most two places "
            '("1234.50", "300"), or an integer of yuan; never a float. Answers always have two '
            "places."
        ),
        serialize=format_yuan,
        parse_value=_money,
    ),
    IdNumber: strawberry.scalar(
        name="IdNumber",
        description="公民身份号码 — citizen ID number (GB 11643; the check character is verified)",
        serialize=str,
        parse_value=_id_number,
    ),
    Month: strawberry.scalar(
        name="Month",
        description='年月 — a calendar month, "YYYY-MM", e.g. "2026-07"',
        serialize=str,
        parse_value=Month.parse,
    ),
    Year: strawberry.scalar(
        name="Year",
        description="年度 — a calendar year, e.g. 2026",
        serialize=int,
        parse_value=_year,
    ),
}
