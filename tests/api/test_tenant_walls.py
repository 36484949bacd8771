"""Every way we know across a tenant wall: each must look exactly like asking for nothing."""

import base64
from typing import Any

from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.platform.services import Services
from tests.helpers import COUNTY_B, Api, World

NODE = "query ($id: ID!) { node(id: $id) { id __typename } }"


def gid(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def node(api: Api, viewer: str, global_id: str) -> Any:
    return (await api.as_(viewer, NODE, {"id": global_id}))["node"]


async def test_node_outside_the_scope_is_null_exactly_like_an_unknown_id(
    api: Api, world: World
) -> None:
    viewer = "perm.county"  # reads regions, users and grants in its county
    # visible: sanity check that the same kinds of ID do resolve inside the scope
    assert (await node(api, viewer, gid("User", world.ids["village.assistant"])))[
        "__typename"
    ] == "User"
    assert (await node(api, viewer, gid("Region", "410121101201")))["__typename"] == "Region"
    assert (await node(api, viewer, gid("Grant", world.grant_ids["township.reviewer"])))[
        "__typename"
    ] == "Grant"

    outside = [
        gid("User", world.ids["countyb.reviewer"]),
        gid("User", world.ids["district.reviewer"]),  # the county next door, same city
        gid("User", world.ids["city.supervisor"]),  # above: homed at the city
        gid("Region", "410221000000"),
        gid("Region", "410100000000"),
        gid("Grant", world.grant_ids["countyb.reviewer"]),
        gid("Grant", world.grant_ids["city.supervisor"]),
    ]
    unknown = [
        gid("User", 999_999),
        gid("Region", "410121109000"),
        gid("Grant", 999_999),
        gid("Role", "agency_reviewer"),  # not a node type
        gid("User", "abc"),
        "not base64 at all",
    ]
    token = await api.token(viewer)
    answers = [await api.post(NODE, {"id": i}, token=token) for i in outside + unknown]
    assert all(answer == {"data": {"node": None}} for answer in answers), answers


async def test_nodes_in_bulk(api: Api, world: World) -> None:
    data = await api.as_(
        "village.assistant",
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {
            "ids": [
                gid("User", world.ids["village.assistant"]),
                gid("User", world.ids["village.neighbour"]),
                gid("Region", "410121101202"),
                gid("Region", "410121101201"),
            ]
        },
    )
    assert [n is not None for n in data["nodes"]] == [True, False, False, True]


async def test_grants_outside_the_viewers_scope_are_hidden(
    api: Api, world: World, services: Services
) -> None:
    system = Actor.system("test")
    async with services.db.transaction(system) as session:
        await grant_role(
            session,
            system,
            user_id=world.ids["nobody"],
            role_name="auditor",
            region=COUNTY_B,
            reason="借调",
        )
    query = "query ($id: ID!) { node(id: $id) { ... on User { username grants { regionCode } } } }"
    nobody = gid("User", world.ids["nobody"])
    seen_by_county = await api.as_("perm.county", query, {"id": nobody})
    assert seen_by_county["node"] == {"username": "nobody", "grants": []}
    seen_by_province = await api.as_("admin", query, {"id": nobody})
    assert seen_by_province["node"]["grants"] == [{"regionCode": "410221000000"}]
    # the operator sees their own grants wherever they are
    own = await api.as_("nobody", "{ me { grants { regionCode region { code } } } }")
    assert own["me"]["grants"] == [
        {"regionCode": "410221000000", "region": {"code": "410221000000"}}
    ]


async def test_mutations_cannot_reach_across(api: Api, world: World) -> None:
    other_user = gid("User", world.ids["countyb.reviewer"])
    other_grant = gid("Grant", world.grant_ids["countyb.reviewer"])
    deactivate = await api.as_(
        "perm.county",
        'mutation ($id: ID!) { userDeactivate(input: {id: $id, reason: "x"}) { user { id } userErrors { code } } }',
        {"id": other_user},
    )
    assert deactivate["userDeactivate"] == {"user": None, "userErrors": [{"code": "NOT_FOUND"}]}
    revoke = await api.as_(
        "perm.county",
        'mutation ($id: ID!) { roleRevoke(input: {grant: $id, reason: "x"}) { grant { id } userErrors { code } } }',
        {"id": other_grant},
    )
    assert revoke["roleRevoke"] == {"grant": None, "userErrors": [{"code": "GRANT_NOT_FOUND"}]}
    grant = await api.as_(
        "perm.county",
        """mutation ($id: ID!) { roleGrant(input: {user: $id, role: AGENCY_PROCESSOR,
             region: "410121000000", reason: "x"}) { grant { id } userErrors { code } } }""",
        {"id": other_user},
    )
    assert grant["roleGrant"] == {"grant": None, "userErrors": [{"code": "NOT_FOUND"}]}
    create = await api.as_(
        "perm.county",
        """mutation { userCreate(input: {username: "spy", displayName: "间谍", region: "410221101201",
             password: "abcdef12345"}) { user { id } userErrors { code } } }""",
    )
    assert create["userCreate"] == {"user": None, "userErrors": [{"code": "FORBIDDEN"}]}


async def test_operators_without_admin_rights_cannot_administer(api: Api, world: World) -> None:
    visible = gid("User", world.ids["village.assistant"])
    result = await api.as_(
        "county.reviewer",
        'mutation ($id: ID!) { userDeactivate(input: {id: $id, reason: "x"}) { userErrors { code } } }',
        {"id": visible},
    )
    assert result["userDeactivate"]["userErrors"] == [{"code": "FORBIDDEN"}]


async def test_keys_beyond_a_columns_range_name_nothing(api: Api) -> None:
    token = await api.token("perm.county")
    for global_id in (gid("User", 99_999_999_999), gid("Grant", 2**63), gid("User", "0")):
        assert await api.post(NODE, {"id": global_id}, token=token) == {"data": {"node": None}}
    cursor = base64.urlsafe_b64encode(b"k:99999999999999999999").decode()
    result = await api.post(
        "query ($a: String) { users(first: 5, after: $a) { totalCount } }",
        {"a": cursor},
        token=token,
    )
    assert result["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "BAD_CURSOR"}
