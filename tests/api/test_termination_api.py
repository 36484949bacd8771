"""注销 through HTTP: the application through its chain, the 注销登记表 on the person and as a
file, the one-off run — and none of it across the tenant wall."""

from datetime import date

from strawberry.relay import to_base64

from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import Api, World
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, awarded

SUBMIT = """mutation ($input: TerminationInput!) { terminationSubmit(input: $input) {
  application { id chain } userErrors { field code message } } }"""
REVIEW = """mutation ($id: ID!) { applicationReview(input: {application: $id, decision: APPROVE}) {
  application { status result { __typename ... on TerminationResult { refund payout } } }
  userErrors { code message } } }"""
PERSON = """query ($p: ID!) { node(id: $p) { ... on Person { status
  termination { reason scope refund funeral payout balances { component balance } }
  recoveryOrders { number } deathReports { source diedOn } } } }"""
PAYOUTS = """mutation ($r: RegionCode!) { payrollPayoutsPrepare(input: {region: $r}) {
  run { kind lines total } userErrors { code } } }"""


def death(person: str, **more: object) -> dict[str, object]:
    return {
        "input": {
            "person": person,
            "reason": "DEATH",
            "diedOn": "2027-01-10",
            "proof": "居民死亡医学证明书 A0127",
            "payee": {
                "name": "李建国",
                "idNumber": "410121197005050011",
                "relation": "子女",
                "bankAccount": "6228480000000009017",
                "proof": "村委会亲属关系证明",
            },
            **more,
        }
    }


async def test_a_death_through_the_chain_its_sheet_and_its_payout(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    row = await awarded(services, acting, 111, bank_account=ACCOUNT)
    person = to_base64("Person", row.id)
    services.clock.day = date(2027, 1, 15)
    for outsider in ("village.neighbour", "countyb.reviewer"):
        refused = (await api.as_(outsider, SUBMIT, death(person)))["terminationSubmit"]
        assert refused["application"] is None
        assert [e["code"] for e in refused["userErrors"]] in (["NOT_FOUND"], ["FORBIDDEN"])
    wrong = (await api.as_("village.assistant", SUBMIT, death(person, diedOn="2027-02-01")))[
        "terminationSubmit"
    ]
    assert [(e["field"], e["code"]) for e in wrong["userErrors"]] == [("diedOn", "DIED_ON")]
    bad_heir = death(person)
    bad_heir["input"]["payee"]["idNumber"] = "410121197005050014"  # type: ignore[index]
    refused = (await api.as_("village.assistant", SUBMIT, bad_heir))["terminationSubmit"]
    assert [e["field"] for e in refused["userErrors"]] == ["payee.idNumber"]

    submitted = (await api.as_("village.assistant", SUBMIT, death(person)))["terminationSubmit"]
    assert submitted["userErrors"] == [] and submitted["application"]["chain"] == [
        "TOWNSHIP",
        "COUNTY",
    ]
    application = submitted["application"]["id"]
    await api.as_("township.reviewer", REVIEW, {"id": application})
    done = (await api.as_("county.reviewer", REVIEW, {"id": application}))["applicationReview"]
    assert done["application"]["result"] == {
        "__typename": "TerminationResult",
        "refund": "8400.00",
        "payout": "8400.00",
    }
    seen = (await api.as_("county.reviewer", PERSON, {"p": person}))["node"]
    assert seen["status"] == "TERMINATED"
    assert seen["termination"]["scope"] == "ALL" and seen["termination"]["payout"] == "8400.00"
    assert seen["deathReports"] == [{"source": "村镇报告", "diedOn": "2027-01-10"}]
    for outsider in ("village.neighbour", "countyb.reviewer"):
        assert (await api.as_(outsider, PERSON, {"p": person}))["node"] is None

    headers = {"Authorization": f"Bearer {await api.token('county.reviewer')}"}
    sheet = await api.client.get(f"/terminations/{person}.csv", headers=headers)
    assert sheet.status_code == 200
    text = sheet.content.decode("utf-8-sig")
    assert "注销登记表" in text and "李建国" in text and "8400.00" in text
    outsider = {"Authorization": f"Bearer {await api.token('countyb.reviewer')}"}
    assert (
        await api.client.get(f"/terminations/{person}.csv", headers=outsider)
    ).status_code == 404
    alive = to_base64("Person", (await awarded(services, acting, 112)).id)
    assert (await api.client.get(f"/terminations/{alive}.csv", headers=headers)).status_code == 404
    assert (await api.client.get(f"/terminations/{person}.csv")).status_code == 401

    elsewhere = (await api.as_("countyb.reviewer", PAYOUTS, {"r": "410121000000"}))[
        "payrollPayoutsPrepare"
    ]
    assert elsewhere["run"] is None and elsewhere["userErrors"] == [{"code": "FORBIDDEN"}]
    prepared = (await api.as_("county.processor", PAYOUTS, {"r": "410121000000"}))[
        "payrollPayoutsPrepare"
    ]
    assert prepared["run"] == {"kind": "ONE_OFF", "lines": 1, "total": "8400.00"}
    duplicates = """{ pensionDuplicates(region: "410121000000") { totalCount } }"""
    assert (await api.as_("countyb.reviewer", duplicates))["pensionDuplicates"]["totalCount"] == 0
