"""The real thing: `jubao demo` then `jubao serve --workers 2` on a socket."""

import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from jubao.platform.demo import DEMO_PASSWORD
from tests.platform.live_server import live_server

AUTH_CACHE_SECONDS = 1.0


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[str]:
    with live_server(
        workdir,
        workers=2,
        JUBAO_AUTH_CACHE_SECONDS=str(AUTH_CACHE_SECONDS),
    ) as url:
        yield url


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


def test_workers_started_together_sign_with_one_generated_secret(
    server: str, workdir: Path
) -> None:
    """No JUBAO_SECRET_KEY in development: the two workers generated the data folder's secret
    together and agree on it, so a token from one is good at the other."""
    token = login(server, "auditor")
    for _ in range(20):
        me = graphql(server, "{ me { user { username } } }", token=token)
        assert me["data"]["me"]["user"]["username"] == "auditor"
    secret = workdir / "jubao.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sorted(p.name for p in workdir.iterdir() if "secret" in p.name) == ["jubao.secret"]


def permissions(url: str, token: str) -> list[dict[str, str]]:
    return graphql(url, "{ me { permissions { object } } }", token=token)["data"]["me"][
        "permissions"
    ]


def seconds_until(url: str, token: str, settled: Callable[[list[dict[str, str]]], bool]) -> float:
    """How long until every worker answers as ``settled`` wants (ten answers in a row): the
    time the first of those ten was asked, so that a slow machine's time to ask them is not
    counted as the change's."""
    start = time.monotonic()
    while time.monotonic() - start < 10:
        asked = time.monotonic()
        if all(settled(permissions(url, token)) for _ in range(10)):
            return asked - start
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
