"""A database outage is not an internal error: wherever it strikes, the answer is a retryable
SERVICE_UNAVAILABLE (HTTP 503, Retry-After, JSON with the request id), logged as a warning.

The outage is injected at the engine (pooled connections dropped, new ones refused as a
stopped PostgreSQL refuses them), so the shared PostgreSQL server keeps running."""

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import create_async_engine

from jubao.platform.app import create_app
from jubao.platform.db import database_unavailable
from jubao.platform.services import Services
from tests.conftest import make_settings
from tests.helpers import Api

ME = "{ me { user { username } } }"
LOGIN = 'mutation { login(input: {username: "admin", password: "x"}) { userErrors { code } } }'


@asynccontextmanager
async def outage(services: Services) -> AsyncIterator[None]:
    def refuse(*_: Any) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    engine = services.db.engine.sync_engine
    await services.db.engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


def assert_unavailable(response: httpx.Response, request_id: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"] == request_id
    body = response.json()
    assert {e["extensions"]["code"] for e in body["errors"]} == {"SERVICE_UNAVAILABLE"}
    assert body["extensions"]["requestId"] == request_id


async def test_an_outage_answers_503_wherever_it_strikes(
    api: Api, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    known = await api.token("admin")
    assert (await api.post(ME, token=known))["data"]  # remembered by the auth cache
    unknown = await api.token("county.reviewer")  # never used: its check reads the database
    statement = "/statements/UGVyc29uOjE=/2026.csv"
    requests: dict[str, tuple[str, str, dict[str, Any]]] = {  # where it strikes: the request
        "building the context": ("POST", "/graphql", {"json": {"query": ME}, "token": unknown}),
        "in a resolver": (
            "POST",
            "/graphql",
            {"json": {"query": "{ regions(first: 1) { totalCount } }"}, "token": known},
        ),
        "in a mutation": ("POST", "/graphql", {"json": {"query": LOGIN}, "token": None}),
        "checking a download's token": ("GET", statement, {"token": unknown}),
        "reading a download": ("GET", statement, {"token": known}),
    }
    with caplog.at_level(logging.INFO):
        async with outage(services):
            for number, (method, path, options) in enumerate(requests.values()):
                token = options.pop("token")
                headers = {"X-Request-ID": f"outage-{number}", "Accept-Language": "en"}
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                response = await api.client.request(method, path, headers=headers, **options)
                assert_unavailable(response, headers["X-Request-ID"])
                message = response.json()["errors"][0]["message"]
                assert message == "The database is unavailable for the moment; retry in 5 seconds"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    # and once it is back, so is the service
    assert (await api.post(ME, token=unknown))["data"]["me"]["user"]["username"] == (
        "county.reviewer"
    )


async def test_an_unreadable_sqlite_file_is_unavailable_too(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'jubao.db'}")
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jubao.test"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": LOGIN}, headers={"X-Request-ID": "cantopen"}
        )
    await app.state.services.db.dispose()
    assert_unavailable(response, "cantopen")
    assert response.json()["errors"][0]["message"] == "数据库暂时无法访问，请 5 秒后重试"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_what_counts_as_unavailable(tmp_path: Path) -> None:
    async def raised(url: str, statement: str = "SELECT 1") -> BaseException:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        except Exception as error:
            return error
        finally:
            await engine.dispose()
        raise AssertionError("no error")

    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    postgres_down = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/postgres"
    unavailable = [
        await raised(postgres_down),  # the driver's own ConnectionRefusedError
        await raised(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'x.db'}"),  # SQLITE_CANTOPEN
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
        exc.TimeoutError("QueuePool limit reached"),
        TimeoutError(),
    ]
    mistakes = [
        await raised(sqlite, "SELECT * FROM no_such_table"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        exc.DBAPIError("SELECT 1", {}, Exception("syntax"), connection_invalidated=False),
        ValueError("not the database"),
        FileNotFoundError("not the database either"),
    ]
    assert [database_unavailable(e) for e in unavailable] == [True] * len(unavailable)
    assert [database_unavailable(e) for e in mistakes] == [False] * len(mistakes)
