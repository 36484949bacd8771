from jubao.authz.roles import ROLES
from tests.helpers import Api, World

GRANT = """mutation ($input: RoleGrantInput!) {
  roleGrant(input: $input) { grant { id regionCode regionPrefix role { name } user { username } region { name } }
                             userErrors { field message code } } }"""
REVOKE = """mutation ($input: RoleRevokeInput!) {
  roleRevoke(input: $input) { grant { id } userErrors { field code } } }"""


async def user_id(api: Api, admin: str, username: str) -> str:
    data = await api.as_(admin, "{ users(first: 100) { edges { node { id username } } } }")
    return next(
        e["node"]["id"] for e in data["users"]["edges"] if e["node"]["username"] == username
    )


async def test_the_catalogue(api: Api) -> None:
    data = await api.as_(
        "village.assistant",
        "{ roles { name title titleZh minLevel maxLevel permissions { object action } } }",
    )
    roles = {r["name"]: r for r in data["roles"]}
    assert len(roles) == len(ROLES)
    assert roles["AGENCY_REVIEWER"]["title"] == "经办机构审核员"
    assert roles["PERMISSION_ADMIN"]["minLevel"] == "PROVINCE"
    assert roles["PERMISSION_ADMIN"]["maxLevel"] == "TOWNSHIP"
    assert {"object": "ENROLLMENT", "action": "REVIEW"} in roles["AGENCY_REVIEWER"]["permissions"]
    english = await api.as_("village.assistant", "{ roles { name title } }", lang="en")
    assert {r["name"]: r["title"] for r in english["roles"]}["AGENCY_REVIEWER"] == "Agency reviewer"


async def test_grant_and_revoke_through_the_api(api: Api, world: World) -> None:
    nobody = await user_id(api, "perm.county", "nobody")
    data = await api.as_(
        "perm.county",
        GRANT,
        {
            "input": {
                "user": nobody,
                "role": "TOWNSHIP_PROCESSOR",
                "region": "410121101000",
                "reason": "新进",
            }
        },
    )
    payload = data["roleGrant"]
    assert payload["userErrors"] == []
    grant = payload["grant"]
    assert grant["regionCode"] == "410121101000"
    assert grant["regionPrefix"] == "410121101"
    assert grant["role"]["name"] == "TOWNSHIP_PROCESSOR"
    assert grant["user"]["username"] == "nobody"

    me = await api.as_(
        "nobody", "{ me { grants { id } permissions { object action regionPrefixes } } }"
    )
    assert me["me"]["grants"] == [{"id": grant["id"]}]
    assert {"object": "ENROLLMENT", "action": "PROCESS", "regionPrefixes": ["410121101"]} in me[
        "me"
    ]["permissions"]

    revoked = await api.as_(
        "perm.county", REVOKE, {"input": {"grant": grant["id"], "reason": "调走"}}
    )
    assert revoked["roleRevoke"] == {"grant": {"id": grant["id"]}, "userErrors": []}
    again = await api.as_(
        "perm.county", REVOKE, {"input": {"grant": grant["id"], "reason": "调走"}}
    )
    assert again["roleRevoke"]["userErrors"] == [{"field": "grant", "code": "GRANT_NOT_FOUND"}]


async def test_grant_refusals_through_the_api(api: Api) -> None:
    nobody = await user_id(api, "perm.county", "nobody")
    me = await user_id(api, "perm.county", "perm.county")
    cases = [
        ({"user": nobody, "role": "AGENCY_REVIEWER", "region": "410221000000"}, "OUTSIDE_SUBTREE"),
        ({"user": nobody, "role": "VILLAGE_ASSISTANT", "region": "410121101000"}, "LEVEL_MISMATCH"),
        ({"user": me, "role": "AGENCY_PROCESSOR", "region": "410121000000"}, "SELF_GRANT"),
        (
            {"user": "VXNlcjo5OTk5", "role": "AGENCY_PROCESSOR", "region": "410121000000"},
            "NOT_FOUND",
        ),
        ({"user": "garbage", "role": "AGENCY_PROCESSOR", "region": "410121000000"}, "NOT_FOUND"),
        # well formed, inside the administrator's subtree, but no such region
        (
            {"user": nobody, "role": "TOWNSHIP_PROCESSOR", "region": "410121990000"},
            "UNKNOWN_REGION",
        ),
    ]
    for variables, code in cases:
        data = await api.as_("perm.county", GRANT, {"input": {**variables, "reason": "测试"}})
        assert data["roleGrant"]["grant"] is None
        assert [e["code"] for e in data["roleGrant"]["userErrors"]] == [code], variables
    # separation of duties, with the message naming both roles
    reviewer = await user_id(api, "perm.county", "county.reviewer")
    grants = "query ($u: ID!) { node(id: $u) { ... on User { grants { role { name } } } } }"
    before = await api.as_("perm.county", grants, {"u": reviewer})
    sod = await api.as_(
        "perm.county",
        GRANT,
        {
            "input": {
                "user": reviewer,
                "role": "TOWNSHIP_PROCESSOR",
                "region": "410121101000",
                "reason": "兼岗",
            }
        },
    )
    [error] = sod["roleGrant"]["userErrors"]
    assert sod["roleGrant"]["grant"] is None
    assert await api.as_("perm.county", grants, {"u": reviewer}) == before
    assert error["code"] == "SOD_CONFLICT"
    assert error["field"] == "role"
    assert "经办机构审核员" in error["message"]
    assert "乡镇经办员" in error["message"]
