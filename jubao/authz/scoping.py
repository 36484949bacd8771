"""Central data scoping: every ORM read of a region-scoped class is filtered in SQL.

Sessions carry their :class:`~jubao.authz.actor.Actor` in ``session.info["actor"]``. A query
for a :class:`~jubao.tenants.scope.RegionScoped` class gets the actor's read scope for that
class's object as a ``WHERE`` criterion (also on relationship and eager loads), so a new query
cannot forget it. A session without an actor refuses to run ORM queries at all: unscoped work
must say so with ``Actor.system(...)``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.orm import Base
from jubao.tenants.scope import RegionScoped


class ScopedSession(Session):
    """The synchronous session class behind every ``AsyncSession`` the application opens."""


class MissingActorError(RuntimeError):
    pass


@cache
def _scoped_classes() -> tuple[type[Any], ...]:
    # Computed on first use, after every model module has been imported.
    return tuple(
        mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, RegionScoped)
    )


def actor_of(session: Session | AsyncSession) -> Actor:
    actor = session.info.get("actor")
    if actor is None:
        raise MissingActorError("session has no actor; open it with an Actor (or Actor.system)")
    return actor


@event.listens_for(ScopedSession, "do_orm_execute")
def _apply_read_scope(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load:
        return
    principal = actor_of(state.session).principal
    if principal is None:
        return
    options = [
        with_loader_criteria(
            cls,
            principal.scope(Obj(cls.__scope_object__), Act.READ).clause(
                getattr(cls, cls.__scope_column__)
            ),
            include_aliases=True,
        )
        for cls in _scoped_classes()
    ]
    state.statement = state.statement.options(*options)
