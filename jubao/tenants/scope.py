"""Data scope: the set of region prefixes an operator may see, as SQL.

A scope of ``{"4101", "410203005"}`` means "every code under city 4101 and under township
410203005". It becomes range predicates on an indexed 12-digit column, which use a B-tree index
on every database and collation (``LIKE 'x%'`` does not on PostgreSQL without C collation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from sqlalchemy import ColumnElement, Table, and_, false, or_

from jubao.tenants.codes import RegionCode


def _minimal(prefixes: Iterable[str]) -> frozenset[str]:
    """Drop every prefix that another, shorter prefix already covers."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return frozenset(kept)


@dataclass(frozen=True, slots=True)
class Scope:
    """An immutable set of region prefixes, none covering another."""

    prefixes: frozenset[str]

    @classmethod
    def of(cls, prefixes: Iterable[str]) -> Scope:
        return cls(_minimal(prefixes))

    def __bool__(self) -> bool:
        return bool(self.prefixes)

    def covers(self, region: RegionCode) -> bool:
        return any(p in self.prefixes for p in region.prefixes)

    def within(self, region: RegionCode) -> Scope:
        """The part of this scope that lies inside ``region``'s subtree."""
        if self.covers(region):
            return Scope(frozenset({region.prefix}))
        return Scope(frozenset(p for p in self.prefixes if p.startswith(region.prefix)))

    def clause(self, column: Any) -> ColumnElement[bool]:
        """A predicate on a 12-digit code column that keeps exactly the rows in scope."""
        if not self.prefixes:
            return false()
        ranges = [
            and_(column >= p.ljust(12, "0"), column <= p.ljust(12, "9"))
            for p in sorted(self.prefixes)
        ]
        return ranges[0] if len(ranges) == 1 else or_(*ranges)


def unscoped(model: type[RegionScoped]) -> Table:
    """The table of a region-scoped class, for a Core statement that deliberately reads or
    writes across the caller's scope: only ORM statements are scoped (``jubao.authz.scoping``),
    so this is the one way past it. Each use is a decision (a fact about the whole province,
    such as whether an ID number is enrolled anywhere; a system batch bounded by its own
    region), and tests/test_architecture.py lists every place that makes it, with why."""
    table = cast("Any", model).__table__  # (the mixin is not the mapped class)
    assert isinstance(table, Table)
    return table


class RegionScoped:
    """Mixin for mapped classes whose rows belong to a place.

    Every ORM read of such a class is filtered by the caller's read scope for
    ``__scope_object__`` (see ``jubao.authz.scoping``); ``__scope_column__`` names the
    12-digit code column that places the row.
    """

    __scope_object__: ClassVar[str]
    __scope_column__: ClassVar[str] = "region_code"

    @classmethod
    def read_criteria(cls, scope_of: Callable[[str], Scope]) -> ColumnElement[bool]:
        """The rows a caller may read, given the caller's read scope for each object.

        Classes whose rows belong to different objects (e.g. applications of several kinds)
        override this."""
        return scope_of(cls.__scope_object__).clause(getattr(cls, cls.__scope_column__))
