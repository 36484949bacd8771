"""资格认证 and 暂停/恢复 through HTTP: a verification recorded, the cycle on the person, the
villages' lists and their files, a pause and its resumption through review — and none of it
across the tenant wall."""

from datetime import date

from strawberry.relay import to_base64

from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import TOWN_A, Api, World
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, awarded

RECORD = """mutation ($p: ID!, $d: Date!, $m: VerificationMethod!) {
  verificationRecord(input: {person: $p, verifiedOn: $d, method: $m}) {
    verification { verifiedOn method recordedBy } resumption { id }
    userErrors { field code message } } }"""
PERSON = """query ($p: ID!) { node(id: $p) { ... on Person { status
  verification { cycleStart cycleMonths dueMonth last { verifiedOn method } }
  benefitHolds { reason pays fromMonth untilMonth backPay note } } } }"""
LIST = """query ($r: RegionCode!, $m: Month!, $l: VerificationList!) {
  verificationList(region: $r, month: $m, list: $l) { totalCount edges { node { name } } } }"""
HOLD = """mutation ($p: ID!) { benefitHoldSubmit(input: {person: $p, reason: IMPRISONED,
  beganOn: "2027-01-10", note: "（2027）豫0121刑初12号"}) {
  application { id } userErrors { field code message } } }"""
RESUME = """mutation ($p: ID!) { benefitResumptionSubmit(input: {person: $p, note: "刑满释放"}) {
  application { id } userErrors { field code message } } }"""
REVIEW = """mutation ($id: ID!) { applicationReview(input: {application: $id, decision: APPROVE}) {
  application { status result { __typename
    ... on BenefitHoldResult { status fromMonth }
    ... on BenefitResumptionResult { status untilMonth backPay } } }
  userErrors { code message } } }"""


async def test_a_verification_its_cycle_and_the_lists(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    row = await awarded(services, acting, 81, bank_account=ACCOUNT)  # paid from 2027-01
    person = to_base64("Person", row.id)
    services.clock.day = date(2027, 3, 2)
    recorded = (
        await api.as_("village.assistant", RECORD, {"p": person, "d": "2027-03-01", "m": "PHONE"})
    )["verificationRecord"]
    assert recorded["userErrors"] == [] and recorded["resumption"] is None
    assert recorded["verification"]["method"] == "PHONE"
    seen = (await api.as_("township.reviewer", PERSON, {"p": person}))["node"]
    assert seen["verification"] == {
        "cycleStart": "2027-04",
        "cycleMonths": 12,
        "dueMonth": "2028-03",
        "last": {"verifiedOn": "2027-03-01", "method": "PHONE"},
    }
    assert seen["benefitHolds"] == []

    future = (
        await api.as_("village.assistant", RECORD, {"p": person, "d": "2027-03-03", "m": "COUNTER"})
    )["verificationRecord"]
    assert [(e["field"], e["code"]) for e in future["userErrors"]] == [("verifiedOn", "FUTURE")]
    early = (
        await api.as_("village.assistant", RECORD, {"p": person, "d": "2026-10-31", "m": "COUNTER"})
    )["verificationRecord"]
    assert [(e["field"], e["code"]) for e in early["userErrors"]] == [
        ("verifiedOn", "BEFORE_AWARD")
    ]
    for outsider in ("village.neighbour", "countyb.reviewer"):
        refused = (
            await api.as_(outsider, RECORD, {"p": person, "d": "2027-03-01", "m": "COUNTER"})
        )["verificationRecord"]
        assert refused["verification"] is None
        assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
        assert (await api.as_(outsider, PERSON, {"p": person}))["node"] is None

    listed = await api.as_(
        "township.processor", LIST, {"r": TOWN_A.code, "m": "2028-03", "l": "DUE"}
    )
    assert listed["verificationList"]["totalCount"] == 1
    for other in ("2028-02", "2028-04"):
        elsewhere = await api.as_(
            "township.processor", LIST, {"r": TOWN_A.code, "m": other, "l": "DUE"}
        )
        assert elsewhere["verificationList"]["totalCount"] == 0
    overdue = await api.as_(
        "township.processor", LIST, {"r": TOWN_A.code, "m": "2028-04", "l": "OVERDUE"}
    )
    assert overdue["verificationList"]["totalCount"] == 1
    hidden = await api.as_("village.xiang", LIST, {"r": TOWN_A.code, "m": "2028-03", "l": "DUE"})
    assert hidden["verificationList"]["totalCount"] == 0
    tally = """query ($r: RegionCode!, $m: Month!) { verificationTally(region: $r, month: $m) {
      regionCode region { code } due overdue paused } }"""
    counted = await api.as_("county.processor", tally, {"r": "410121000000", "m": "2028-03"})
    assert counted["verificationTally"] == [
        {
            "regionCode": TOWN_A.code,
            "region": {"code": TOWN_A.code},
            "due": 1,
            "overdue": 0,
            "paused": 0,
        }
    ]
    hidden_tally = await api.as_("village.xiang", tally, {"r": "410121000000", "m": "2028-03"})
    assert hidden_tally["verificationTally"] == []

    headers = {"Authorization": f"Bearer {await api.token('township.processor')}"}
    sheet = await api.client.get(f"/verification/due/{TOWN_A.code}/2028-03.csv", headers=headers)
    assert sheet.status_code == 200
    text = sheet.content.decode("utf-8-sig")
    assert "本月应认证" in text and "2028-03" in text and "2027-03-01" in text
    for url in (
        f"/verification/lapsed/{TOWN_A.code}/2028-03.csv",
        f"/verification/due/{TOWN_A.code}/2028-13.csv",
    ):
        assert (await api.client.get(url, headers=headers)).status_code == 404
    outsider = {"Authorization": f"Bearer {await api.token('countyb.reviewer')}"}
    url = f"/verification/due/{TOWN_A.code}/2028-03.csv"
    assert (await api.client.get(url, headers=outsider)).status_code == 404
    assert (await api.client.get(url)).status_code == 401


async def test_a_pause_and_its_resumption_through_review(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    row = await awarded(services, acting, 82, bank_account=ACCOUNT)
    person = to_base64("Person", row.id)
    services.clock.day = date(2027, 1, 20)
    for outsider in ("village.neighbour", "countyb.reviewer"):
        refused = (await api.as_(outsider, HOLD, {"p": person}))["benefitHoldSubmit"]
        assert refused["application"] is None and refused["userErrors"]
    held = (await api.as_("county.processor", HOLD, {"p": person}))["benefitHoldSubmit"]
    assert held["userErrors"] == []
    decided = (await api.as_("county.reviewer", REVIEW, {"id": held["application"]["id"]}))[
        "applicationReview"
    ]["application"]
    assert decided["result"] == {
        "__typename": "BenefitHoldResult",
        "status": "BENEFIT_SUSPENDED",
        "fromMonth": "2027-01",
    }
    services.clock.day = date(2027, 4, 8)
    resumed = (await api.as_("county.processor", RESUME, {"p": person}))["benefitResumptionSubmit"]
    decided = (await api.as_("county.reviewer", REVIEW, {"id": resumed["application"]["id"]}))[
        "applicationReview"
    ]["application"]
    assert decided["result"] == {
        "__typename": "BenefitResumptionResult",
        "status": "RECEIVING",
        "untilMonth": "2027-04",
        "backPay": False,
    }
    seen = (await api.as_("county.reviewer", PERSON, {"p": person}))["node"]
    assert seen["status"] == "RECEIVING"
    assert seen["benefitHolds"] == [
        {
            "reason": "IMPRISONED",
            "pays": False,
            "fromMonth": "2027-01",
            "untilMonth": "2027-04",
            "backPay": False,
            "note": "（2027）豫0121刑初12号",
        }
    ]
    # a new cycle from the resumption
    assert seen["verification"]["cycleStart"] == "2027-04"
