import pytest
from sqlalchemy import text

from jubao.platform.migrate import (
    SchemaOutOfDateError,
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
        await connection.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    with pytest.raises(SchemaOutOfDateError, match="jubao migrate"):
        await check_schema_current(services.db)
