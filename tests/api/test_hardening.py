import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from jubao.authz.actor import Actor
from jubao.authz.policy import CasbinRule
from jubao.platform.app import create_app
from jubao.platform.services import Services
from jubao.platform.settings import InsecureConfigurationError
from tests.conftest import make_settings
from tests.helpers import Api, error_codes

PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"


async def test_depth_limit(api: Api) -> None:
    nested = "parent { " * 11 + "code" + " }" * 11
    result = await api.post(
        f'{{ region(code: "410121101201") {{ {nested} }} }}', token=await api.token("admin")
    )
    assert error_codes(result) == ["QUERY_TOO_DEEP"]
    assert result["errors"][0]["message"] == "查询嵌套过深，最多 10 层"


async def test_alias_limit(api: Api) -> None:
    aliases = " ".join(f"a{i}: roles {{ name }}" for i in range(16))
    result = await api.post(f"{{ {aliases} }}", token=await api.token("admin"), lang="en")
    assert error_codes(result) == ["TOO_MANY_ALIASES"]
    assert result["errors"][0]["message"] == "Too many aliases in the query (max 15)"


async def test_token_limit(api: Api) -> None:
    fields = " ".join(["name"] * 2100)
    result = await api.post(f"{{ roles {{ {fields} }} }}", token=await api.token("admin"))
    assert error_codes(result) == ["QUERY_TOO_LARGE"]


async def test_oversized_bodies_are_refused_before_parsing(api: Api) -> None:
    big = {"query": "{ roles { name } }", "variables": {"pad": "x" * 120_000}}
    response = await api.client.post("/graphql", json=big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"query": "{ roles { name } }", "variables": {"pad": "'
        for _ in range(30):
            yield b"x" * 5000
        yield b'"}}'

    streamed = await api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_syntax_and_validation_errors_have_codes(api: Api) -> None:
    token = await api.token("admin")
    syntax = await api.post("{ roles { name ", token=token)
    assert error_codes(syntax) == ["GRAPHQL_PARSE_FAILED"]
    invalid = await api.post("{ roles { nmae } }", token=token)
    assert error_codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" in invalid["errors"][0]["message"]  # suggestions outside production


async def test_queries_over_get_but_never_mutations(api: Api) -> None:
    token = await api.token("admin")
    headers = {"Authorization": f"Bearer {token}"}
    query = await api.client.get(
        "/graphql", params={"query": "{ roles { name } }"}, headers=headers
    )
    assert query.status_code == 200
    assert query.json()["data"]["roles"]
    mutation = await api.client.get(
        "/graphql",
        params={
            "query": 'mutation { login(input: {username: "admin", password: "x"}) { userErrors { code } } }'
        },
    )
    assert mutation.status_code == 405  # the GraphQL-over-HTTP answer, naming the way in
    assert mutation.headers["allow"] == "POST"
    assert mutation.json()["errors"][0]["extensions"] == {
        "code": "METHOD_NOT_ALLOWED",
        "reason": "MUTATION_OVER_GET",
    }


async def test_request_ids_and_utf8(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": '{ region(code: "1") { name } }'},
        headers={"X-Request-ID": "trace-42"},
    )
    assert response.headers["x-request-id"] == "trace-42"
    assert "区划代码".encode() in response.content  # not \\u escapes
    generated = await api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32


async def test_internal_errors_are_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: object, codes: list[str]) -> list[object]:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("jubao.platform.api.loaders.Loaders._regions", broken)
    token = await api.token("admin")
    with caplog.at_level(logging.ERROR, logger="jubao.api"):
        response = await api.client.post(
            "/graphql",
            json={"query": '{ region(code: "410121101201") { name } }'},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-7"},
        )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["message"] == "服务器内部错误，请稍后重试（请求号 req-7）"
    assert "hunter2" not in response.text
    assert any(
        "hunter2" in (r.exc_text or "") or "hunter2" in str(r.exc_info) for r in caplog.records
    )


@pytest.fixture
async def production(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        services.settings.database_url, env="production", secret_key=PRODUCTION_SECRET
    )
    app = create_app(services=Services.create(settings))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://x"
    ) as client:
        yield client
    await app.state.services.db.dispose()


async def test_production_hides_the_schema(production: httpx.AsyncClient) -> None:
    introspection = await production.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}
    )
    assert introspection.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    for query in (
        "{ rolse { name } }",
        "{ users(frist: 5) { totalCount } }",
        '{ region(code: "410000000000") { nmae } }',
    ):
        typo = await production.post("/graphql", json={"query": query})
        assert typo.json()["errors"], query
        assert "Did you mean" not in typo.text, typo.text
    ide = await production.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in ide.text.lower()


async def test_readiness_names_the_failing_check_but_no_internals(
    api: Api, services: Services
) -> None:
    assert (await api.client.get("/readyz")).json() == {"status": "ready"}
    async with services.db.transaction(Actor.system("test")) as session:
        await session.execute(delete(CasbinRule).where(CasbinRule.ptype == "p"))
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "role table out of date"}


@pytest.mark.parametrize("secret", [None, "", "short-secret"])
def test_production_refuses_weak_secrets(secret: str | None) -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db", env="production", secret_key=secret)
    with pytest.raises(InsecureConfigurationError):
        create_app(settings)


async def test_readiness_when_the_database_is_gone(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}  # the process lives
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}
