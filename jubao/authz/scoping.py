"""Central data scoping: every ORM read of a region-scoped class is filtered in SQL.

Sessions carry their :class:`~jubao.authz.actor.Actor` in ``session.info["actor"]``. An ORM
query (or ORM bulk update/delete) touching a :class:`~jubao.tenants.scope.RegionScoped` class
gets the actor's read scope for that class's object as a ``WHERE`` criterion (also on
relationship and eager loads), so a new query cannot forget it. Core statements on bare tables
are not touched: they are kept for the few deliberately unscoped look-ups (is a username or an
ID number taken anywhere in the province). A session without an actor refuses to run ORM
queries at all: unscoped work must say so with ``Actor.system(...)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.orm import Base
from jubao.tenants.scope import RegionScoped, Scope


class ScopedSession(Session):
    """The synchronous session class behind every ``AsyncSession`` the application opens."""


class MissingActorError(RuntimeError):
    pass


class ScopedClasses:
    """Every mapped region-scoped class, recomputed whenever a class has been mapped since:
    one mapped after the first query must not escape the scope."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._mapped = -1
        self._classes: tuple[type[Any], ...] = ()

    def __call__(self) -> tuple[type[Any], ...]:
        mappers = self._registry.mappers
        if len(mappers) != self._mapped:
            self._classes = tuple(m.class_ for m in mappers if issubclass(m.class_, RegionScoped))
            self._mapped = len(mappers)
        return self._classes


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

    def read_scope(obj: str) -> Scope:
        return principal.scope(Obj(obj), Act.READ)

    options = [
        with_loader_criteria(cls, cls.read_criteria(read_scope), include_aliases=True)
        for cls in _scoped_classes()
    ]
    state.statement = state.statement.options(*options)
