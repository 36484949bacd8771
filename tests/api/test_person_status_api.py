"""Through HTTP: suspending and resuming a contributor (the person state machine), review chains
set for one region and kind, and reviewers outside the application's region."""

from sqlalchemy import select

from jubao.pension.people.persons import Person
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.platform.services import Services
from tests.api.test_pension_api import REVIEW, enrol
from tests.helpers import COUNTY_A, Api, World
from tests.pension.support import SYSTEM

SUSPEND = """mutation ($p: ID!, $a: SuspensionAction!, $r: String!) {
  personSuspensionSubmit(input: {person: $p, action: $a, reason: $r}) {
    application { id chain } userErrors { field code message } } }"""
STATUS = """query ($p: ID!) { node(id: $p) { ... on Person { status history { kind
  before { status reason } after { status reason } } } } }"""
PAY = """mutation ($p: ID!) { contributionSubmit(input: {person: $p, year: 2026, grade: "500.00",
  paidOn: "2026-11-23"}) { userErrors { code } } }"""


async def decide(api: Api, reviewer: str, application: str, decision: str = "APPROVE") -> dict:  # type: ignore[type-arg]
    result = await api.as_(reviewer, REVIEW, {"id": application, "decision": decision})
    return result["applicationReview"]  # type: ignore[no-any-return]


async def test_suspend_and_resume_contributions(api: Api, services: Services, world: World) -> None:
    person = await enrol(api)
    submitted = await api.as_(
        "village.assistant", SUSPEND, {"p": person, "a": "SUSPEND", "r": "服刑"}
    )
    application = submitted["personSuspensionSubmit"]["application"]
    assert application["chain"] == ["COUNTY"]  # the national default
    assert (await decide(api, "county.reviewer", application["id"]))["userErrors"] == []
    status = (await api.as_("county.reviewer", STATUS, {"p": person}))["node"]
    assert status["status"] == "CONTRIBUTION_SUSPENDED"
    assert status["history"][-1] == {
        "kind": "SUSPENDED",
        "before": {"status": "CONTRIBUTING", "reason": None},
        "after": {"status": "CONTRIBUTION_SUSPENDED", "reason": "服刑"},
    }
    # no contribution while suspended, and no second suspension
    paid = await api.as_("county.processor", PAY, {"p": person})
    assert paid["contributionSubmit"]["userErrors"][0]["code"] == "NOT_CONTRIBUTING"
    again = await api.as_("village.assistant", SUSPEND, {"p": person, "a": "SUSPEND", "r": "服刑"})
    [refused] = again["personSuspensionSubmit"]["userErrors"]
    assert refused["code"] == "TRANSITION" and "暂停缴费" in refused["message"]

    resumed = await api.as_(
        "village.assistant", SUSPEND, {"p": person, "a": "RESUME", "r": "刑满释放"}
    )
    resume_id = resumed["personSuspensionSubmit"]["application"]["id"]
    assert (await decide(api, "county.reviewer", resume_id))["userErrors"] == []
    status = (await api.as_("county.reviewer", STATUS, {"p": person}))["node"]
    assert status["status"] == "CONTRIBUTING"
    assert [e["kind"] for e in status["history"]][-2:] == ["SUSPENDED", "RESUMED"]
    assert (await api.as_("county.processor", PAY, {"p": person}))["contributionSubmit"][
        "userErrors"
    ] == []


async def test_reviewers_outside_the_region_cannot_decide(
    api: Api, services: Services, world: World
) -> None:
    person = await enrol(api)
    submitted = await api.as_(
        "village.assistant", SUSPEND, {"p": person, "a": "SUSPEND", "r": "中断缴费"}
    )
    application = submitted["personSuspensionSubmit"]["application"]["id"]
    # another county of the same city, a county elsewhere, the township below the step
    for outsider in ("district.reviewer", "countyb.reviewer", "township.reviewer"):
        refused = await decide(api, outsider, application)
        assert refused["application"] is None
        assert refused["userErrors"][0]["code"] in {"NOT_FOUND", "NOT_YOUR_STEP"}, outsider
    async with services.db.session(SYSTEM) as session:
        row = await session.scalar(select(Person).where(Person.name == "刘桂兰"))
    assert row is not None and row.status == "contributing"  # nothing was decided
    assert (await decide(api, "county.reviewer", application))["userErrors"] == []


async def test_a_region_sets_the_chain_of_one_kind(
    api: Api, services: Services, world: World
) -> None:
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session,
            SYSTEM,
            PolicyFile(
                COUNTY_A,
                2014,
                "县里加一道乡镇初审",
                parse_params({"review_chains": {"suspension": ["township", "county"]}}),
            ),
        )
    person = await enrol(api)  # enrolment keeps the national chain: township → county
    submitted = await api.as_(
        "village.assistant", SUSPEND, {"p": person, "a": "SUSPEND", "r": "中断缴费"}
    )
    application = submitted["personSuspensionSubmit"]["application"]
    assert application["chain"] == ["TOWNSHIP", "COUNTY"]
    early = await decide(api, "county.reviewer", application["id"])
    assert early["userErrors"][0]["code"] == "NOT_YOUR_STEP"
    assert (await decide(api, "township.reviewer", application["id"]))["userErrors"] == []
    done = await decide(api, "county.reviewer", application["id"])
    assert done["application"]["status"] == "APPLIED"
