"""Fixtures for the HTTP API tests."""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from jubao.platform.app import create_app
from tests.conftest import make_settings


@pytest.fixture(scope="module")
async def edge(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The service (development settings) over an empty database, for what happens at the
    edge, before any GraphQL field or the database is reached: one backend serves."""
    path = tmp_path_factory.mktemp("edge") / "jubao.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(make_settings(f"sqlite+aiosqlite:///{path}"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        yield client
    await app.state.services.db.dispose()
