"""GraphiQL is served from the package: the page, its files, their sums, and none in production.

(tests/platform/test_graphiql_browser.py renders it in Chromium.)"""

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import httpx
import pytest
from graphql import parse, validate

from jubao.platform.api.schema import build_schema
from jubao.platform.app import create_app
from jubao.platform.graphiql import STATIC, assets
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
VENDOR = STATIC / "vendor"
PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"


async def client_for(**settings: str) -> httpx.AsyncClient:
    # The page and its files need no database: the app is never started against one.
    app = create_app(make_settings("sqlite+aiosqlite:///unused.db", **settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jubao.test")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for() as client:
        yield client


class Page(HTMLParser):
    """What a page loads (src and href), its scripts' inline text, and any inline style."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inline_script = ""
        self.inline_style: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.links += [v for k, v in attrs if k in {"src", "href"} and v is not None]
        if "style" in values or tag == "style":
            self.inline_style.append(tag)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script += data.strip()


async def page(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/graphql", headers={"Accept": "text/html"})


async def test_the_page_loads_only_files_of_this_server(client: httpx.AsyncClient) -> None:
    response = await page(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    parsed = Page(response.text)
    assert parsed.inline_script == ""
    assert parsed.inline_style == []
    assert "http:" not in response.text and "https:" not in response.text
    assert "//" not in "".join(parsed.links)
    local = [link for link in parsed.links if link != "data:,"]  # the empty favicon
    assert all(link.startswith("/graphiql/") for link in local), local
    # every file the server offers is on the page, once, with its current digest
    linked = {PurePosixPath(link.split("?")[0]).name: link for link in local}
    assert len(linked) == len(local)
    assert {name: f"/graphiql/{name}?v={asset.digest}" for name, asset in assets().items()} == (
        linked
    )


async def test_the_page_sends_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    policy = (await page(client)).headers["content-security-policy"]
    directives = {name: sources for name, *sources in (d.split() for d in policy.split("; "))}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert directives["connect-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for sources in directives.values():
        assert not any(re.match(r"(https?:|\*|'unsafe-)", source) for source in sources), sources


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [(".js", "text/javascript; charset=utf-8"), (".css", "text/css; charset=utf-8")],
)
async def test_each_file_is_served_from_the_package_and_cached_by_its_digest(
    client: httpx.AsyncClient, suffix: str, media_type: str
) -> None:
    served = {name: asset for name, asset in assets().items() if name.endswith(suffix)}
    assert len(served) >= 2
    for name, asset in served.items():
        current = await client.get(f"/graphiql/{name}?v={asset.digest}")
        assert current.status_code == 200, name
        assert current.headers["content-type"] == media_type
        assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert current.content == asset.path.read_bytes()
        # asked for without its digest (or an old one): the browser must check again
        for stale in (f"/graphiql/{name}", f"/graphiql/{name}?v=0123456789abcdef"):
            response = await client.get(stale)
            assert response.status_code == 200
            assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/page.html",
        "/graphiql/README.md",
        "/graphiql/LICENSE-react",
        "/graphiql/vendor%2Fgraphiql.min.js",
        "/graphiql/..%2F..%2Fgraphiql.py",
        "/graphiql/missing.js",
    ],
)
async def test_nothing_else_is_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_production_serves_neither_the_page_nor_its_files() -> None:
    async with await client_for(env="production", secret_key=PRODUCTION_SECRET) as client:
        response = await page(client)
        assert response.status_code == 404
        assert "graphiql" not in response.text.lower()
        for name, asset in assets().items():
            assert (await client.get(f"/graphiql/{name}?v={asset.digest}")).status_code == 404


def test_vendored_files_are_the_published_ones_with_their_licences() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    packages = re.findall(r"^\| ([\w-]+) \| ([\d.]+) \| MIT \| `sha512-", readme, re.MULTILINE)
    assert {name for name, _ in packages} == {"graphiql", "react", "react-dom"}
    for name, _ in packages:
        assert "Permission is hereby granted" in (VENDOR / f"LICENSE-{name}").read_text()
    sums = dict(re.findall(r"^\| `([\w.-]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.MULTILINE))
    vendored = {p.name for p in VENDOR.iterdir() if p.suffix in {".js", ".css"}}
    assert set(sums) == vendored
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_package_ships_the_page_and_its_files() -> None:
    """pyproject.toml's package-data covers every file the page needs, and the licences."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["jubao"]
    package = ROOT / "jubao"
    needed = [p for p in STATIC.rglob("*") if p.is_file()]
    assert {"page.html", "LICENSE-graphiql", "README.md"} <= {p.name for p in needed}
    for path in needed:
        relative = path.relative_to(package)
        assert any(relative.match(pattern) for pattern in patterns), relative


def test_the_pages_own_queries_are_valid_against_the_schema() -> None:
    script = (STATIC / "jubao-graphiql.js").read_text(encoding="utf-8")
    queries = dict(re.findall(r"const ([A-Z_]+) = `(.*?)`;", script, re.DOTALL))
    assert set(queries) == {"LOGIN", "REFRESH", "ME", "DEFAULT_QUERY"}
    schema = build_schema()._schema
    for name, query in queries.items():
        assert not validate(schema, parse(query)), name
