"""Errors in the API: typed ``userErrors`` for business rules, top-level ``errors`` for the rest.

Business failures (a `DomainError` from a service) become entries of the mutation payload's
``userErrors``, whose ``code`` is a GraphQL enum built from the Python error-code enums the
mutation can raise. Authentication, input-format and protocol failures are top-level errors
with ``extensions.code``; anything unexpected is logged and masked.
"""

import logging
import re
from typing import Any, TypeVar

from graphql import GraphQLError

from jubao.errors import DomainError, ErrorCode, Lang

log = logging.getLogger("jubao.api")
P = TypeVar("P")


class Problem(ErrorCode):
    """Top-level (protocol) errors; the member name is ``extensions.code``."""

    UNAUTHENTICATED = ("需要登录", "Authentication required")
    PASSWORD_CHANGE_REQUIRED = (
        "初始密码由他人设置，请先修改密码（passwordChange）再办理业务",
        "Your initial password was set by someone else: change it (passwordChange) first",
    )
    BAD_USER_INPUT = ("输入有误：{detail}", "Invalid input: {detail}")
    PAGE_SIZE = ("每页条数必须在 1 到 {max} 之间", "Page size must be between 1 and {max}")
    BAD_CURSOR = ("分页游标无效", "Invalid pagination cursor")
    TOO_MANY_IDS = ("一次最多查询 {max} 个 ID", "At most {max} IDs per request")
    BIRTH_YEAR = (
        "出生年份应在 1900 到 2100 之间，收到 {value}",
        "A birth year is 1900–2100, got {value}",
    )
    QUERY_TOO_DEEP = ("查询嵌套过深，最多 {max} 层", "The query is nested too deeply (max {max})")
    TOO_MANY_ALIASES = ("查询别名过多，最多 {max} 个", "Too many aliases in the query (max {max})")
    QUERY_TOO_LARGE = (
        "查询过长，最多 {max} 个词法单元",
        "The query is too long (max {max} tokens)",
    )
    GRAPHQL_PARSE_FAILED = ("查询语法错误：{detail}", "Syntax error: {detail}")
    GRAPHQL_VALIDATION_FAILED = ("查询无效：{detail}", "Invalid query: {detail}")
    INTERNAL_SERVER_ERROR = (
        "服务器内部错误，请稍后重试（请求号 {request_id}）",
        "Internal server error; please retry later (request {request_id})",
    )


# Specific input problems are reported as BAD_USER_INPUT with the specific one as the reason.
_INPUT_PROBLEMS = {Problem.PAGE_SIZE, Problem.BAD_CURSOR, Problem.TOO_MANY_IDS, Problem.BIRTH_YEAR}


def problem(lang: Lang, kind: Problem, **params: Any) -> GraphQLError:
    if kind in _INPUT_PROBLEMS:
        extensions = {"code": Problem.BAD_USER_INPUT.name, "reason": kind.name}
    else:
        extensions = {"code": kind.name}
    return GraphQLError(kind.message(lang, **params), extensions=extensions)


def unauthenticated(lang: Lang, cause: DomainError) -> GraphQLError:
    return GraphQLError(
        cause.message(lang),
        extensions={"code": Problem.UNAUTHENTICATED.name, "reason": cause.code.name},
    )


# --- top-level error processing --------------------------------------------------------------

_LIMIT_PATTERNS: tuple[tuple[re.Pattern[str], Problem], ...] = (
    (re.compile(r"exceeds maximum operation depth of (?P<max>\d+)"), Problem.QUERY_TOO_DEEP),
    (re.compile(r"aliases found\. Allowed: (?P<max>\d+)"), Problem.TOO_MANY_ALIASES),
    (re.compile(r"Document contains more than (?P<max>\d+) tokens"), Problem.QUERY_TOO_LARGE),
)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def rewrite_errors(
    errors: list[GraphQLError], lang: Lang, request_id: str, *, suggestions: bool = True
) -> list[GraphQLError]:
    """Give every top-level error a code and a message in the request's language, and mask
    unexpected exceptions (logged with their traceback and the request id).

    This runs on the final result in the HTTP view rather than in a schema extension: a
    syntax error raised by the parser cache escapes the extension hooks."""
    rewritten = [_rewrite(error, lang, request_id) for error in errors]
    if not suggestions:  # in production: no hints at names that exist (schema probing)
        for error in rewritten:
            error.message = _SUGGESTION.sub("", error.message)
    return rewritten


def _rewrite(error: GraphQLError, lang: Lang, request_id: str) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    kind, params = _classify(error, lang, request_id)
    return GraphQLError(
        kind.message(lang, **params),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": kind.name},
    )


def _domain_cause(error: BaseException | None) -> DomainError | None:
    """The `DomainError` behind a (possibly nested) GraphQL error, e.g. a scalar refusing."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DomainError):
            return error
        error = getattr(error, "original_error", None) or error.__cause__
        seen += 1
    return None


def _classify(error: GraphQLError, lang: Lang, request_id: str) -> tuple[Problem, dict[str, Any]]:
    if (cause := _domain_cause(error)) is not None:
        return Problem.BAD_USER_INPUT, {"detail": cause.message(lang)}
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        log.error(
            "internal error (request %s)",
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        return Problem.INTERNAL_SERVER_ERROR, {"request_id": request_id}
    for pattern, limit in _LIMIT_PATTERNS:
        if match := pattern.search(error.message):
            return limit, {"max": match["max"]}
    if error.message.startswith("Syntax Error"):
        return Problem.GRAPHQL_PARSE_FAILED, {"detail": error.message}
    if error.message.startswith("Variable "):
        return Problem.BAD_USER_INPUT, {"detail": error.message}
    return Problem.GRAPHQL_VALIDATION_FAILED, {"detail": error.message}
