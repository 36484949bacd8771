"""Central data scoping: every ORM read of a region-scoped class is filtered in SQL.

Sessions carry their :class:`~jubao.authz.actor.Actor` in ``session.info["actor"]``. An ORM
query (or ORM bulk update/delete) touching a :class:`~jubao.tenants.scope.RegionScoped` class
gets the actor's read scope for that class's object as a ``WHERE`` criterion wherever the class
appears in it (subqueries, joins, aliases), so a new query cannot forget it. The criteria go
on the scoped tables the statement names; no relationships are mapped (a joined eager load of
one would bring in a table the statement does not name). Core statements on bare tables
are not touched: they are kept for the few deliberately unscoped look-ups (is a username or an
ID number taken anywhere in the province). A session without an actor refuses to run ORM
queries at all: unscoped work must say so with ``Actor.system(...)``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.util import find_tables

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Obj
from jubao.orm import Base
from jubao.tenants.scope import RegionScoped, Scope


class ScopedSession(Session):
    """The synchronous session class behind every ``AsyncSession`` the application opens."""


class MissingActorError(RuntimeError):
    pass


class ScopedClasses:
    """Every mapped region-scoped class by its table, recomputed whenever a class has been
    mapped since: one mapped after the first query must not escape the scope."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._mapped = -1
        self._by_table: dict[FromClause, type[Any]] = {}

    def __call__(self) -> dict[FromClause, type[Any]]:
        mappers = self._registry.mappers
        if len(mappers) != self._mapped:
            self._by_table = {
                m.local_table: m.class_ for m in mappers if issubclass(m.class_, RegionScoped)
            }
            self._mapped = len(mappers)
        return self._by_table

    def in_statement(self, statement: Any) -> tuple[type[Any], ...]:
        """The scoped classes whose tables ``statement`` reads or changes, anywhere in it."""
        by_table = self()
        found = find_tables(statement, include_aliases=True, include_crud=True)
        return tuple(cls for table, cls in by_table.items() if table in found)


_scoped_classes = ScopedClasses(Base.registry)


def actor_of(session: Session | AsyncSession) -> Actor:
    actor = session.info.get("actor")
    if actor is None:
        raise MissingActorError("session has no actor; open it with an Actor (or Actor.system)")
    return actor


@event.listens_for(ScopedSession, "do_orm_execute")
def _apply_read_scope(state: ORMExecuteState) -> None:
    # Reads, and ORM bulk UPDATE/DELETE too: nobody changes rows they cannot see.
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    principal = actor_of(state.session).principal
    if principal is None:
        return
    # Only the classes the statement touches: every criterion, used or not, is paid for in
    # the statement's cache key on each execution (about 0.5 ms for all of them).
    classes = _scoped_classes.in_statement(state.statement)
    if classes:
        state.statement = state.statement.options(*_criteria_for(classes, principal.reads))


@lru_cache(maxsize=4096)
def _criteria_for(
    classes: tuple[type[Any], ...], reads: frozenset[tuple[Obj, frozenset[str]]]
) -> tuple[Any, ...]:
    """The loader criteria for ``classes``, given where the caller may read what.

    Built once per distinct read scope, not per request: building them costs about as much
    as the query they filter, and the operators of a region all share one."""
    scopes = {obj: Scope.of(prefixes) for obj, prefixes in reads}
    empty = Scope(frozenset())

    def read_scope(obj: str) -> Scope:
        return scopes.get(Obj(obj), empty)

    return tuple(
        with_loader_criteria(cls, cls.read_criteria(read_scope), include_aliases=True)
        for cls in classes
    )
