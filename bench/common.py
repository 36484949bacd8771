"""Shared set-up for the benchmarks: a fresh migrated database and a big demo region tree."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from jubao.authz.actor import Actor
from jubao.platform.migrate import migrate
from jubao.platform.services import Services
from jubao.platform.settings import Settings
from jubao.tenants.demo import demo_regions
from jubao.tenants.importer import import_regions

SYSTEM = Actor.system("bench")


def settings(url: str) -> Settings:
    return Settings(
        env="test",  # type: ignore[arg-type]
        database_url=url,
        argon2_memory_kib=8,
        argon2_time_cost=1,
        argon2_parallelism=1,
    )


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[Services]:
    """A migrated database for one benchmark: a temporary SQLite file, or a new PostgreSQL
    database on JUBAO_BENCH_POSTGRES_URL (default: the local server), dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            services = Services.create(settings(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"))
            await migrate(services.db)
            try:
                yield services
            finally:
                await services.db.dispose()
        return
    admin_url = make_url(
        os.environ.get(
            "JUBAO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        )
    )
    name = f"jubao_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    services = Services.create(
        settings(admin_url.set(database=name).render_as_string(hide_password=False))
    )
    try:
        await migrate(services.db)
        yield services
    finally:
        await services.db.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def load_regions(services: Services, size: tuple[int, int, int, int]) -> list[str]:
    """The demo tree of ``size``; returns the village codes."""
    regions = list(demo_regions(*size))
    async with services.db.transaction(SYSTEM) as session:
        await import_regions(
            session,
            SYSTEM,
            ((n, [r.code, r.name, r.urban_rural_class or ""]) for n, r in enumerate(regions, 2)),
            valid_from=date(2009, 1, 1),  # the scheme's start: older than anything benchmarked
        )
    return [r.code for r in regions if r.code[9:] != "000"]


def run(coroutine: object) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]
