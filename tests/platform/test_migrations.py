import pytest
from alembic import command
from sqlalchemy import Connection, text

from jubao.platform.migrate import (
    SchemaOutOfDateError,
    alembic_config,
    check_models_match_migrations,
    check_schema_current,
)
from jubao.platform.services import Services


async def test_models_match_the_migrations(services: Services) -> None:
    """`alembic check`: every model change has a migration."""
    await check_models_match_migrations(services.db)


async def test_the_service_refuses_a_database_behind_the_code(services: Services) -> None:
    await check_schema_current(services.db)
    async with services.db.engine.begin() as connection:
        head = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    try:
        with pytest.raises(SchemaOutOfDateError, match="jubao migrate"):
            await check_schema_current(services.db)
    finally:  # the PostgreSQL database is shared by the run's tests
        async with services.db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )


async def test_the_newest_migrations_go_down_and_up_again(services: Services) -> None:
    """A release can be rolled back: the downgrades of the migrations since the pension core
    undo their upgrades."""

    def down_and_up(connection: Connection) -> None:
        config = alembic_config(connection)
        command.downgrade(config, "0002")
        command.upgrade(config, "head")

    async with services.db.engine.begin() as connection:
        await connection.run_sync(down_and_up)
    await check_schema_current(services.db)
    await check_models_match_migrations(services.db)
