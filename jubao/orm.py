"""The declarative base shared by every layer, and column types used across the schema."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

# Stable constraint names, so that alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time-zone type and hands back naive values; storing naive UTC and
    re-attaching the zone on the way out makes both databases behave alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


# 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")


def append_only(table: str, dialect: str) -> list[str]:
    """DDL that makes ``table`` refuse UPDATE and DELETE from any program (a correction is a
    new row); on PostgreSQL through migration 0003's ``jubao_append_only()``."""
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jubao_append_only()"
        ]
    return [
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def not_append_only(table: str, dialect: str) -> list[str]:
    """The DDL that undoes ``append_only``."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER {table}_append_only ON {table}"]
    return [f"DROP TRIGGER {table}_no_{operation}" for operation in ("update", "delete")]


def upsert(dialect: str, entity: Any) -> Any:
    """The dialect's ``INSERT`` with ``ON CONFLICT`` support (SQLite and PostgreSQL alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(entity)


async def hold_lock(session: AsyncSession, name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called ``name``: on
    PostgreSQL an advisory lock (its key a hash of the name); SQLite runs one write
    transaction at a time anyway."""
    if dialect_of(session) == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))


def dialect_of(session: AsyncSession | Session) -> str:
    return session.get_bind().dialect.name


def among(column: Any, values: Sequence[Any], dialect: str) -> Any:
    """``column IN (values)``. On PostgreSQL it is ``= ANY(array)``: one parameter, so the
    prepared statement is reused however many values there are (a thousand-parameter IN list is
    compiled and prepared anew every time)."""
    if dialect == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


async def insert_many(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[Sequence[Any]]
) -> None:
    """Many rows into ``table`` in the session's transaction, the fastest way each database
    has: PostgreSQL's binary COPY (a statement per row costs a province's run minutes),
    executemany elsewhere. ``records`` hold the columns' values in order, as Python values;
    JSON columns are serialised here for COPY, which takes them as text."""
    if not records:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await connection.execute(
            insert(table), [dict(zip(columns, r, strict=True)) for r in records]
        )
        return
    as_text = [isinstance(table.c[name].type, JSON) for name in columns]
    if any(as_text):
        records = [
            tuple(
                orjson.dumps(v).decode() if text else v for v, text in zip(r, as_text, strict=True)
            )
            for r in records
        ]
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # the driver adapter begins its transaction lazily, on a statement: without one, the
        # COPY would commit on its own, outside the caller's transaction
        await connection.execute(select(literal(1)))
    await driver.copy_records_to_table(table.name, records=records, columns=list(columns))
