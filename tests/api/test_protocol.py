"""GraphQL over HTTP at the edge: hostile requests refused with 4xx JSON (a code, the request id,
a warning in the log, no traceback), media types, status codes, HEAD, request errors."""

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from jubao.platform.services import Services
from tests.helpers import Api, World

GRAPHQL_RESPONSE = "application/graphql-response+json"
LOGIN = (
    'mutation ($u: String!) { login(input: {username: $u, password: "x"}) { userErrors { code } } }'
)
PERSONS = "query ($p: String) { persons(first: 1, where: {namePrefix: $p}) { totalCount } }"
USER_CREATE = """mutation ($n: String!) { userCreate(input: {username: "li.si", displayName: $n,
    region: "410121101000", password: "initial-pass-1"}) { userErrors { code } } }"""
DEEP = "[" * 1000 + "]" * 1000


def surrogate(query: str, variables: dict[str, Any] | None = None, **rest: Any) -> bytes:
    """A body carrying a lone surrogate, written as JSON writes it: the escape ``\\ud800``."""
    return json.dumps({"query": query, "variables": variables, **rest}).encode()


HOSTILE_BODIES = {
    "null": (b"null", "NOT_AN_OBJECT"),
    "a string": (b'"{ __typename }"', "NOT_AN_OBJECT"),
    "a number": (b"42", "NOT_AN_OBJECT"),
    "a batch": (b'[{"query": "{ __typename }"}]', "BATCH"),
    "invalid UTF-8": (
        b'{"query": "{ __typename }", "operationName": "\xff\xfe"}',
        "UNREADABLE_JSON",
    ),
    "nested 1,000 deep": (
        f'{{"query": "{{ __typename }}", "x": {DEEP}}}'.encode(),
        "JSON_TOO_DEEP",
    ),
    "variables nested 1,000 deep": (
        f'{{"query": "{{ __typename }}", "variables": {{"x": {DEEP}}}}}'.encode(),
        "JSON_TOO_DEEP",
    ),
    "extensions nested 1,000 deep": (
        f'{{"query": "{{ __typename }}", "extensions": {{"x": {DEEP}}}}}'.encode(),
        "JSON_TOO_DEEP",
    ),
    "an integer of 5,000 digits": (
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        "UNREADABLE_JSON",
    ),
    "a surrogate in operationName": (
        surrogate("query A { __typename }", operationName="\ud800"),
        "UNREADABLE_JSON",
    ),
    "a surrogate in login's username": (surrogate(LOGIN, {"u": "adm\ud800"}), "UNREADABLE_JSON"),
    "a surrogate in namePrefix": (surrogate(PERSONS, {"p": "\ud800"}), "UNREADABLE_JSON"),
    "a surrogate in userCreate.displayName": (
        surrogate(USER_CREATE, {"n": "王\udfff"}),
        "UNREADABLE_JSON",
    ),
    "operationName an object": (
        b'{"query": "{ __typename }", "operationName": {"a": 1}}',
        "PARAMETER_TYPE",
    ),
    "variables a list": (b'{"query": "{ __typename }", "variables": [1]}', "PARAMETER_TYPE"),
    "query a number": (b'{"query": 1}', "PARAMETER_TYPE"),
    "no query": (b'{"qeury": "{ __typename }"}', "NO_QUERY"),
    "several operations, none named": (
        b'{"query": "query A { __typename } mutation B { __typename }"}',
        "OPERATION_NAME_REQUIRED",
    ),
    "an operation that is not there": (
        b'{"query": "query A { __typename }", "operationName": "B"}',
        "UNKNOWN_OPERATION",
    ),
}


def assert_refused_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """A refusal is the client's business: a warning, never an error or a traceback."""
    assert any(r.name == "jubao.http" and r.levelno == logging.WARNING for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def assert_error_body(response: httpx.Response, code: str, reason: str | None = None) -> None:
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("reason") == reason
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("case", list(HOSTILE_BODIES))
async def test_hostile_bodies_are_refused_with_a_code_and_the_request_id(
    edge: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, reason = HOSTILE_BODIES[case]
    for accept in ("application/json", GRAPHQL_RESPONSE):
        headers = {"Content-Type": "application/json", "Accept": accept, "X-Request-ID": "probe-1"}
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = await edge.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
        assert_error_body(response, "BAD_REQUEST", reason)
        assert response.json()["extensions"]["requestId"] == "probe-1"
        assert_refused_quietly(caplog)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"query": "{ __typename }", "variables": f'{{"x": {DEEP}}}'}, "JSON_TOO_DEEP"),
        ({"query": "{ __typename }", "extensions": f'{{"x": {DEEP}}}'}, "JSON_TOO_DEEP"),
        ({"query": PERSONS, "variables": '{"p": "\\ud800"}'}, "UNREADABLE_JSON"),
        ({"query": "{ __typename }", "variables": "[]"}, "NOT_AN_OBJECT"),
    ],
)
async def test_hostile_get_parameters_are_refused(
    edge: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, params: dict[str, str], reason: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = await edge.get("/graphql", params=params)
    assert response.status_code == 400
    assert_error_body(response, "BAD_REQUEST", reason)
    assert_refused_quietly(caplog)


async def test_a_token_whose_subject_overflows_is_invalid_not_a_crash(
    api: Api, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    token = jwt.encode(
        {
            "iss": "jubao",
            "sub": "9" * 30,  # signed with the right key, naming no possible operator
            "ver": 0,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
        },
        services.settings.secret_key,
        algorithm="HS256",
    )
    with caplog.at_level(logging.INFO):
        response = await api.client.post(
            "/graphql",
            json={"query": "{ me { user { id } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401
    assert_error_body(response, "UNAUTHENTICATED", "INVALID")
    assert_refused_quietly(caplog)


async def test_an_integer_literal_of_5000_digits_is_an_input_error(
    edge: httpx.AsyncClient,
) -> None:
    response = await edge.post(
        "/graphql",
        json={"query": f"{{ users(first: {'9' * 5000}) {{ totalCount }} }}"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    ("accept", "answered_in"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        ("APPLICATION/JSON", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, application/json", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
    ],
)
async def test_answers_in_the_media_type_the_client_accepts(
    edge: httpx.AsyncClient, accept: str | None, answered_in: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await edge.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{answered_in}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "accept", ["text/plain", "application/jsonx", "application/graphql-response+jsonx", "*/*;q=0"]
)
async def test_unacceptable_media_types_get_406(
    edge: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, accept: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = await edge.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Accept": accept}
        )
    assert response.status_code == 406
    assert_error_body(response, "NOT_ACCEPTABLE")
    assert_refused_quietly(caplog)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("Application/JSON; Charset=UTF-8", 200),
        ("application/json;charset=utf8", 200),
        (None, 415),
        ("text/plain", 415),
        ("application/jsonx", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=latin-1", 415),
    ],
)
async def test_request_media_types_are_matched_exactly(
    edge: httpx.AsyncClient, content_type: str | None, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await edge.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == status
    if status != 200:
        assert_error_body(response, "UNSUPPORTED_MEDIA_TYPE")


async def test_request_errors_have_no_data_and_4xx_under_the_graphql_response_type(
    edge: httpx.AsyncClient,
) -> None:
    cases = {
        "{ roles { name ": ("GRAPHQL_PARSE_FAILED", None),
        "{ roles { nmae } }": ("GRAPHQL_VALIDATION_FAILED", None),
        # a validation error about a variable: the document is wrong, not the value
        "query { region(code: $x) { name } }": ("GRAPHQL_VALIDATION_FAILED", None),
    }
    for query, (code, reason) in cases.items():
        for accept, status in (("application/json", 200), (GRAPHQL_RESPONSE, 400)):
            response = await edge.post(
                "/graphql", json={"query": query}, headers={"Accept": accept}
            )
            assert response.status_code == status, (query, accept)
            assert_error_body(response, code, reason)
    # A value that does not fit its variable's type is the caller's input.
    for accept, status in (("application/json", 200), (GRAPHQL_RESPONSE, 400)):
        coercion = await edge.post(
            "/graphql",
            json={
                "query": "query ($n: Int!) { users(first: $n) { totalCount } }",
                "variables": {"n": "five"},
            },
            headers={"Accept": accept},
        )
        assert coercion.status_code == status
        assert_error_body(coercion, "BAD_USER_INPUT")


async def test_field_errors_keep_their_data(edge: httpx.AsyncClient) -> None:
    # Execution began: the response has data (null here), status 200 in either media type.
    response = await edge.post(
        "/graphql", json={"query": "{ me { user { id } } }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "MISSING"}
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_the_named_operation_of_several_runs(edge: httpx.AsyncClient) -> None:
    response = await edge.post(
        "/graphql",
        json={
            "query": "query A { a: __typename } query B { b: __typename }",
            "operationName": "B",
        },
    )
    assert response.json() == {"data": {"b": "Query"}}


async def test_validation_that_cannot_finish_says_why(edge: httpx.AsyncClient) -> None:
    english = {"Accept-Language": "en"}
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(200))
    query = f"{{ ...F0 }} {chain} fragment F200 on Query {{ __typename }}"
    nested = (await edge.post("/graphql", json={"query": query}, headers=english)).json()
    assert nested["errors"][-1]["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "reason": "TOO_COMPLEX",
    }
    assert "fragments nested too deeply" in nested["errors"][-1]["message"]
    unknown = " ".join(f"f{i}" for i in range(120))
    many = (await edge.post("/graphql", json={"query": f"{{ {unknown} }}"}, headers=english)).json()
    assert len(many["errors"]) == 101
    assert many["errors"][-1]["extensions"]["reason"] == "TOO_MANY_ERRORS"
    assert many["errors"][-1]["message"] == (
        "The query has too many errors; only the first 100 are listed"
    )


async def test_request_errors_speak_the_callers_language(edge: httpx.AsyncClient) -> None:
    chinese = await edge.post(
        "/graphql", content=b"[]", headers={"Content-Type": "application/json"}
    )
    assert chinese.json()["errors"][0]["message"] == "不支持批量请求：每个请求只发送一个操作"
    english = await edge.post(
        "/graphql",
        content=b"[]",
        headers={"Content-Type": "application/json", "Accept-Language": "en-GB,en;q=0.8"},
    )
    assert english.json()["errors"][0]["message"] == (
        "Batched requests are not supported: send one operation per request"
    )


async def test_head_is_answered_as_get_without_a_body(edge: httpx.AsyncClient) -> None:
    params = {"query": "{ __typename }"}
    get = await edge.get("/graphql", params=params)
    head = await edge.head("/graphql", params=params)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "cache-control"):
        assert head.headers[name] == get.headers[name]
    # so the methods a 405 advertises are the ones that work
    put = await edge.put("/graphql", json={"query": "{ __typename }"})
    assert put.status_code == 405
    assert set(put.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert_error_body(put, "METHOD_NOT_ALLOWED")


async def test_unknown_addresses_are_json(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/graphq", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert_error_body(response, "NOT_FOUND")
    assert response.json()["errors"][0]["message"] == "Not found"


async def test_statement_downloads_refuse_as_json(api: Api, world: World) -> None:
    token = await api.token("admin")
    for path, status, code in (
        ("/statements/UGVyc29uOjE=/2026.csv", 401, "UNAUTHENTICATED"),
        (f"/statements/UGVyc29uOjE=/{'9' * 5000}.csv", 404, "NOT_FOUND"),
        ("/statements/UGVyc29uOjE=/2026.pdf", 404, "NOT_FOUND"),
    ):
        headers = {} if status == 401 else {"Authorization": f"Bearer {token}"}
        response = await api.client.get(path, headers=headers)
        assert response.status_code == status
        assert_error_body(response, code, "MISSING" if status == 401 else "NO_SUCH_PERSON")


async def test_an_unexpected_failure_is_a_json_500_with_the_request_id(
    edge: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("a bug while reading the caller")

    monkeypatch.setattr("jubao.platform.app.authenticate_token", broken)
    with caplog.at_level(logging.ERROR):
        response = await edge.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Authorization": "Bearer x.y.z", "X-Request-ID": "bug-1"},
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert_error_body(response, "INTERNAL_SERVER_ERROR")
    assert "bug-1" in response.json()["errors"][0]["message"]
    assert "a bug while" not in response.text
    assert any(r.exc_info for r in caplog.records)  # a bug: logged with its traceback
