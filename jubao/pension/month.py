"""Months: benefits are awarded, paid and changed by the month (2026-11)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic_core import core_schema

from jubao.errors import DomainError, ErrorCode
from jubao.text import quoted

_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")


class MonthError(ErrorCode):
    MALFORMED = (
        "年月“{value}”格式不正确，应为 YYYY-MM，如 2026-07",
        "'{value}' is not a month: write YYYY-MM, e.g. 2026-07",
    )
    RANGE = ("年月应在 2009-01 到 2100-12 之间", "A month is between 2009-01 and 2100-12")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise DomainError(MonthError.MALFORMED, value=f"{self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _TEXT.fullmatch(text) if isinstance(text, str) else None
        if found is None or not 1 <= int(found[2]) <= 12:
            raise DomainError(MonthError.MALFORMED, value=quoted(str(text), 20))
        month = cls(int(found[1]), int(found[2]))
        if not Month(2009, 1) <= month <= Month(2100, 12):
            raise DomainError(MonthError.RANGE)
        return month

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        """In forms and results: "2027-05" (a stored result is read back from it)."""
        return core_schema.no_info_plain_validator_function(
            lambda value: value if isinstance(value, Month) else cls.parse(value),
            serialization=core_schema.to_string_ser_schema(),
        )

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def index(self) -> int:
        """Months since year 0: ``b.index - a.index`` counts the months from a to b."""
        return self.year * 12 + self.month - 1

    def next(self) -> Month:
        return self.plus(1)

    def plus(self, months: int) -> Month:
        index = self.index + months
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
