"""The ASGI application: Starlette routes around the strawberry GraphQL view."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from jubao.errors import DomainError, Lang
from jubao.platform import idempotency
from jubao.platform.api.context import Context
from jubao.platform.api.errors import RETRY_AFTER_SECONDS, Problem, rewrite_errors
from jubao.platform.api.schema import CACHE_SIZE, build_schema
from jubao.platform.authn import Authenticated, authenticate_token, bearer_token
from jubao.platform.client_address import client_address
from jubao.platform.downloads import (
    download_award,
    download_due,
    download_statement,
    download_termination,
    download_verification_list,
)
from jubao.platform.graphiql import graphiql_page, graphiql_route
from jubao.platform.http import (
    GRAPHQL_RESPONSE,
    JSON,
    BodyLimit,
    Refused,
    RequestContext,
    refusal,
    request_id_of,
    response_media_type,
    with_request_id,
)
from jubao.platform.logs import setup_logging
from jubao.platform.migrate import check_role_policies, check_schema_current
from jubao.platform.payroll_files import UPLOADS, download_bank_file, upload_bank_results
from jubao.platform.protocol import (
    BODY,
    Operations,
    decode_json,
    get_parameters,
    is_json,
    request_data,
)
from jubao.platform.services import Services
from jubao.platform.settings import Settings
from jubao.platform.tokens import TokenError

log = logging.getLogger("jubao")


class GraphQLView(GraphQL[Context, None]):
    """strawberry's ASGI view, held to GraphQL over HTTP (see ``jubao.platform.protocol``):
    answers in the media type the client accepts, refusals as JSON in the caller's language,
    the request id in every error body, HEAD answered as GET without the body."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,  # mutations over GET are refused by strawberry
        )
        self.services = services
        self.operations = Operations(settings.max_query_tokens, CACHE_SIZE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        request = Request({**scope, "method": "GET"} if head else scope, receive)
        key = request.headers.get(idempotency.HEADER)
        try:
            if key is not None and scope["method"] == "POST":
                response = await self._once(request, key)
            else:
                response = await self._answer(request)
        except Refused as refused:
            response = refusal(scope, refused)
        await response(scope, receive, _without_body(send) if head else send)

    async def _answer(self, request: Request) -> Response:
        try:
            return await self.run(request)
        except HTTPException as error:
            return refusal(request.scope, _refused_by_strawberry(error))
        except Refused as refused:
            return refusal(request.scope, refused)

    async def _once(self, request: Request, key: str) -> Response:
        """A mutation sent with an Idempotency-Key runs once; a repeat gets its answer
        (``jubao.platform.idempotency``). Anything else it cannot apply to (a query, a body that
        is not a request, no valid token) is answered as without the key."""
        if not idempotency.valid_key(key):
            raise Refused(400, Problem.IDEMPOTENCY_KEY_INVALID)
        try:
            data = decode_json(await request.body(), BODY)
            token = bearer_token(request.headers.get("authorization"))
            caller = await authenticate_token(self.services, token) if token else None
        except (Refused, DomainError):
            caller = None
        if (
            caller is None
            or not isinstance(data, dict)
            or not self.operations.is_mutation(data.get("query"), data.get("operationName"))
        ):
            return await self._answer(request)
        operator_id, window = caller.operator.id, self.services.settings.idempotency_window
        db = self.services.db
        try:
            async with db.transaction(caller.actor) as session:
                replay = await idempotency.begin(
                    session, operator_id, key, idempotency.fingerprint(data), window
                )
        except idempotency.KeyInUse:
            raise Refused(422, Problem.IDEMPOTENCY_KEY_REUSED) from None
        except idempotency.StillRunning:
            seconds = str(RETRY_AFTER_SECONDS)
            raise Refused(
                409,
                Problem.IDEMPOTENCY_IN_PROGRESS,
                headers={"Retry-After": seconds},
                seconds=seconds,
            ) from None
        if replay is not None:
            return Response(
                replay.body,
                replay.status,
                {"Idempotent-Replayed": "true"},
                media_type=replay.media_type,
            )
        response = await self._answer(request)
        async with db.transaction(caller.actor) as session:
            await idempotency.finish(
                session,
                operator_id,
                key,
                response.status_code,
                response.headers.get("content-type", JSON),
                bytes(response.body),
            )
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(request)  # served from the package, not strawberry's CDN page

    def encode_json(self, data: object) -> bytes:
        # UTF-8 rather than \u escapes (half the bytes of Chinese text for mobile clients), and
        # about fifteen times faster than the standard library on a page of 50 people.
        return orjson.dumps(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        # strawberry's own takes any media type containing "application/json", fails with a
        # 500 on a body that is not an object, and checks no operationName.
        if request.method == "POST":
            if not is_json(request.content_type):
                raise Refused(415, Problem.UNSUPPORTED_MEDIA_TYPE)
            data = request_data(decode_json(await request.get_body(), BODY))
        else:
            data = request_data(get_parameters(request.query_params))  # type: ignore[arg-type]
        self.operations.check(data)
        return data

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        response = await super().get_sub_response(request)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            raise Refused(406, Problem.NOT_ACCEPTABLE)
        response.media_type = media_type or JSON  # for create_response, which sees only this
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if not result.errors:
            return await super().process_result(request, result)
        result.errors = rewrite_errors(
            result.errors,
            Lang.from_accept_language(request.headers.get("accept-language")),
            request_id_of(request.scope),
            validation=isinstance(result, PreExecutionError),
            suggestions=not self.services.settings.production,
        )
        response = with_request_id(
            dict(await super().process_result(request, result)), request_id_of(request.scope)
        )
        if result.data is None and all(error.path is None for error in result.errors):
            # Refused before execution began (parse, validation, variables): no data at all,
            # as the GraphQL specification says, rather than null data.
            del response["data"]
        return response  # type: ignore[return-value]

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        assert isinstance(response_data, dict)  # batching is off
        media_type = sub_response.media_type or JSON
        status, headers = 200, dict(sub_response.headers)
        codes = {error["extensions"]["code"] for error in response_data.get("errors") or ()}  # type: ignore[index]
        if Problem.SERVICE_UNAVAILABLE.name in codes:
            status, headers["Retry-After"] = 503, str(RETRY_AFTER_SECONDS)
        elif "data" not in response_data and media_type == GRAPHQL_RESPONSE:
            status = 400  # a request error: 4xx under the GraphQL response type, 200 under JSON
        return Response(
            self.encode_json(response_data),
            status,
            headers,
            media_type=f"{media_type}; charset=utf-8",
            background=sub_response.background,
        )

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        lang = Lang.from_accept_language(request.headers.get("accept-language"))
        auth: Authenticated | None = None
        auth_error: DomainError | None = None
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is not None:
                auth = await authenticate_token(self.services, token)
        except DomainError as error:
            if error.code is TokenError.INVALID:
                # Not a token of ours (malformed, forged, another algorithm): nothing runs. An
                # expired or revoked one is refused field by field instead, so that a client
                # sending its old token along can still refresh it or log in.
                raise Refused(
                    401,
                    error.code,
                    under=Problem.UNAUTHENTICATED,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                ) from None
            auth_error = error
        context = Context(
            self.services,
            lang=lang,
            request_id=request_id_of(request.scope),
            auth=auth,
            auth_error=auth_error,
            client_address=client_address(
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
                self.services.settings.trusted_proxy_networks,
            ),
        )
        # Close the request's session once the response is out (whatever happened).
        response.background = BackgroundTask(context.close)
        return context


def _refused_by_strawberry(error: HTTPException) -> Refused:
    """strawberry's own refusals (plain English text) as ours."""
    cause = error.__cause__
    if isinstance(cause, CannotGetOperationTypeError):
        if cause.operation_name is None:
            return Refused(400, Problem.NO_OPERATION)
        return Refused(400, Problem.UNKNOWN_OPERATION, name=cause.operation_name[:100])
    mutation = OperationType.MUTATION
    if isinstance(cause, InvalidOperationTypeError) and cause.operation_type is mutation:
        return Refused(405, Problem.MUTATION_OVER_GET, headers={"Allow": "POST"})
    if isinstance(cause, MissingQueryError):
        return Refused(400, Problem.NO_QUERY)
    if error.status_code == 404:
        return Refused(404, Problem.NOT_FOUND)
    return Refused(error.status_code, Problem.BAD_REQUEST)


def _without_body(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    """The application; with no arguments, configured from the environment (uvicorn factory)."""
    settings = services.settings if services else (settings or Settings())
    settings.check_safe_for_production()
    services = services or Services.create(settings)
    # At start, not on the first login: an unusable secret file fails here, and workers
    # started together settle on one generated secret before any of them signs a token.
    services.tokens.signing_key()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        # The reason names the check; the details (hosts, users, versions) go to the log only.
        checks = (
            ("database unreachable", services.db.ping),
            ("database schema out of date", lambda: check_schema_current(services.db)),
            ("role table out of date", lambda: check_role_policies(services.db)),
        )
        for reason, check in checks:
            try:
                await check()
            except Exception:
                log.warning("not ready: %s", reason, exc_info=True)
                return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await check_schema_current(services.db)
        await check_role_policies(services.db)
        log.info("jubao ready", extra={"fields": {"env": settings.env.value}})
        services.jobs.kick()  # SQLite: what a stopped server left undone
        yield
        await services.jobs.stop()
        await services.db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLView(services), methods=["GET", "POST"]),
            Route("/statements/{person}/{year}.{format}", download_statement),
            Route("/benefits/awards/{person}.{format}", download_award),
            Route("/benefits/due/{region}/{month}.{format}", download_due),
            Route("/terminations/{person}.{format}", download_termination),
            Route("/verification/{list}/{region}/{month}.{format}", download_verification_list),
            Route("/payroll/runs/{run}/bank-file", download_bank_file),
            Route("/payroll/runs/{run}/bank-results", upload_bank_results, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([] if settings.production else [graphiql_route()]),
        ],
        middleware=[
            Middleware(RequestContext),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, streamed=UPLOADS),
        ],
        exception_handlers={StarletteHTTPException: _routing_refusal},
        lifespan=lifespan,
    )
    app.state.services = services
    return app


async def _routing_refusal(request: Request, error: Exception) -> Response:
    """No such route (404), or not with this method (405, with ``Allow``), as JSON."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        allowed = dict(error.headers or {})  # Allow
        refused = Refused(405, Problem.METHOD_NOT_ALLOWED, headers=allowed, method=request.method)
    else:
        refused = Refused(error.status_code, Problem.NOT_FOUND)
    return refusal(request.scope, refused)


def serve_factory() -> Starlette:
    """Entry point for uvicorn workers: logging and the app, from the environment."""
    settings = Settings()
    setup_logging(settings.log_level)
    app = create_app(settings)
    # What exists now (modules, the schema, the mappers) lives as long as the worker: keep it
    # out of the collector's way, or every full collection walks it again mid-request. A
    # request allocates tens of thousands of short-lived objects; collecting the youngest
    # generation every 700 allocations (the default) cost a tenth of the worker's time.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    return app
