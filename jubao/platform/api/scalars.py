"""Custom scalars, mapped from the domain's value objects."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from jubao.errors import DomainError, ErrorCode
from jubao.pension.idnumber import IdNumber, IdNumberError
from jubao.pension.money import format_yuan, parse_yuan
from jubao.tenants.codes import RegionCode
from jubao.text import quoted

# Amounts are integer fen in Python and decimal yuan strings on the wire.
Money = NewType("Money", int)
# A calendar year of the scheme.
Year = NewType("Year", int)


class YearError(ErrorCode):
    RANGE = ("年度应在 2009 到 2100 之间，收到 {value}", "A year is 2009–2100, got {value}")


def _money(value: object) -> int:
    if not isinstance(value, str):
        # A JSON number would invite floats; amounts travel as strings ("1234.50").
        return parse_yuan(repr(value) if isinstance(value, float) else str(value))
    return parse_yuan(value)


def _id_number(value: object) -> IdNumber:
    if not isinstance(value, str):
        # A JSON number has lost a leading zero or the X, or its last digits to a float.
        raise DomainError(IdNumberError.MALFORMED)
    return IdNumber.read(value)


def _year(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 2009 <= value <= 2100:
        raise DomainError(YearError.RANGE, value=quoted(str(value)))
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
        description='金额 — an amount in yuan as a decimal string with two places, e.g. "1234.50"',
        serialize=format_yuan,
        parse_value=_money,
    ),
    IdNumber: strawberry.scalar(
        name="IdNumber",
        description="公民身份号码 — citizen ID number (GB 11643; the check character is verified)",
        serialize=str,
        parse_value=_id_number,
    ),
    Year: strawberry.scalar(
        name="Year",
        description="年度 — a calendar year, e.g. 2026",
        serialize=int,
        parse_value=_year,
    ),
}
