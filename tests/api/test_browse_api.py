"""What front ends and auditors browse: the region tree by children, the audit trail of one's
region, and the grants in one's region with who holds them."""

from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.platform.services import Services
from tests.api.test_pension_api import enrol
from tests.helpers import COUNTY_A, TOWN_A, Api, World

CHILDREN = """query ($c: RegionCode!) { region(code: $c) { name children(first: 10) {
  totalCount edges { node { code level children(first: 1) { totalCount } } } } } }"""
AUDIT = """query ($w: AuditFilter) { auditEvents(first: 50, where: $w) { totalCount
  edges { node { id at actor action target regionCode reason region { name } } } } }"""
GRANTS = """query ($w: GrantFilter) { grants(first: 50, where: $w) { totalCount
  edges { node { id role { name } regionCode user { username region { code } } } } } }"""


async def test_the_tree_by_children_within_the_scope(api: Api, world: World) -> None:
    county = (await api.as_("county.reviewer", CHILDREN, {"c": COUNTY_A.code}))["region"]
    codes = [e["node"]["code"] for e in county["children"]["edges"]]
    assert codes == ["410121101000", "410121201000"] and county["children"]["totalCount"] == 2
    assert all(e["node"]["children"]["totalCount"] == 3 for e in county["children"]["edges"])
    # a township reviewer sees the county's children only as far as their own township
    seen = (await api.as_("township.reviewer", CHILDREN, {"c": COUNTY_A.code}))["region"]
    assert seen is None  # the county itself is outside the township's scope
    own = (await api.as_("township.reviewer", CHILDREN, {"c": TOWN_A.code}))["region"]
    assert own["children"]["totalCount"] == 3


async def test_auditors_read_the_trail_of_their_region(api: Api, world: World) -> None:
    await enrol(api)
    trail = await api.as_("auditor", AUDIT, {"w": {"action": "application."}})
    actions = [e["node"]["action"] for e in trail["auditEvents"]["edges"]]
    assert actions == ["application.submit", "application.approve", "application.approve"]
    assert {e["node"]["regionCode"] for e in trail["auditEvents"]["edges"]} == {"410121101201"}
    first = trail["auditEvents"]["edges"][0]["node"]
    again = await api.as_(
        "auditor",
        "query ($id: ID!) { node(id: $id) { ... on AuditEvent { action } } }",
        {"id": first["id"]},
    )
    assert again["node"] == {"action": "application.submit"}
    by_actor = await api.as_(
        "auditor",
        AUDIT,
        {"w": {"actor": await user_id(api, "village.assistant"), "action": "application.submit"}},
    )
    assert by_actor["auditEvents"]["totalCount"] == 1
    # another county's reviewer has no audit right; nobody sees another region's trail
    elsewhere = await api.as_("countyb.reviewer", AUDIT, {"w": None})
    assert elsewhere["auditEvents"]["totalCount"] == 0


async def user_id(api: Api, username: str) -> str:
    me = await api.as_(username, "{ me { user { id } } }")
    return str(me["me"]["user"]["id"])


async def test_grants_by_user_role_and_region_with_their_holders(
    api: Api, services: Services, world: World
) -> None:
    listed = await api.as_("perm.county", GRANTS, {"w": {"role": "AGENCY_REVIEWER"}})
    holders = {e["node"]["user"]["username"] for e in listed["grants"]["edges"]}
    assert holders == {"county.reviewer"}
    # an operator homed elsewhere (the city) holding a grant in the county: the holder shows
    system = Actor.system("test")
    async with services.db.transaction(system) as session:
        await grant_role(
            session,
            system,
            user_id=world.ids["auditor"],
            role_name="auditor",
            region=COUNTY_A,
            reason="测试：跨级稽核",
        )
    audits = await api.as_("perm.county", GRANTS, {"w": {"role": "AUDITOR"}})
    [edge] = audits["grants"]["edges"]
    assert edge["node"]["regionCode"] == COUNTY_A.code
    assert edge["node"]["user"] == {"username": "auditor", "region": None}  # homed in the city
    town = await api.as_("perm.county", GRANTS, {"w": {"region": TOWN_A.code}})
    assert {e["node"]["role"]["name"] for e in town["grants"]["edges"]} == {
        "TOWNSHIP_PROCESSOR",
        "TOWNSHIP_REVIEWER",
        "VILLAGE_ASSISTANT",  # at or below the town: its villages too
    }
    mine = await api.as_("village.assistant", GRANTS, {"w": None})
    assert [e["node"]["user"]["username"] for e in mine["grants"]["edges"]] == ["village.assistant"]
