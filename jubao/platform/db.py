"""Engine and sessions. Every session carries the actor whose scope filters its reads."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from jubao.authz.actor import Actor
from jubao.authz.scoping import ScopedSession

# Write transactions on SQLite take the write lock when they begin (BEGIN IMMEDIATE): a deferred
# transaction that read first and writes later fails at once with SQLITE_BUSY_SNAPSHOT when
# another writer committed in between, whatever the busy timeout.
_SQLITE_WRITE = {"sqlite_begin": "IMMEDIATE"}


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


# PostgreSQL SQLSTATEs that say the server cannot serve now, not that a statement is wrong:
# connection exceptions (class 08), shutting down or starting up (57P01–57P03), and too many
# connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite result codes that say the same of the file: it cannot be opened or read, or stays
# locked by another writer past the busy timeout.
_UNAVAILABLE_SQLITE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_LOCKED")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached or cannot serve for the moment
    (a retry later may succeed), as opposed to a mistake in a statement."""
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror | exc.TimeoutError):
        return True  # refused, reset, timed out (the driver's own); no pooled connection free
    cause: BaseException | None = error
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    sqlstate = getattr(cause, "sqlstate", None)  # asyncpg's errors, raw or adapted
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    sqlite_name = getattr(cause, "sqlite_errorname", None)
    return isinstance(sqlite_name, str) and sqlite_name.startswith(_UNAVAILABLE_SQLITE)


def outage(error: BaseException) -> str:
    """A log line's worth of what failed: the driver's message, without the statement and its
    parameters (which may hold personal data)."""
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    return f"{type(cause).__name__}: {cause}"


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    # A statement's parameters hold personal data: they are never put into error messages
    # (and so never into logs or tracebacks).
    if url.startswith("sqlite"):
        engine = create_async_engine(url, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=ScopedSession
        )
        self._writer = (
            self.engine.execution_options(**_SQLITE_WRITE) if self.is_sqlite else self.engine
        )
        self._write_sessions = async_sessionmaker(
            self._writer, expire_on_commit=False, sync_session_class=ScopedSession
        )

    def open_session(self, actor: Actor) -> AsyncSession:
        """A reading session the caller closes (e.g. at the end of a request)."""
        return self._sessions(info={"actor": actor})

    @asynccontextmanager
    async def session(self, actor: Actor) -> AsyncIterator[AsyncSession]:
        """A session for reading; whatever it wrote is rolled back at the end."""
        async with self._sessions(info={"actor": actor}) as session:
            yield session

    @asynccontextmanager
    async def transaction(self, actor: Actor) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed if the block succeeds, rolled back if it raises."""
        async with self._write_sessions(info={"actor": actor}) as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_session(self, actor: Actor) -> AsyncIterator[AsyncSession]:
        """A writing session whose caller commits (for work that commits more than once)."""
        async with self._write_sessions(info={"actor": actor}) as session:
            yield session

    @asynccontextmanager
    async def one_connection(
        self, actor: Actor
    ) -> AsyncIterator[Callable[[], AbstractAsyncContextManager[AsyncSession]]]:
        """Units of work like :meth:`transaction`, one after another on a single connection:
        for work that keeps a temporary table from one transaction to the next."""
        async with self._writer.connect() as connection:
            sessions = async_sessionmaker(
                connection, expire_on_commit=False, sync_session_class=ScopedSession
            )

            @asynccontextmanager
            async def unit() -> AsyncIterator[AsyncSession]:
                async with sessions(info={"actor": actor}) as session, session.begin():
                    yield session

            yield unit

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
