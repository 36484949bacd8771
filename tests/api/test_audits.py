"""The graphql-http server audits (npm), run by node against a live `jubao serve`.

In development every audit passes; in production exactly the audits that ask the schema about
itself (`__type`) differ, since introspection is off there. Without node or the pinned npm
packages (`npm ci --prefix tests/api/audits`, which .ci/run does) the audits are skipped with
a message, except in CI, where that is a failure."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.platform.live_server import live_server

AUDITS = Path(__file__).parent / "audits"
PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"
# The audits whose queries read `__type`: refused in production, where introspection is off.
INTROSPECTION_AUDITS = {
    "2EA1": "warn",  # SHOULD allow map {variables} parameter (graphql-response+json)
    "28B9": "error",  # MUST allow map {variables} parameter (application/json)
    "D6D5": "notice",  # MAY allow URL-encoded JSON {variables} in GETs (graphql-response+json)
    "6A70": "notice",  # MAY allow URL-encoded JSON {variables} in GETs (application/json)
}


@pytest.fixture(scope="module", params=["development", "production"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`jubao serve` on a free port over a freshly migrated SQLite file."""
    with live_server(
        tmp_path_factory.mktemp(request.param),
        demo=False,
        JUBAO_ENV=request.param,
        JUBAO_SECRET_KEY=PRODUCTION_SECRET,
        JUBAO_LOG_LEVEL="WARNING",
    ) as url:
        yield url


@pytest.fixture(scope="module")
def node() -> str:
    """The node to run the audits with (checked before any server is started)."""
    node = shutil.which("node")
    missing = (
        "node is not installed"
        if node is None
        else "the audit packages are not installed (npm ci --prefix tests/api/audits)"
        if not (AUDITS / "node_modules" / "graphql-http").is_dir()
        else None
    )
    if missing:
        if IN_CI:
            pytest.fail(f"{missing}: CI runs the graphql-http audits (see .ci/run)")
        pytest.skip(f"graphql-http audits not run: {missing}")
    assert node is not None
    return node


def run_audits(node: str, url: str) -> dict[str, dict[str, str]]:
    finished = subprocess.run(
        [node, "audit.mjs", f"{url}/graphql"],
        cwd=AUDITS,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {result["id"]: result for result in json.loads(finished.stdout)}


def test_the_graphql_http_audits(node: str, server: str, request: pytest.FixtureRequest) -> None:
    results = run_audits(node, server)
    assert len(results) == 61  # graphql-http 1.23.1
    differing = {id: r["status"] for id, r in results.items() if r["status"] != "ok"}
    details = {id: results[id] for id in differing}
    if "production" in request.node.callspec.id:
        assert differing == INTROSPECTION_AUDITS, details
    else:
        assert differing == {}, details
    sys.stdout.write(f"graphql-http audits: {len(results)} run, {len(differing)} not ok\n")


def test_no_server_banner(server: str) -> None:
    for path in ("/healthz", "/graphql?query=%7B__typename%7D", "/nowhere"):
        response = httpx.get(f"{server}{path}")
        assert "server" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff"
