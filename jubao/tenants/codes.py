"""`RegionCode`: the 12-digit statistical division code (统计用区划代码) as a value object.

Layout ``PP CC DD TTT VVV``: province, city, county, township, village. A region's *prefix* is
its significant digits, so the subtree of a region is exactly the set of codes starting with
its prefix, and ancestry never needs the database.
"""

from __future__ import annotations

import re
from enum import IntEnum
from functools import lru_cache, total_ordering
from typing import Self

from jubao.errors import DomainError, ErrorCode, Text

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


class Level(IntEnum):
    """Administrative level; smaller is higher up the tree."""

    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5

    @property
    def prefix_length(self) -> int:
        return PREFIX_LENGTHS[self - 1]

    @property
    def zh(self) -> str:
        return ("省", "市", "县", "乡镇", "村")[self - 1]

    @property
    def text(self) -> Text:
        return Text(self.zh, self.name.lower())


PREFIX_LENGTHS = (2, 4, 6, 9, 12)
_LEVEL_BY_PREFIX_LENGTH = {n: Level(i + 1) for i, n in enumerate(PREFIX_LENGTHS)}
_SEGMENTS = tuple(zip((0, *PREFIX_LENGTHS[:-1]), PREFIX_LENGTHS, strict=True))
_COUNTY_SEGMENT = Level.COUNTY - 1


class RegionCodeError(ErrorCode):
    UNKNOWN_REGION = (
        "区划 {region} 不存在或已撤销",
        "Region {region} does not exist or is abolished",
    )
    MALFORMED = (
        "区划代码必须是 12 位数字，收到“{code}”",
        "A region code must be exactly 12 digits, got '{code}'",
    )
    NO_LEVEL = (
        "区划代码 {code} 无法确定级别：省段不能为 00，下级段非零时上级段也必须非零"
        "（只有不设区县的地级市可以跳过县段）",
        "Region code {code} has no level: the province segment cannot be 00, and a lower "
        "segment can only be non-zero when every higher one is (only a city without counties "
        "may skip the county segment)",
    )
    BAD_PREFIX = (
        "区划前缀必须是 2、4、6、9 或 12 位数字，收到“{prefix}”",
        "A region prefix must have 2, 4, 6, 9 or 12 digits, got '{prefix}'",
    )


@lru_cache(maxsize=1 << 16)  # a province has up to ~50,000 villages
def _level_of(code: str) -> Level | None:
    significant = [code[start:end].strip("0") != "" for start, end in _SEGMENTS]
    depth = max((i + 1 for i, s in enumerate(significant) if s), default=0)
    gaps = [i for i in range(depth) if not significant[i]]
    # Only the county segment may be skipped: prefecture-level cities without counties
    # (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) have their townships right under the city.
    if depth == 0 or gaps not in ([], [_COUNTY_SEGMENT]) or (gaps and depth < Level.TOWNSHIP):
        return None
    return Level(depth)


@lru_cache(maxsize=1 << 16)  # asked once per row and right checked: pages repeat villages
def _prefixes_of(code: str, level: Level) -> tuple[str, ...]:
    skip_county = code[4:6] == "00"
    return tuple(
        code[:n]
        for n in PREFIX_LENGTHS[:level]
        if not (skip_county and n == Level.COUNTY.prefix_length)
    )


@total_ordering
class RegionCode:
    """A validated 12-digit region code. Immutable, hashable, ordered by code."""

    __slots__ = ("code", "level", "prefix")

    code: str
    level: Level
    prefix: str

    def __init__(self, code: str) -> None:
        if not isinstance(code, str) or not _TWELVE_DIGITS.fullmatch(code):
            raise DomainError(RegionCodeError.MALFORMED, code=str(code)[:40])
        level = _level_of(code)
        if level is None:
            raise DomainError(RegionCodeError.NO_LEVEL, code=code)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "prefix", code[: level.prefix_length])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RegionCode is immutable")

    @classmethod
    def from_prefix(cls, prefix: str) -> Self:
        if len(prefix) not in _LEVEL_BY_PREFIX_LENGTH or not prefix.isascii():
            raise DomainError(RegionCodeError.BAD_PREFIX, prefix=prefix[:40])
        region = cls(prefix.ljust(12, "0"))
        if region.prefix != prefix:
            raise DomainError(RegionCodeError.BAD_PREFIX, prefix=prefix)
        return region

    @property
    def parent(self) -> RegionCode | None:
        prefixes = self.prefixes
        return RegionCode.from_prefix(prefixes[-2]) if len(prefixes) > 1 else None

    @property
    def ancestors(self) -> tuple[RegionCode, ...]:
        """Strict ancestors, province first (at most four)."""
        return tuple(RegionCode.from_prefix(p) for p in self.prefixes[:-1])

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The prefixes of this region and all its ancestors, province first (at most five;
        four under a city without counties)."""
        return _prefixes_of(self.code, self.level)

    def prefix_at(self, level: Level) -> str:
        """The prefix of this region's ancestor (or itself) at ``level``, or at the nearest
        level above where that one is skipped (a city without counties has no county)."""
        return max((p for p in self.prefixes if len(p) <= level.prefix_length), key=len)

    def contains(self, other: RegionCode) -> bool:
        """True if ``other`` is this region or lies below it."""
        return other.code.startswith(self.prefix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegionCode) and other.code == self.code

    def __lt__(self, other: RegionCode) -> bool:
        return self.code < other.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"RegionCode({self.code!r})"


def prefix_level(prefix: str) -> Level:
    """The level of a region prefix (its length says it)."""
    try:
        return _LEVEL_BY_PREFIX_LENGTH[len(prefix)]
    except KeyError:
        raise DomainError(RegionCodeError.BAD_PREFIX, prefix=prefix[:40]) from None
