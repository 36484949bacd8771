import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from jubao.platform.app import create_app
from jubao.platform.services import Services
from tests.conftest import make_settings
from tests.helpers import PASSWORD, Api, World
from tests.platform.test_tokens import used_long_ago

ME = "{ me { user { username } } }"


async def test_login_returns_tokens_that_work(api: Api) -> None:
    result = await api.login("county.reviewer")
    payload = result["data"]["login"]
    assert payload["userErrors"] == []
    assert payload["user"]["username"] == "county.reviewer"
    token = payload["tokens"]["accessToken"]
    me = await api.post(ME, token=token)
    assert me["data"]["me"]["user"]["username"] == "county.reviewer"


async def test_wrong_password_in_chinese_and_english(api: Api) -> None:
    zh = (await api.login("county.reviewer", "wrong"))["data"]["login"]
    assert zh["tokens"] is None
    assert zh["userErrors"] == [
        {"field": None, "message": "用户名或密码错误", "code": "INVALID_CREDENTIALS"}
    ]
    en = await api.post(
        'mutation { login(input: {username: "x", password: "y"}) { userErrors { message code } } }',
        lang="en-US,en;q=0.9",
    )
    assert en["data"]["login"]["userErrors"] == [
        {"message": "Wrong username or password", "code": "INVALID_CREDENTIALS"}
    ]


THROTTLED_LOGIN = """mutation ($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
    tokens { accessToken } userErrors { field message code retryAfter } } }"""


def client_at(services: Services, address: str) -> Api:
    transport = httpx.ASGITransport(app=create_app(services=services), client=(address, 4711))
    return Api(httpx.AsyncClient(transport=transport, base_url="http://jubao.test"))


async def test_throttling_through_the_api(api: Api, services: Services) -> None:
    """Guesses from one address make that address wait, with a code and the seconds to wait;
    the owner elsewhere is not locked out."""
    for _ in range(3):
        await api.login("auditor", "guess")
    refused = (await api.login("auditor"))["data"]["login"]
    assert refused["tokens"] is None
    assert refused["userErrors"] == [
        {"field": None, "message": "尝试次数过多，请 1 秒后再试", "code": "THROTTLED"}
    ]
    english = await api.post(THROTTLED_LOGIN, {"u": "auditor", "p": PASSWORD}, lang="en")
    assert english["data"]["login"]["userErrors"] == [
        {
            "field": None,
            "message": "Too many attempts; try again in 1 second",
            "code": "THROTTLED",
            "retryAfter": 1,
        }
    ]
    elsewhere = client_at(services, "198.51.100.20")
    async with elsewhere.client:
        assert (await elsewhere.login("auditor"))["data"]["login"]["userErrors"] == []


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    services: Services, world: World
) -> None:
    async def refused_after_guesses(api: Api, forwarded: list[str]) -> list[bool]:
        """Four attempts, each claiming another client: which were throttled."""
        outcomes = []
        for address in forwarded:
            response = await api.client.post(
                "/graphql",
                json={"query": THROTTLED_LOGIN, "variables": {"u": "finance", "p": "guess"}},
                headers={"X-Forwarded-For": f"10.9.9.9, {address}"},
            )
            errors = response.json()["data"]["login"]["userErrors"]
            outcomes.append(errors[0]["code"] == "THROTTLED")
        return outcomes

    forwarded = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]
    direct = client_at(services, "192.0.2.50")  # no proxy: the header is the client's to write
    async with direct.client:
        assert await refused_after_guesses(direct, forwarded) == [False, False, False, True]
    proxied = dataclasses.replace(
        services,
        settings=make_settings(services.settings.database_url, trusted_proxies="192.0.2.0/24"),
    )
    behind = client_at(proxied, "192.0.2.60")  # our load balancer: each client counts alone
    async with behind.client:
        assert await refused_after_guesses(behind, forwarded) == [False] * 4


async def test_a_request_without_a_token_is_refused_field_by_field(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": ME})
    body = response.json()
    assert response.status_code == 200 and body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "MISSING"}


@pytest.mark.parametrize("authorization", ["Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_a_token_that_is_not_ours_refuses_the_whole_request(
    api: Api, authorization: str
) -> None:
    # Not even login runs: a client holding garbage has a bug to see, not a field to retry.
    for query in (
        ME,
        'mutation { login(input: {username: "a", password: "b"}) { tokens { accessToken } } }',
    ):
        response = await api.client.post(
            "/graphql", json={"query": query}, headers={"Authorization": authorization}
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "INVALID"}


async def test_expired_and_unsigned_tokens(api: Api, services: Services, world: World) -> None:
    now = datetime.now(UTC)
    base = {
        "iss": "jubao",
        "sub": str(world.ids["auditor"]),
        "ver": 0,
        "fam": "f" * 32,
        "iat": int(now.timestamp()),
    }
    expired = jwt.encode(
        {**base, "exp": int((now - timedelta(minutes=1)).timestamp())},
        services.settings.secret_key,
        algorithm="HS256",
    )
    unsigned = jwt.encode(
        {**base, "exp": int((now + timedelta(minutes=5)).timestamp())}, None, algorithm="none"
    )
    forged = jwt.encode(  # well formed, but signed with a key that is not the service's
        {**base, "exp": int((now + timedelta(minutes=5)).timestamp())},
        "an-attacker-s-own-key-of-32-chars!!",
        algorithm="HS256",
    )
    result = await api.post(ME, token=expired)
    assert result["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "EXPIRED"}
    for token in (unsigned, forged):
        response = await api.client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"] == {
            "code": "UNAUTHENTICATED",
            "reason": "INVALID",
        }
    english = await api.post(ME, token=expired, lang="en")
    assert english["errors"][0]["message"] == "The token has expired; refresh it or log in"


async def test_deactivation_ends_existing_tokens(api: Api, world: World) -> None:
    victim = await api.token("village.assistant")
    user_id = (await api.as_("village.assistant", "{ me { user { id } } }"))["me"]["user"]["id"]
    result = await api.as_(
        "perm.county",
        'mutation ($id: ID!) { userDeactivate(input: {id: $id, reason: "离职"}) { user { active } userErrors { code } } }',
        {"id": user_id},
    )
    assert result["userDeactivate"] == {"user": {"active": False}, "userErrors": []}
    refused = await api.post(ME, token=victim)
    assert refused["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "REVOKED"}
    assert (await api.login("village.assistant"))["data"]["login"]["userErrors"][0][
        "code"
    ] == "INACTIVE"


async def test_password_change_ends_other_sessions_and_returns_new_tokens(api: Api) -> None:
    old = await api.token("finance")
    change = """mutation ($c: String!, $n: String!) {
        passwordChange(input: {currentPassword: $c, newPassword: $n}) {
          tokens { accessToken } userErrors { field code message } } }"""
    wrong = await api.post(change, {"c": "nope", "n": "brand-new-77"}, token=old)
    assert wrong["data"]["passwordChange"]["userErrors"] == [
        {"field": "currentPassword", "code": "WRONG_PASSWORD", "message": "原密码不正确"}
    ]
    weak = await api.post(change, {"c": PASSWORD, "n": "short"}, token=old)
    assert weak["data"]["passwordChange"]["userErrors"][0]["code"] == "TOO_SHORT"
    done = await api.post(change, {"c": PASSWORD, "n": "brand-new-77"}, token=old)
    new = done["data"]["passwordChange"]["tokens"]["accessToken"]
    assert (await api.post(ME, token=old))["errors"][0]["extensions"]["reason"] == "REVOKED"
    assert (await api.post(ME, token=new))["data"]["me"]["user"]["username"] == "finance"
    assert (await api.login("finance", "brand-new-77"))["data"]["login"]["userErrors"] == []


async def test_token_refresh_through_the_api(api: Api, services: Services) -> None:
    login = (await api.login("auditor"))["data"]["login"]
    refresh = """mutation ($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
        tokens { accessToken refreshToken } userErrors { code field } } }"""
    first = (await api.post(refresh, {"t": login["tokens"]["refreshToken"]}))["data"][
        "tokenRefresh"
    ]
    assert first["userErrors"] == []
    me = await api.post(ME, token=first["tokens"]["accessToken"])
    assert me["data"]["me"]["user"]["username"] == "auditor"
    await used_long_ago(services)
    replay = (await api.post(refresh, {"t": login["tokens"]["refreshToken"]}))["data"][
        "tokenRefresh"
    ]
    assert replay == {
        "tokens": None,
        "userErrors": [{"code": "REFRESH_INVALID", "field": "refreshToken"}],
    }


REFRESH = """mutation ($t: String!) { tokenRefresh(input: {refreshToken: $t}) {
    tokens { accessToken refreshToken } userErrors { code } } }"""


async def test_a_replayed_refresh_token_ends_its_familys_access_tokens_at_once(
    api: Api, services: Services
) -> None:
    """Someone copied a refresh token: the session it belongs to ends, access tokens included
    (not 15 minutes later); the same operator's other sessions go on."""
    stolen = (await api.login("auditor"))["data"]["login"]["tokens"]
    other_device = (await api.login("auditor"))["data"]["login"]["tokens"]["accessToken"]
    rotated = (await api.post(REFRESH, {"t": stolen["refreshToken"]}))["data"]["tokenRefresh"]
    for token in (stolen["accessToken"], rotated["tokens"]["accessToken"], other_device):
        assert "errors" not in await api.post(ME, token=token)  # remembered by the auth cache
    await used_long_ago(services)
    replay = (await api.post(REFRESH, {"t": stolen["refreshToken"]}))["data"]["tokenRefresh"]
    assert replay["userErrors"] == [{"code": "REFRESH_INVALID"}]
    for token in (stolen["accessToken"], rotated["tokens"]["accessToken"]):
        refused = await api.post(ME, token=token, lang="en")
        assert refused["errors"][0]["extensions"] == {
            "code": "UNAUTHENTICATED",
            "reason": "REVOKED",
        }
        assert "refresh token used twice" in refused["errors"][0]["message"]
    assert (await api.post(ME, token=other_device))["data"]["me"]["user"]["username"] == "auditor"
