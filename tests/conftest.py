"""Fixtures: every database test runs on SQLite and, when JUBAO_TEST_POSTGRES_URL is set, on
PostgreSQL too, each in a database created for this run and dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from jubao.authz.actor import Actor
from jubao.authz.policy import grants_of, sync_role_policies
from jubao.authz.principal import Principal
from jubao.pension.policy.params import seed_national
from jubao.platform.app import create_app
from jubao.platform.migrate import migrate
from jubao.platform.models import metadata
from jubao.platform.services import Services
from jubao.platform.settings import Settings
from tests.helpers import Api, Clock, World, build_world

POSTGRES_URL = os.environ.get("JUBAO_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and POSTGRES_URL is None:
        # CI covers both databases: a run without PostgreSQL is a failure, not a pass on half.
        raise pytest.UsageError("CI=true needs JUBAO_TEST_POSTGRES_URL (see .ci/run)")


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        # argon2 at its cheapest: the tests exercise the logic, not the cost.
        "argon2_memory_kib": 8,
        "argon2_time_cost": 1,
        "argon2_parallelism": 1,
        "database_pool_size": 5,
        # set, so that no test writes a generated secret file (least of all into the project)
        "secret_key": "test-signing-key-not-for-any-deployment",
        # on, as in production (changes made through the API must still take effect at
        # once), and long enough that no test sees an entry expire between two requests
        "auth_cache_seconds": 5,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def run_aside(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run set-up work on its own event loop in another thread, away from the tests' loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        services = Services.create(make_settings(f"sqlite+aiosqlite:///{path}"))
        await migrate(services.db)
        async with services.db.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await services.db.dispose()

    run_aside(build())
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated, dropped at the end."""
    assert POSTGRES_URL is not None
    admin_url = make_url(POSTGRES_URL)
    name = f"jubao_test_{uuid.uuid4().hex[:12]}"
    url = admin_url.set(database=name).render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def create() -> None:
        await admin(f'CREATE DATABASE "{name}"')
        services = Services.create(make_settings(url))
        await migrate(services.db)
        await services.db.dispose()

    try:
        run_aside(create())
    except OSError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL ({admin_url}) is unreachable and CI=true: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        yield url
    finally:
        run_aside(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # (chunks queued by one test would name the jobs of the next)
        await connection.execute(text("TRUNCATE pgqueuer"))
    await engine.dispose()
    services = Services.create(make_settings(url))
    actor = Actor.system("test reset")
    async with services.db.transaction(actor) as session:
        await sync_role_policies(session)
        await seed_national(session, actor)
    await services.db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "jubao.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    run_aside(_reset_postgres(url))


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    services = Services.create(make_settings(database_url), clock=Clock())
    yield services
    await services.db.dispose()


@pytest.fixture
async def world(services: Services) -> World:
    """The demo province and one operator per role (see ``tests.helpers.build_world``)."""
    return await build_world(services)


@pytest.fixture
async def api(services: Services, world: World) -> AsyncIterator[Api]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        yield Api(client)


ActorFor = Callable[[str], AbstractAsyncContextManager[tuple[Actor, AsyncSession]]]


@pytest.fixture
def acting(services: Services, world: World) -> ActorFor:
    """``async with acting("perm.county") as (actor, session)``: a unit of work done by one of
    the world's operators, with their compiled principal and scoped session."""

    @asynccontextmanager
    async def act(username: str) -> AsyncIterator[tuple[Actor, AsyncSession]]:
        user_id = world.ids[username]
        async with services.db.session(Actor.system("load principal")) as session:
            principal = Principal(user_id, await grants_of(session, user_id))
        actor = Actor.operator(user_id, username, principal)
        async with services.db.transaction(actor) as session:
            yield actor, session

    return act
