"""HTTP plumbing around every route: request IDs, security headers, a body-size limit, media
types, and refusals answered as JSON (never a bare 500).

An error body has one shape wherever it comes from — a refusal before any GraphQL runs, a
GraphQL result with errors, a download route, an unexpected exception:

    {"errors": [{"message": …, "extensions": {"code": …, "reason": …}}],
     "extensions": {"requestId": …}}

``requestId`` is also the ``X-Request-ID`` response header; the message is in the caller's
language (``Accept-Language``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jubao.errors import ErrorCode, Lang
from jubao.platform.api.errors import RETRY_AFTER_SECONDS, Problem, problem
from jubao.platform.db import database_unavailable, outage
from jubao.platform.logs import request_id_var

log = logging.getLogger("jubao.http")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Added to every response that does not set its own.
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # answers carry personal data and tokens: no cache (browser, proxy) keeps them
    (b"cache-control", b"no-store"),
)
# And to HTML pages, unless they bring their own (a page with its own policy keeps it).
_HTML_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        b"frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def request_id_of(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "-")


def lang_of(scope: Scope) -> Lang:
    return Lang.from_accept_language(header(scope, b"accept-language"))


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer a GraphQL request in, by its ``Accept`` header: the GraphQL
    response type or JSON (the default, and what ``*/*`` and ``application/*`` get); None when
    the header rules out both. Media types are compared whole and case-insensitively."""
    if accept is None or not accept.strip():
        return JSON
    best, best_q = None, 0.0
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        if media == GRAPHQL_RESPONSE:
            offered = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            offered = JSON
        else:
            continue
        q = _quality(params)
        # on equal preference, the GraphQL response type: it says more (status codes)
        if q > best_q or (q == best_q and q > 0 and offered == GRAPHQL_RESPONSE):
            best, best_q = offered, q
    return best


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0  # also refuses nan
    return 1.0


def error_media_type(scope: Scope) -> str:
    return response_media_type(header(scope, b"accept")) or JSON


class Refused(Exception):
    """A request refused before (or instead of) being served: an HTTP status, the problem
    (a `Problem`, or another error code reported ``under`` one as its ``reason``), and any
    headers the status calls for."""

    def __init__(
        self,
        status: int,
        kind: ErrorCode,
        /,
        *,
        under: Problem | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(kind.name)
        self.status = status
        self.kind = kind
        self.under = under
        self.params = params
        self.headers = headers or {}

    def error(self, lang: Lang) -> GraphQLError:
        if self.under is None:
            assert isinstance(self.kind, Problem)
            return problem(lang, self.kind, **self.params)
        return GraphQLError(
            self.kind.message(lang, **self.params),
            extensions={"code": self.under.name, "reason": self.kind.name},
        )


def unavailable() -> Refused:
    return Refused(
        503,
        Problem.SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        seconds=RETRY_AFTER_SECONDS,
    )


def with_request_id(body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """``body`` (a GraphQL response or a refusal) with the request id among its extensions."""
    extensions = body.get("extensions") or {}
    return {**body, "extensions": {**extensions, "requestId": request_id}}


def refusal(scope: Scope, refused: Refused) -> Response:
    """The answer to ``refused``. A 4xx is logged here as a warning (the client's mistake, not
    a bug: no traceback); a 5xx by whoever knew why."""
    error = refused.error(lang_of(scope))
    if refused.status < 500:
        log.warning(
            "refused: %s %s",
            refused.status,
            refused.kind.name,
            extra={"fields": {"status": refused.status, "problem": refused.kind.name}},
        )
    return Response(
        orjson.dumps(with_request_id({"errors": [error.formatted]}, request_id_of(scope))),
        refused.status,
        refused.headers,
        media_type=f"{error_media_type(scope)}; charset=utf-8",
    )


class RequestContext:
    """Give every request an ID (the client's ``X-Request-ID`` if sane), echo it in the
    response with the security headers, log one line per request with status and duration,
    and answer whatever escapes the routes as a JSON error: 503 while the database is
    unavailable, 500 (logged with its traceback) for anything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id") or ""
        request_id = given if _SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _with_security_headers(
                    [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if database_unavailable(error):
                log.warning("database unavailable: %s", outage(error))
                refused = unavailable()
            else:
                log.error("internal error (request %s)", request_id, exc_info=True)
                refused = Refused(500, Problem.INTERNAL_SERVER_ERROR, request_id=request_id)
            # Once the answer has started there is nothing left to correct (a background
            # task failed after the response went out).
            if status is None:
                await refusal(scope, refused)(scope, receive, send_with_headers)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "fields": {
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
            request_id_var.reset(token)


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower(): value for name, value in headers}
    extra = list(_SECURITY_HEADERS)
    if present.get(b"content-type", b"").lower().startswith(b"text/html"):
        extra.extend(_HTML_HEADERS)
    return headers + [(name, value) for name, value in extra if name not in present]


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413, before anything parses them;
    the bodies of the ``streamed`` paths (uploads) are left to their route, which writes them
    to disk under a limit of its own."""

    def __init__(self, app: ASGIApp, max_bytes: int, streamed: re.Pattern[str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.streamed.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        too_large = Refused(413, Problem.PAYLOAD_TOO_LARGE, max=self.max_bytes)
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await refusal(scope, too_large)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await refusal(scope, too_large)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
