"""Security headers on every response; HTML pages framed by nothing and held to a policy."""

import httpx
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from jubao.platform.http import RequestContext

EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


async def test_every_answer_carries_the_security_headers(edge: httpx.AsyncClient) -> None:
    answers = {
        "an API answer": await edge.post("/graphql", json={"query": "{ __typename }"}),
        "a request error": await edge.post("/graphql", json={"query": "{ nope }"}),
        "a refusal": await edge.post("/graphql", content=b"null"),
        "an unknown address": await edge.get("/nowhere"),
        "a refused download": await edge.get("/statements/UGVyc29uOjE=/2026.csv"),
        "a health check": await edge.get("/healthz"),
    }
    for what, response in answers.items():
        for name, value in EVERYWHERE.items():
            assert response.headers.get(name) == value, (what, name)
        assert "content-security-policy" not in response.headers, what  # JSON, not a page


async def test_html_pages_get_a_policy_and_no_framing(edge: httpx.AsyncClient) -> None:
    page = await edge.get("/graphql", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_a_page_or_asset_that_sets_its_own_keeps_them() -> None:
    own_policy = "default-src 'self'; script-src 'self' 'sha256-abc'"

    async def page(_: object) -> Response:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": own_policy})

    async def asset(_: object) -> Response:
        return Response("x", headers={"Cache-Control": "public, max-age=31536000, immutable"})

    app = RequestContext(Starlette(routes=[Route("/page", page), Route("/asset.js", asset)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as client:
        page_response = await client.get("/page")
        asset_response = await client.get("/asset.js")
    assert page_response.headers.get_list("content-security-policy") == [own_policy]
    assert page_response.headers["x-frame-options"] == "DENY"
    assert asset_response.headers.get_list("cache-control") == [
        "public, max-age=31536000, immutable"
    ]
    assert asset_response.headers["x-content-type-options"] == "nosniff"
