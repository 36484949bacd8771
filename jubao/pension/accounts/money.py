"""Money is integer fen (分) everywhere; yuan strings only at the edges.

Rounding is explicit: amounts that come from a rate are computed as exact fractions of a fen
and rounded by a named rule (HALF_UP to the fen by default, or 见分进角: any fraction of a
jiao rounds up to the next jiao).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from jubao.errors import DomainError, ErrorCode
from jubao.text import quoted

# ASCII digits only: ``\d`` would take full-width and Arabic-Indic digits, which Decimal reads.
_YUAN = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,2})?")


class MoneyError(ErrorCode):
    MALFORMED = (
        "金额“{value}”格式不正确：应为以元为单位、最多两位小数的数字，如 1234.50",
        "Amount '{value}' is malformed: yuan as a number with at most two decimals, e.g. 1234.50",
    )
    FLOAT = (
        '金额不能写成浮点数（{value}），请写成字符串，如 "1234.50"',
        'An amount is not a floating-point number ({value}): write it as a string, e.g. "1234.50"',
    )


class Rounding(StrEnum):
    HALF_UP = "half_up"  # to the fen, halves away from zero
    JIAO_UP = "jiao_up"  # 见分进角: any fen rounds up to the next jiao (0.10 yuan)


def parse_yuan(value: str | int | float | Decimal) -> int:
    """Fen from a yuan amount given as text ("1234.5", ASCII, nothing around it), an integer
    or a Decimal. No floats: a binary fraction is not an amount of money."""
    if isinstance(value, float):
        raise DomainError(MoneyError.FLOAT, value=quoted(repr(value)))
    if isinstance(value, bool):
        raise DomainError(MoneyError.MALFORMED, value=str(value))
    if isinstance(value, int) and abs(value) >= 10**13:  # (and no text of 4,300+ digits)
        raise DomainError(MoneyError.MALFORMED, value="…")
    text = str(value)
    if not _YUAN.fullmatch(text):
        raise DomainError(MoneyError.MALFORMED, value=quoted(text))
    try:
        return int((Decimal(text) * 100).to_integral_exact())
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise DomainError(MoneyError.MALFORMED, value=quoted(text)) from None


def format_yuan(fen: int) -> str:
    """ "1234.50" for 123450 fen; "-0.05" for -5."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def round_fraction(numerator: int, denominator: int, rule: Rounding) -> int:
    """Round the non-negative fraction ``numerator / denominator`` (in fen) by ``rule``."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_fraction takes a non-negative numerator")
    if rule is Rounding.HALF_UP:
        return (2 * numerator + denominator) // (2 * denominator)
    return -(-numerator // (10 * denominator)) * 10


def split_by_ratio(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen by integer weights so that the parts sum exactly to it (largest
    remainder; ties go to the earlier weight)."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must sum to more than zero")
    exact = [total * w for w in weights]
    parts = [e // whole for e in exact]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return parts
