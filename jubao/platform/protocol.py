"""What a GraphQL request over HTTP may look like (the GraphQL-over-HTTP draft, strictly).

- ``POST`` bodies are ``application/json`` (UTF-8; the media type compared whole and
  case-insensitively), ``GET`` takes ``query``, ``operationName`` and JSON-encoded
  ``variables`` and ``extensions`` in the URL.
- JSON is decoded strictly: valid UTF-8 only, no lone surrogates (``"\\ud800"``, which no
  encoder can write back and no database can store), no number beyond a double, nesting at
  most ``MAX_JSON_DEPTH`` levels. Unencodable text is stopped at the door for every field.
- The request is an object with a string ``query``, a string or null ``operationName``, and
  objects or null for ``variables`` and ``extensions``; a document with several operations
  needs ``operationName``.

Anything else is refused with 4xx (``Refused``) before it reaches the GraphQL layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache, partial
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from strawberry.http import GraphQLRequestData

from jubao.errors import Text
from jubao.platform.api.errors import Problem
from jubao.platform.http import Refused

MAX_JSON_DEPTH = 20
"""Levels of nesting in a request's JSON (the body is one); the deepest input needs six."""

BODY = Text("请求体", "The request body")
_STRING = Text("字符串", "a string")
_STRING_OR_NULL = Text("字符串或 null", "a string or null")
_OBJECT_OR_NULL = Text("JSON 对象或 null", "a JSON object or null")


def is_json(content_type: str | None) -> bool:
    """Whether a request's ``Content-Type`` is JSON in UTF-8 (the charset may be omitted)."""
    if content_type is None:
        return False
    media, *params = (part.strip() for part in content_type.split(";"))
    if media.lower() != "application/json":
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def decode_json(data: str | bytes, part: Text) -> dict[str, Any]:
    """``data`` as a JSON object, decoded strictly (see the module's description)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise Refused(
            400, Problem.UNREADABLE_JSON, part=part, line=error.lineno, column=error.colno
        ) from None
    if isinstance(value, list) and part is BODY:
        raise Refused(400, Problem.BATCH)
    if not isinstance(value, dict):
        raise Refused(400, Problem.NOT_AN_OBJECT, part=part)
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise Refused(400, Problem.JSON_TOO_DEEP, part=part, max=MAX_JSON_DEPTH)
    return value


def _deeper_than(value: dict[str, Any], limit: int) -> bool:
    # Iterative: the decoded value may nest about a thousand levels (orjson stops at 1024).
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def request_data(params: Mapping[str, Any]) -> GraphQLRequestData:
    """The GraphQL request in ``params`` (a decoded POST body, or GET parameters with
    ``variables`` and ``extensions`` decoded), its parameters of the right types."""
    query = params.get("query")
    if query is None:
        raise Refused(400, Problem.NO_QUERY)
    _expect(query, str, "query", _STRING)
    operation_name = params.get("operationName")
    _expect(operation_name, str | None, "operationName", _STRING_OR_NULL)
    variables = params.get("variables")
    _expect(variables, dict | None, "variables", _OBJECT_OR_NULL)
    extensions = params.get("extensions")
    _expect(extensions, dict | None, "extensions", _OBJECT_OR_NULL)
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=operation_name, extensions=extensions
    )


def _expect(value: object, kind: Any, name: str, described: Text) -> None:
    if not isinstance(value, kind):
        raise Refused(400, Problem.PARAMETER_TYPE, name=name, expected=described)


def get_parameters(query_params: Mapping[str, str]) -> dict[str, Any]:
    """A GET request's parameters; empty ones count as absent (as a form sends them)."""
    params: dict[str, Any] = {name: value for name, value in query_params.items() if value}
    for name in ("variables", "extensions"):
        if name in params:
            params[name] = decode_json(params[name], Text(f"{name} 参数", f"The {name} parameter"))
    return params


class Operations:
    """Whether a request names the operation to run when its document has several.

    strawberry runs the first operation of such a document; the GraphQL specification makes
    it a request error. The document is parsed once per distinct text (as strawberry's
    parser cache does); one that does not parse is left to the GraphQL layer to report."""

    def __init__(self, max_tokens: int, cache_size: int) -> None:
        self._count: Callable[[str], int] = lru_cache(maxsize=cache_size)(
            partial(_operation_count, max_tokens=max_tokens)
        )
        self._kinds: Callable[[str, str | None], str | None] = lru_cache(maxsize=cache_size)(
            partial(_operation_kind, max_tokens=max_tokens)
        )

    def check(self, data: GraphQLRequestData) -> None:
        if data.operation_name is None and data.query and self._count(data.query) > 1:
            raise Refused(400, Problem.OPERATION_NAME_REQUIRED)

    def is_mutation(self, query: object, operation_name: object) -> bool:
        """Whether the operation a request runs is a mutation (False when that cannot be
        told: the request is then refused for what it is)."""
        if not isinstance(query, str) or not isinstance(operation_name, str | None):
            return False
        return self._kinds(query, operation_name) == "mutation"


def _operation_kind(query: str, operation_name: str | None, *, max_tokens: int) -> str | None:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    named = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    return named[0].operation.value if len(named) == 1 else None


def _operation_count(query: str, *, max_tokens: int) -> int:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return 0
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
