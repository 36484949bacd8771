"""待遇核定 through HTTP: the preview, the claim through the chain, the award on the person,
the notice list, and the files to print."""

import io
from datetime import date

from openpyxl import load_workbook
from strawberry.relay import to_base64

from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import TOWN_A, Api, World
from tests.pension.benefits.support import contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_corrections import REASON, late_payment
from tests.pension.benefits.test_payroll import awarded

FIGURES = """figures { transitional startMonth yearsPaid yearsRequired accountTotal
  accountPension basicPension monthly balances { component balance }
  basicPensionItems { regionPrefix item amount } }"""
PREVIEW = (
    "query ($p: ID!) { benefitAwardPreview(person: $p) { "
    + FIGURES
    + " userErrors { field code message } } }"
)
SUBMIT = """mutation ($p: ID!) { benefitAwardSubmit(input: {person: $p}) {
  application { id chain } userErrors { field code message } } }"""
REVIEW = """mutation ($id: ID!) { applicationReview(input: {application: $id, decision: APPROVE}) {
  application { status result { __typename ... on BenefitAwardResult { award { id }
  person { status } } } } userErrors { code message } } }"""
PERSON = (
    "query ($p: ID!) { node(id: $p) { ... on Person { status benefitAward { " + FIGURES + " } } } }"
)
DUE = """query ($r: RegionCode!, $m: Month!) { pensionDue(region: $r, month: $m, first: 10) {
  totalCount edges { node { name birthYear } } } }"""


def person_id(key: int) -> str:
    return to_base64("Person", key)


async def test_a_claim_previewed_submitted_approved_and_printed(
    api: Api, services: Services, world: World, rules: None
) -> None:
    row = await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    person = person_id(row.id)
    preview = (await api.as_("village.assistant", PREVIEW, {"p": person}))["benefitAwardPreview"]
    assert preview["userErrors"] == []
    assert preview["figures"] == {
        "transitional": False,
        "startMonth": "2027-01",
        "yearsPaid": 15,
        "yearsRequired": 15,
        "accountTotal": "8400.00",
        "accountPension": "60.43",
        "basicPension": "208.00",
        "monthly": "268.43",
        "balances": [
            {"component": "PERSONAL", "balance": "7500.00"},
            {"component": "SUBSIDY_PROVINCE", "balance": "900.00"},
        ],
        "basicPensionItems": [
            {"regionPrefix": "", "item": "BASE", "amount": "163.00"},
            {"regionPrefix": "41", "item": "BASE", "amount": "12.00"},
            {"regionPrefix": "410121", "item": "BASE", "amount": "3.00"},
            {"regionPrefix": "410121", "item": "YEARS", "amount": "30.00"},
        ],
    }
    # the supervisor (no personal-data right) sees no day that would tell the birthday
    eligible = "query ($p: ID!) { benefitAwardPreview(person: $p) { figures { eligibleOn } } }"
    shown = await api.as_("county.reviewer", eligible, {"p": person})
    assert shown["benefitAwardPreview"]["figures"]["eligibleOn"] == "2026-12-10"
    hidden = await api.as_("city.supervisor", eligible, {"p": person})
    assert hidden["benefitAwardPreview"]["figures"]["eligibleOn"] is None
    # another township's assistant cannot tell the person exists
    hidden = (await api.as_("village.xiang", PREVIEW, {"p": person}))["benefitAwardPreview"]
    assert hidden["figures"] is None and hidden["userErrors"][0]["code"] == "NOT_FOUND"

    submitted = (await api.as_("village.assistant", SUBMIT, {"p": person}))["benefitAwardSubmit"]
    assert submitted["userErrors"] == [] and submitted["application"]["chain"] == [
        "TOWNSHIP",
        "COUNTY",
    ]
    application = submitted["application"]["id"]
    for reviewer in ("township.reviewer", "county.reviewer"):
        decided = (await api.as_(reviewer, REVIEW, {"id": application}))["applicationReview"]
        assert decided["userErrors"] == []
    result = decided["application"]["result"]
    assert result["__typename"] == "BenefitAwardResult"
    assert result["person"]["status"] == "RECEIVING" and result["award"]["id"]

    node = (await api.as_("county.reviewer", PERSON, {"p": person}))["node"]
    assert node["benefitAward"]["figures"] == preview["figures"]
    again = (await api.as_("village.assistant", SUBMIT, {"p": person}))["benefitAwardSubmit"]
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY"]

    headers = {"Authorization": f"Bearer {await api.token('county.reviewer')}"}
    sheet = await api.client.get(f"/benefits/awards/{person}.xlsx", headers=headers)
    assert sheet.status_code == 200
    cells = [
        c
        for r in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)
        for c in r
    ]
    assert "城乡居民基本养老保险待遇核定表" in cells and 268.43 in cells and 60.43 in cells
    outsider = {"Authorization": f"Bearer {await api.token('countyb.reviewer')}"}
    refused = await api.client.get(f"/benefits/awards/{person}.xlsx", headers=outsider)
    assert refused.status_code == 404


async def test_claims_that_fail_a_check_say_which(
    api: Api, services: Services, world: World, rules: None
) -> None:
    early = await contributor(services, date(1967, 3, 5), 13, range(2012, 2026))
    preview = (await api.as_("village.assistant", PREVIEW, {"p": person_id(early.id)}))[
        "benefitAwardPreview"
    ]
    assert preview["figures"] is None
    assert preview["userErrors"] == [
        {
            "field": "person",
            "code": "TOO_EARLY",
            "message": "张三于 2027-03 年满 60 周岁，2027-02 起才能申请领取待遇",
        }
    ]
    submitted = await api.as_("village.assistant", SUBMIT, {"p": person_id(early.id)}, lang="en")
    [error] = submitted["benefitAwardSubmit"]["userErrors"]
    assert error["message"] == "张三 reaches 60 in 2027-03; the pension can be claimed from 2027-02"


async def test_the_notice_list_and_its_file(
    api: Api, services: Services, world: World, rules: None
) -> None:
    await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    await contributor(services, date(1967, 1, 1), 13, range(2011, 2026))
    listed = await api.as_("township.processor", DUE, {"r": TOWN_A.code, "m": "2026-12"})
    assert listed["pensionDue"]["totalCount"] == 1
    elsewhere = await api.as_("village.xiang", DUE, {"r": TOWN_A.code, "m": "2026-12"})
    assert elsewhere["pensionDue"]["totalCount"] == 0
    bad = await api.post(
        DUE, {"r": TOWN_A.code, "m": "2026-13"}, token=await api.token("township.processor")
    )
    [error] = bad["errors"]
    assert "2026-13" in error["message"] and "YYYY-MM" in error["message"]

    headers = {"Authorization": f"Bearer {await api.token('township.processor')}"}
    csv_file = await api.client.get(f"/benefits/due/{TOWN_A.code}/2026-12.csv", headers=headers)
    assert csv_file.status_code == 200
    text = csv_file.content.decode("utf-8-sig")
    assert "待遇领取通知表" in text and "2027-01" in text and text.count("张三") == 1
    for url in (f"/benefits/due/{TOWN_A.code}/2026-13.csv", "/benefits/due/41x/2026-12.csv"):
        assert (await api.client.get(url, headers=headers)).status_code == 404
    assert "2026-12-10" in text  # the processor has the personal-data right
    supervisor = {"Authorization": f"Bearer {await api.token('city.supervisor')}"}
    masked = await api.client.get(f"/benefits/due/{TOWN_A.code}/2026-12.csv", headers=supervisor)
    masked_text = masked.content.decode("utf-8-sig")
    assert "张三" in masked_text and "2026-12-10" not in masked_text and ",2026-12," in masked_text
    outsider = {"Authorization": f"Bearer {await api.token('countyb.reviewer')}"}
    refused = await api.client.get(f"/benefits/due/{TOWN_A.code}/2026-12.csv", headers=outsider)
    assert refused.status_code == 404
    assert (await api.client.get(f"/benefits/due/{TOWN_A.code}/2026-12.csv")).status_code == 401


async def test_awards_stay_behind_the_tenant_wall(
    api: Api, services: Services, world: World, rules: None
) -> None:
    row = await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    person = person_id(row.id)
    for outsider in ("village.neighbour", "village.xiang", "countyb.reviewer"):
        submitted = (await api.as_(outsider, SUBMIT, {"p": person}))["benefitAwardSubmit"]
        assert submitted["application"] is None
        assert [e["code"] for e in submitted["userErrors"]] in (["NOT_FOUND"], ["FORBIDDEN"])
    application = (await api.as_("village.assistant", SUBMIT, {"p": person}))["benefitAwardSubmit"][
        "application"
    ]["id"]
    # the other county's reviewer can neither see nor decide it
    decided = (await api.as_("countyb.reviewer", REVIEW, {"id": application}))["applicationReview"]
    assert decided["application"] is None and decided["userErrors"][0]["code"] == "NOT_FOUND"
    for reviewer in ("township.reviewer", "county.reviewer"):
        await api.as_(reviewer, REVIEW, {"id": application})
    award_id = (
        await api.as_(
            "county.reviewer",
            "query ($p: ID!) { node(id: $p) { ... on Person { benefitAward { id } } } }",
            {"p": person},
        )
    )["node"]["benefitAward"]["id"]
    node = "query ($id: ID!) { node(id: $id) { id } }"
    for outsider in ("village.neighbour", "countyb.reviewer"):
        assert (await api.as_(outsider, node, {"id": award_id}))["node"] is None
        assert (await api.as_(outsider, PERSON, {"p": person}))["node"] is None
    assert (await api.as_("county.reviewer", node, {"id": award_id}))["node"] == {"id": award_id}
    # ids that name nothing, or another type, answer like a stranger
    for bad in ("nonsense", award_id, to_base64("Person", 2**70)):
        found = (await api.as_("county.reviewer", PREVIEW, {"p": bad}))["benefitAwardPreview"]
        assert found["figures"] is None and found["userErrors"][0]["code"] == "NOT_FOUND", bad
        submitted = (await api.as_("county.reviewer", SUBMIT, {"p": bad}))["benefitAwardSubmit"]
        assert submitted["application"] is None and submitted["userErrors"], bad


CORRECT = """mutation ($p: ID!, $r: String!) {
  benefitAwardCorrectionSubmit(input: {person: $p, reason: $r}) {
  application { id chain } userErrors { field code message } } }"""
VERSIONS = """query ($p: ID!) { node(id: $p) { ... on Person { benefitAward {
  effectiveMonth reason figures { accountTotal accountPension monthly }
  corrects { effectiveMonth reason figures { accountPension } corrects { id } } } } } }"""


async def test_a_correction_through_the_chain_is_a_new_version(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    row = await awarded(services, acting, 63)
    person = person_id(row.id)
    unchanged = await api.as_("county.processor", CORRECT, {"p": person, "r": REASON})
    assert [e["code"] for e in unchanged["benefitAwardCorrectionSubmit"]["userErrors"]] == [
        "NO_CHANGE"
    ]
    await late_payment(services, row)
    for outsider in ("countyb.reviewer", "village.neighbour"):
        refused = await api.as_(outsider, CORRECT, {"p": person, "r": REASON})
        codes = [e["code"] for e in refused["benefitAwardCorrectionSubmit"]["userErrors"]]
        assert codes in (["NOT_FOUND"], ["FORBIDDEN"]), outsider
    short = await api.as_("county.processor", CORRECT, {"p": person, "r": "x"})
    assert short["benefitAwardCorrectionSubmit"]["userErrors"][0]["field"] == "reason"

    submitted = (await api.as_("county.processor", CORRECT, {"p": person, "r": REASON}))[
        "benefitAwardCorrectionSubmit"
    ]
    assert submitted["userErrors"] == [] and submitted["application"]["chain"] == ["COUNTY"]
    decided = await api.as_("county.reviewer", REVIEW, {"id": submitted["application"]["id"]})
    assert decided["applicationReview"]["userErrors"] == []
    award = (await api.as_("village.assistant", VERSIONS, {"p": person}))["node"]["benefitAward"]
    assert award == {
        "effectiveMonth": "2027-01",  # nothing prepared yet: from the start
        "reason": REASON,
        "figures": {"accountTotal": "9790.00", "accountPension": "70.43", "monthly": "278.43"},
        "corrects": {
            "effectiveMonth": "2027-01",
            "reason": None,
            "figures": {"accountPension": "60.43"},
            "corrects": None,
        },
    }
    headers = {"Authorization": f"Bearer {await api.token('county.reviewer')}"}
    sheet = await api.client.get(f"/benefits/awards/{person}.xlsx", headers=headers)
    cells = [
        c
        for r in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)
        for c in r
    ]
    assert 70.43 in cells and 9790 in cells and "更正执行月份" in cells and REASON in cells
