"""GraphiQL served from the package: the page at ``GET /graphql`` and its files, no CDN.

Development only (production has no IDE). The vendored GraphiQL and React are pinned and
fetched by ``scripts/update_graphiql.py``; ``static/graphiql/vendor/README.md`` names their
versions, licences and SHA-256 sums. The page sends its own Content-Security-Policy: scripts
from this server's files only, none inline, and no request to any other origin.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static" / "graphiql"

# Scripts: the files below only, nothing inline, no eval. GraphiQL's stylesheet embeds its
# fonts and icons as data: URLs. Its dialogs lock the page's scroll with one <style> element
# (react-remove-scroll-bar), always the same text on this page (no margins, no scroll bar):
# allowed by its hash; were it to change, only that lock would be lost, and the browser test,
# which opens a dialog and fails on any CSP violation, would say so.
DIALOG_SCROLL_LOCK = "'sha256-nzTgYzXYDNe6BAHiiI7NNlfK8n/auuOAhh2t92YvuXo='"
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' {DIALOG_SCROLL_LOCK}",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# An asset asked for with its current digest (as the page links it) never changes: a new
# release links a new digest. Asked for otherwise, the browser must check each time.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_PLACEHOLDER = re.compile(r"\{\{([\w.-]+)\}\}")


@dataclass(frozen=True)
class Asset:
    path: Path
    media_type: str
    digest: str


@cache
def assets() -> dict[str, Asset]:
    """The files the page may load, by the name in their URL (nothing else is served)."""
    found = {}
    for path in sorted([*STATIC.iterdir(), *(STATIC / "vendor").iterdir()]):
        if path.suffix in MEDIA_TYPES:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            found[path.name] = Asset(path, MEDIA_TYPES[path.suffix], digest)
    return found


@cache
def _template() -> str:
    return (STATIC / "page.html").read_text(encoding="utf-8")


def graphiql_page(request: Request) -> Response:
    """The GraphiQL page, linking each asset by its path and digest."""

    def link(match: re.Match[str]) -> str:
        name = match[1]
        path = request.url_for("graphiql_asset", name=name).path
        return f"{path}?v={assets()[name].digest}"

    return HTMLResponse(
        _PLACEHOLDER.sub(link, _template()),
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


async def graphiql_asset(request: Request) -> Response:
    asset = assets().get(request.path_params["name"])
    if asset is None:
        return PlainTextResponse("Not Found", status_code=404)
    current = request.query_params.get("v") == asset.digest
    return FileResponse(
        asset.path,
        media_type=asset.media_type,
        headers={"Cache-Control": IMMUTABLE if current else REVALIDATE},
    )


def graphiql_route() -> Route:
    return Route("/graphiql/{name}", graphiql_asset, name="graphiql_asset")
