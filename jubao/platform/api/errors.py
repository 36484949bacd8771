"""Top-level ``errors`` of the API: authentication, input-format and protocol failures, each
with ``extensions.code``; anything unexpected is logged and masked. (Business-rule refusals
of mutations are ``userErrors``: `jubao.platform.api.user_errors`.)
"""

import logging
import re
from typing import Any

from graphql import GraphQLError

from jubao.errors import DomainError, ErrorCode, Lang
from jubao.platform.db import database_unavailable, outage

log = logging.getLogger("jubao.api")


class Problem(ErrorCode):
    """Top-level (protocol) errors; the member name is ``extensions.code``, or its ``reason``
    under a broader code (see ``_BROADER``)."""

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
    TOO_MANY_ERRORS = (
        "查询错误过多，只列出前 {max} 个",
        "The query has too many errors; only the first {max} are listed",
    )
    TOO_COMPLEX = (
        "查询过于复杂，无法检查（片段嵌套过深或引用过多）",
        "The query is too complex to check (fragments nested too deeply or spread too often)",
    )
    INTERNAL_SERVER_ERROR = (
        "服务器内部错误，请稍后重试（请求号 {request_id}）",
        "Internal server error; please retry later (request {request_id})",
    )
    SERVICE_UNAVAILABLE = (
        "数据库暂时无法访问，请 {seconds} 秒后重试",
        "The database is unavailable for the moment; retry in {seconds} seconds",
    )
    # The HTTP request itself (answered before any GraphQL runs):
    BAD_REQUEST = ("请求无效", "Bad request")
    UNREADABLE_JSON = (
        "{part}不是有效的 JSON（第 {line} 行第 {column} 列）：须为 UTF-8 编码，"
        "字符串中不得有孤立的代理项（\\ud800 之类），数字不得超出范围",
        "{part} is not valid JSON (line {line}, column {column}): it must be UTF-8, with no "
        "lone surrogates (such as \\ud800) in strings and no numbers out of range",
    )
    JSON_TOO_DEEP = (
        "{part}嵌套过深，最多 {max} 层",
        "{part} is nested too deeply (max {max} levels)",
    )
    NOT_AN_OBJECT = ("{part}必须是 JSON 对象", "{part} must be a JSON object")
    BATCH = (
        "不支持批量请求：每个请求只发送一个操作",
        "Batched requests are not supported: send one operation per request",
    )
    PARAMETER_TYPE = ("参数 {name} 必须是{expected}", "The parameter {name} must be {expected}")
    NO_QUERY = ("请求中没有 query 参数", "The request has no query parameter")
    OPERATION_NAME_REQUIRED = (
        "文档中有多个操作，须用 operationName 指明执行哪一个",
        "The document has several operations: name the one to run in operationName",
    )
    NO_OPERATION = ("文档中没有可执行的操作", "The document has no operation to run")
    UNKNOWN_OPERATION = (
        "文档中没有名为 {name} 的操作",
        "The document has no operation named {name}",
    )
    UNSUPPORTED_MEDIA_TYPE = (
        "请求体须以 application/json（UTF-8）发送",
        "Send the request body as application/json (UTF-8)",
    )
    NOT_ACCEPTABLE = (
        "无法以 Accept 所列的类型应答；可接受 application/graphql-response+json 或 "
        "application/json",
        "None of the media types in Accept can be served; accept "
        "application/graphql-response+json or application/json",
    )
    METHOD_NOT_ALLOWED = ("此地址不接受 {method} 请求", "{method} is not allowed here")
    MUTATION_OVER_GET = ("变更只能用 POST 发送", "Mutations must be sent with POST")
    NOT_FOUND = ("地址不存在", "Not found")
    NO_SUCH_PERSON = ("找不到该参保人", "No such person")
    MONTH_OUTSIDE_YEAR = ("月份 {month} 不在 {year} 年", "The month {month} is not in {year}")
    NO_SUCH_AWARD = ("该参保人尚未核定待遇", "No pension has been awarded to this person")
    NOT_TERMINATED = ("该参保人未注销", "This person's insurance has not ended")
    NO_SUCH_REGION = ("找不到该区划（或不在您的范围内）", "No such region in your scope")
    NO_SUCH_RUN = ("找不到该发放批次（或不在您的范围内）", "No such payroll run in your scope")
    FORBIDDEN = ("无权办理", "Not allowed")
    CONFLICT = ("与当前状态不符", "Not possible in the current state")
    PAYLOAD_TOO_LARGE = (
        "请求体超过 {max} 字节",
        "The request body is larger than {max} bytes",
    )
    IDEMPOTENCY_KEY_INVALID = (
        "Idempotency-Key 须为 1–255 个可见的 ASCII 字符",
        "An Idempotency-Key is 1–255 visible ASCII characters",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "该 Idempotency-Key 已用于另一个请求；新的请求请用新的键",
        "This Idempotency-Key was used for a different request; use a new key for a new one",
    )
    IDEMPOTENCY_IN_PROGRESS = (
        "使用该 Idempotency-Key 的请求仍在处理中，请 {seconds} 秒后重试",
        "The request with this Idempotency-Key is still being served; retry in {seconds} s",
    )


# Specific problems reported under a broader code, with the specific one as the reason.
_BROADER = {
    **dict.fromkeys(
        (
            Problem.PAGE_SIZE,
            Problem.BAD_CURSOR,
            Problem.TOO_MANY_IDS,
            Problem.BIRTH_YEAR,
            Problem.MONTH_OUTSIDE_YEAR,
        ),
        Problem.BAD_USER_INPUT,
    ),
    **dict.fromkeys(
        (
            Problem.UNREADABLE_JSON,
            Problem.JSON_TOO_DEEP,
            Problem.NOT_AN_OBJECT,
            Problem.BATCH,
            Problem.PARAMETER_TYPE,
            Problem.NO_QUERY,
            Problem.OPERATION_NAME_REQUIRED,
            Problem.NO_OPERATION,
            Problem.UNKNOWN_OPERATION,
        ),
        Problem.BAD_REQUEST,
    ),
    Problem.MUTATION_OVER_GET: Problem.METHOD_NOT_ALLOWED,
    **dict.fromkeys(
        (
            Problem.NO_SUCH_PERSON,
            Problem.NO_SUCH_AWARD,
            Problem.NOT_TERMINATED,
            Problem.NO_SUCH_REGION,
            Problem.NO_SUCH_RUN,
        ),
        Problem.NOT_FOUND,
    ),
    **dict.fromkeys(
        (Problem.TOO_MANY_ERRORS, Problem.TOO_COMPLEX), Problem.GRAPHQL_VALIDATION_FAILED
    ),
}


def _extensions(kind: Problem) -> dict[str, Any]:
    if (broader := _BROADER.get(kind)) is not None:
        return {"code": broader.name, "reason": kind.name}
    return {"code": kind.name}


def problem(lang: Lang, kind: Problem, /, **params: Any) -> GraphQLError:
    return GraphQLError(kind.message(lang, **params), extensions=_extensions(kind))


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
# graphql-core's validation stops after this many errors ("Validation aborted.")
_MAX_VALIDATION_ERRORS = 100

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

RETRY_AFTER_SECONDS = 5
"""How long a client is asked to wait before retrying when the database is unavailable."""


def rewrite_errors(
    errors: list[GraphQLError],
    lang: Lang,
    request_id: str,
    *,
    validation: bool = False,
    suggestions: bool = True,
) -> list[GraphQLError]:
    """Give every top-level error a code and a message in the request's language, and mask
    unexpected exceptions (logged with their traceback and the request id). ``validation``
    says the errors come from parsing and validating the document, before execution.

    This runs on the final result in the HTTP view rather than in a schema extension: a
    syntax error raised by the parser cache escapes the extension hooks."""
    rewritten = [_rewrite(error, lang, request_id, validation) for error in errors]
    if not suggestions:  # in production: no hints at names that exist (schema probing)
        for error in rewritten:
            error.message = _SUGGESTION.sub("", error.message)
    return rewritten


def _rewrite(error: GraphQLError, lang: Lang, request_id: str, validation: bool) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    kind, params = _classify(error, lang, request_id, validation)
    return GraphQLError(
        kind.message(lang, **params),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=_extensions(kind),
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


def _classify(
    error: GraphQLError, lang: Lang, request_id: str, validation: bool
) -> tuple[Problem, dict[str, Any]]:
    if (cause := _domain_cause(error)) is not None:
        return Problem.BAD_USER_INPUT, {"detail": cause.message(lang)}
    original = error.original_error
    # (An exception met in validation at a place in the document is a literal that a scalar
    # could not read, such as an integer of 5,000 digits: the caller's mistake.)
    literal = validation and error.nodes
    if original is not None and not isinstance(original, GraphQLError) and not literal:
        if database_unavailable(original):
            # Not our bug, and the log would fill with identical tracebacks while it lasts.
            log.warning("database unavailable (request %s): %s", request_id, outage(original))
            return Problem.SERVICE_UNAVAILABLE, {"seconds": RETRY_AFTER_SECONDS}
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
    if error.message.startswith("Too many validation errors"):
        return Problem.TOO_MANY_ERRORS, {"max": _MAX_VALIDATION_ERRORS}
    if error.message == "Validation aborted.":
        return Problem.TOO_COMPLEX, {}
    if validation:
        return Problem.GRAPHQL_VALIDATION_FAILED, {"detail": _shortened(error.message)}
    if error.path is None:
        # Validated, but the variables' values do not fit their types.
        return Problem.BAD_USER_INPUT, {"detail": _shortened(error.message)}
    # graphql-core refused a value a resolver produced (a null for a non-null field, say).
    log.error("internal error (request %s): %s at %s", request_id, error.message, error.path)
    return Problem.INTERNAL_SERVER_ERROR, {"request_id": request_id}


def _shortened(detail: str, limit: int = 300) -> str:
    """graphql-core's messages quote the offending value, which may be very long."""
    return detail if len(detail) <= limit else f"{detail[: limit - 1]}…"
