"""The real thing: `jubao demo` then `jubao serve --workers 2` on a socket."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from jubao.platform.demo import DEMO_PASSWORD

JUBAO = [sys.executable, "-m", "jubao.platform.cli"]
AUTH_CACHE_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "JUBAO_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'jubao.db'}",
        "JUBAO_ARGON2_MEMORY_KIB": "1024",
        "JUBAO_ARGON2_TIME_COST": "1",
        "JUBAO_AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS),
    }
    subprocess.run(
        [*JUBAO, "demo", "--no-serve"], env=env, cwd=workdir, check=True, capture_output=True
    )
    port = free_port()
    process = subprocess.Popen(
        [*JUBAO, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            process.kill()
            raise AssertionError(process.stdout.read().decode() if process.stdout else "no output")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def graphql(url: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200
    return response.json()


def login(url: str, username: str) -> str:
    result = graphql(
        url,
        "mutation ($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { tokens { accessToken } } }",
        {"u": username, "p": DEMO_PASSWORD},
    )
    return result["data"]["login"]["tokens"]["accessToken"]


def test_health_and_readiness(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/readyz").json() == {"status": "ready"}


def permissions(url: str, token: str) -> list[dict[str, str]]:
    return graphql(url, "{ me { permissions { object } } }", token=token)["data"]["me"][
        "permissions"
    ]


def seconds_until(url: str, token: str, settled: Callable[[list[dict[str, str]]], bool]) -> float:
    """How long until every worker answers as ``settled`` wants (ten answers in a row)."""
    start = time.monotonic()
    while time.monotonic() - start < 10:
        if all(settled(permissions(url, token)) for _ in range(10)):
            return time.monotonic() - start
    raise AssertionError("the change never reached every worker")


def test_a_grant_changed_through_one_worker_holds_in_all_within_a_second(server: str) -> None:
    admin = login(server, "permission.admin")
    target = login(server, "county.processor")
    me = graphql(server, "{ me { user { id } grants { id } } }", token=target)["data"]["me"]
    for _ in range(10):  # both workers now remember the target's rights
        assert permissions(server, target)
    revoke = graphql(
        server,
        'mutation ($g: ID!) { roleRevoke(input: {grant: $g, reason: "测试"}) { userErrors { code } } }',
        {"g": me["grants"][0]["id"]},
        token=admin,
    )
    assert revoke["data"]["roleRevoke"]["userErrors"] == []
    # The worker that made the change forgets at once; the other within its cache time.
    assert seconds_until(server, target, lambda p: p == []) < AUTH_CACHE_SECONDS + 0.5
    regranted = graphql(
        server,
        """mutation ($u: ID!) { roleGrant(input: {user: $u, role: AGENCY_PROCESSOR,
             region: "410121000000", reason: "恢复"}) { userErrors { code } } }""",
        {"u": me["user"]["id"]},
        token=admin,
    )
    assert regranted["data"]["roleGrant"]["userErrors"] == []
    assert seconds_until(server, target, lambda p: p != []) < AUTH_CACHE_SECONDS + 0.5
