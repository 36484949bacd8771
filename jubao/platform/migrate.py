"""Schema migrations (alembic) and the role table that lives in the policy store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from jubao.authz.actor import Actor
from jubao.authz.policy import catalogue_policies, stored_role_policies, sync_role_policies
from jubao.pension.policy.params import seed_national
from jubao.platform.db import Database
from jubao.platform.worker import install_queue

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class PolicyOutOfDateError(RuntimeError):
    pass


def alembic_config(connection: Connection | None = None) -> Config:
    ini = PROJECT_ROOT / "alembic.ini"
    if not ini.exists():
        raise FileNotFoundError(
            f"{ini} is missing: jubao runs migrations from its source checkout "
            "(install it with `pip install -e .`)"
        )
    config = Config(str(ini))
    config.attributes["connection"] = connection
    return config


def schema_change(connection: Connection, change: Callable[[Connection], None]) -> None:
    """Run ``change`` (migrations) in one transaction. On SQLite, with foreign keys off
    meanwhile and checked before the commit: SQLite alters a table by copying it, and the old
    copy of a table that others reference cannot be dropped with them on (SQLite's own
    procedure for altering tables; the pragma is ignored inside a transaction, so it is set
    on the bare connection first)."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            change(connection)
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"the migration left rows naming nothing: {broken[:5]}")
    finally:
        if sqlite:
            _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, pragma: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _upgrade(connection: Connection) -> None:
    schema_change(connection, lambda c: command.upgrade(alembic_config(c), "head"))


def _check(connection: Connection) -> None:
    command.check(alembic_config(connection))


async def migrate(db: Database) -> tuple[int, int]:
    """Bring the schema to the newest revision, the role table in line with the catalogue, and
    make sure the national policy defaults exist. Returns the role permissions (added,
    removed)."""
    async with db.engine.connect() as connection:
        await connection.run_sync(_upgrade)
    await install_queue(db)
    actor = Actor.system("migrate")
    async with db.transaction(actor) as session:
        changes = await sync_role_policies(session)
        await seed_national(session, actor)
    return changes


async def check_models_match_migrations(db: Database) -> None:
    """Raise if the models hold changes that no migration describes (``alembic check``)."""
    async with db.engine.connect() as connection:
        await connection.run_sync(_check)


async def check_role_policies(db: Database) -> None:
    async with db.session(Actor.system("startup")) as session:
        stored = await stored_role_policies(session)
    if stored != catalogue_policies():
        raise PolicyOutOfDateError(
            "the role table in the database differs from this version's catalogue; "
            "run `jubao migrate` (数据库中的角色权限与程序不一致，请先运行 jubao migrate)"
        )


class SchemaOutOfDateError(RuntimeError):
    pass


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def check_schema_current(db: Database) -> None:
    async with db.engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if current != head:
        raise SchemaOutOfDateError(
            f"database schema is at {current or 'nothing'}, this version needs {head}; "
            "run `jubao migrate` (数据库结构不是最新版本，请先运行 jubao migrate)"
        )
