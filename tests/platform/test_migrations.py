import pytest
from alembic import command
from sqlalchemy import Connection, text

from jubao.platform.migrate import (
    SchemaOutOfDateError,
    alembic_config,
    check_models_match_migrations,
    check_schema_current,
    schema_change,
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

    async with services.db.engine.connect() as connection:
        await connection.run_sync(schema_change, down_and_up)
    await check_schema_current(services.db)
    await check_models_match_migrations(services.db)


async def test_the_seeded_increase_of_2014_moves_to_july(services: Services) -> None:
    """Stored while sets took effect by the year, the national 70 yuan (paid from July 2014)
    was a 2015 set; by the month it is July 2014's, and its amount is kept."""
    where = "FROM policy_set WHERE region_prefix = '' AND title LIKE '人社部发〔2015〕5号%'"

    def down(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0008_import_runs")

    def up(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with services.db.engine.connect() as connection:
        await connection.run_sync(schema_change, down)
        before = (await connection.execute(text(f"SELECT effective_year, params {where}"))).one()
        await connection.commit()
        await connection.run_sync(schema_change, up)
        after = (
            await connection.execute(
                text(f"SELECT effective_year, effective_month, params {where}")
            )
        ).one()
    assert (before.effective_year, after.effective_year, after.effective_month) == (2015, 2014, 7)
    assert before.params == after.params
