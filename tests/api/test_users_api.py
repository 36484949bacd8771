from typing import Any

from tests.helpers import Api, World, error_codes

CREATE = """mutation ($input: UserCreateInput!) {
  userCreate(input: $input) { user { id username displayName regionCode active region { name } }
                              userErrors { field message code } } }"""
USERS = """query ($region: RegionCode, $first: Int!, $after: String) {
  users(region: $region, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { username } } } }"""


def new_user(**overrides: Any) -> dict[str, Any]:
    return {
        "username": "wang.wu",
        "displayName": "王五",
        "region": "410121101201",
        "password": "good-password-1",
        **overrides,
    }


async def test_create_a_user(api: Api) -> None:
    data = await api.as_("perm.county", CREATE, {"input": new_user()})
    payload = data["userCreate"]
    assert payload["userErrors"] == []
    assert payload["user"]["username"] == "wang.wu"
    assert payload["user"]["regionCode"] == "410121101201"
    assert payload["user"]["region"]["name"]
    login = await api.login("wang.wu", "good-password-1")
    assert login["data"]["login"]["userErrors"] == []


async def test_create_refusals(api: Api) -> None:
    cases = [
        (new_user(username="admin"), "username", "USERNAME_TAKEN"),
        (new_user(region="410221000000"), "region", "FORBIDDEN"),
        (new_user(password="12345678901"), "password", "TOO_SIMPLE"),
        (new_user(displayName="  "), "displayName", "REQUIRED"),
        (new_user(displayName="王\u202e五"), "displayName", "CHARACTER"),
    ]
    for variables, field, code in cases:
        data = await api.as_("perm.county", CREATE, {"input": variables})
        assert data["userCreate"]["user"] is None
        [error] = data["userCreate"]["userErrors"]
        assert (error["field"], error["code"]) == (field, code), error
    forbidden = await api.as_("perm.county", CREATE, {"input": new_user(region="410221000000")})
    assert (
        forbidden["userCreate"]["userErrors"][0]["message"]
        == "您没有在 410221000000 管理操作员的权限"
    )
    english = await api.as_(
        "perm.county", CREATE, {"input": new_user(region="410221000000")}, lang="en"
    )
    assert (
        english["userCreate"]["userErrors"][0]["message"]
        == "You may not admin user in 410221000000"
    )
    total = await api.as_("admin", USERS, {"first": 100})
    assert "wang.wu" not in {e["node"]["username"] for e in total["users"]["edges"]}


async def test_a_malformed_region_code_is_a_top_level_input_error(api: Api) -> None:
    result = await api.post(
        CREATE, {"input": new_user(region="41012110120")}, token=await api.token("perm.county")
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert "区划代码必须是 12 位数字" in result["errors"][0]["message"]


async def test_users_are_scoped_and_paginated(api: Api, world: World) -> None:
    everyone = await api.as_("admin", USERS, {"first": 100})
    assert everyone["users"]["totalCount"] == len(world.ids)

    county = await api.as_("county.reviewer", USERS, {"first": 100})
    names = {e["node"]["username"] for e in county["users"]["edges"]}
    assert "countyb.reviewer" not in names
    assert "city.supervisor" not in names
    assert "county.reviewer" in names
    assert "village.assistant" in names
    assert county["users"]["totalCount"] == len(names) == 10

    village = await api.as_("village.assistant", USERS, {"first": 100})
    assert [e["node"]["username"] for e in village["users"]["edges"]] == ["village.assistant"]

    seen: list[str] = []
    after = None
    while True:
        page = (await api.as_("county.reviewer", USERS, {"first": 3, "after": after}))["users"]
        seen += [e["node"]["username"] for e in page["edges"]]
        assert page["totalCount"] == 10
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(names)

    town = await api.as_("county.reviewer", USERS, {"first": 100, "region": "410121101000"})
    assert {e["node"]["username"] for e in town["users"]["edges"]} == {
        "township.processor",
        "township.reviewer",
        "village.assistant",
        "village.neighbour",
    }
    # filtering on a region outside the scope finds nothing rather than an error
    other = await api.as_("county.reviewer", USERS, {"first": 100, "region": "410221000000"})
    assert other["users"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }


async def test_page_size_and_cursor_limits(api: Api) -> None:
    token = await api.token("admin")
    for first in (0, 101, -1):
        result = await api.post(USERS, {"first": first}, token=token)
        assert error_codes(result) == ["BAD_USER_INPUT"]
        assert result["errors"][0]["message"] == "每页条数必须在 1 到 100 之间"
    bad_cursor = await api.post(USERS, {"first": 5, "after": "bm9wZQ=="}, token=token)
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]


async def test_a_new_operator_sets_their_own_password_before_anything_else(
    api: Api, world: World
) -> None:
    created = await api.as_("perm.county", CREATE, {"input": new_user()})
    user = created["userCreate"]["user"]["id"]
    granted = await api.as_(
        "perm.county",
        """mutation ($u: ID!) { roleGrant(input: {user: $u, role: VILLAGE_ASSISTANT,
             region: "410121101201", reason: "新任协办员"}) { userErrors { code } } }""",
        {"u": user},
    )
    assert granted["roleGrant"]["userErrors"] == []
    login = await api.login("wang.wu", "good-password-1")
    token = login["data"]["login"]["tokens"]["accessToken"]
    me = await api.post("{ me { user { passwordChangeRequired } } }", token=token)
    assert me["data"]["me"]["user"]["passwordChangeRequired"] is True
    # the administrator knows this password: nothing may be done under it
    for query in ("{ persons(first: 1) { totalCount } }", "{ roles { name } }"):
        refused = await api.post(query, token=token, lang="en")
        assert refused["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"
        assert "passwordChange" in refused["errors"][0]["message"]
    same = await api.post(
        """mutation { passwordChange(input: {currentPassword: "good-password-1",
             newPassword: "good-password-1"}) { userErrors { field code } } }""",
        token=token,
    )
    assert same["data"]["passwordChange"]["userErrors"] == [
        {"field": "newPassword", "code": "UNCHANGED"}
    ]
    download = await api.client.get(
        "/statements/UGVyc29uOjE=/2025.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert download.status_code == 403
    changed = await api.post(
        """mutation { passwordChange(input: {currentPassword: "good-password-1",
             newPassword: "my-own-secret-9"}) { tokens { accessToken } userErrors { code } } }""",
        token=token,
    )
    payload = changed["data"]["passwordChange"]
    assert payload["userErrors"] == []
    fresh = payload["tokens"]["accessToken"]
    now = await api.post(
        "{ me { user { passwordChangeRequired } } persons(first: 1) { totalCount } }", token=fresh
    )
    assert "errors" not in now, now
    assert now["data"]["me"]["user"]["passwordChangeRequired"] is False
