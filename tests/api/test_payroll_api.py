"""待遇发放 through HTTP: the three steps of a run by three people, the lines and the person's
payments, the township's queue, and the walls between tenants."""

import csv
import io
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
from strawberry.relay import from_base64, to_base64

from jubao.pension.benefits.payroll import counties_under
from jubao.platform.app import create_app
from jubao.platform.services import Services
from tests.authz.test_grants import grant
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, COUNTY_B, PROVINCE, TOWN_A, Api, Clock, World, finish_jobs
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, awarded
from tests.pension.support import SYSTEM

RUN = """id region month kind state lines total held preparedBy reviewedBy releasedBy"""
PREPARE = (
    """mutation ($r: RegionCode!, $m: Month!) { payrollPrepare(input: {region: $r, month: $m}) {
  run { """
    + RUN
    + """ } userErrors { field code message } } }"""
)
STEP = """mutation ($run: ID!) { %s(input: {run: $run}) { run { state }
  userErrors { field code message } } }"""
LINES = """query ($run: ID!) { node(id: $run) { ... on PayrollRun {
  payLines(first: 10) { totalCount edges { node { id month kind state amount fromAccount fromPool
    bankAccount basicPension { level amount } items { regionPrefix item amount }
    person { id } } } }
  reconciliation { name lines ledger ok } } } }"""
PAYMENTS = """query ($p: ID!) { node(id: $p) { ... on Person { payments(first: 12) {
  totalCount edges { node { month amount state } } } } } }"""


async def january(api: Api, services: Services, acting: ActorFor) -> tuple[str, str, str]:
    """Two recipients, one without a bank account; January 2027 prepared. Returns the run's
    id and the two people's."""
    assert isinstance(services.clock, Clock)
    services.clock.day = date(2027, 1, 5)
    paid = await awarded(services, acting, 51, bank_account=ACCOUNT)
    held = await awarded(services, acting, 52)
    prepared = await api.as_("county.processor", PREPARE, {"r": COUNTY_A.code, "m": "2027-01"})
    payload = prepared["payrollPrepare"]
    assert payload["userErrors"] == []
    return (
        payload["run"]["id"],
        to_base64("Person", paid.id),
        to_base64("Person", held.id),
    )


async def step(api: Api, who: str, name: str, run: str) -> dict[str, Any]:
    return dict((await api.as_(who, STEP % name, {"run": run}))[name])


async def test_a_run_by_three_people(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    run, paid, held = await january(api, services, acting)
    shown = (
        await api.as_(
            "county.reviewer",
            f"query ($id: ID!) {{ node(id: $id) {{ ... on PayrollRun {{ {RUN} }} }} }}",
            {"id": run},
        )
    )["node"]
    assert shown | {"id": None, "preparedBy": None} == {
        "id": None,
        "region": COUNTY_A.code,
        "month": "2027-01",
        "kind": "REGULAR",
        "state": "PREPARED",
        "lines": 1,
        "total": "268.43",
        "held": 1,
        "preparedBy": None,
        "reviewedBy": None,
        "releasedBy": None,
    }
    # the preparer may not review, the reviewer may not release before review… and each
    # refusal says why, with a code
    own = await step(api, "county.processor", "payrollReview", run)
    assert own["run"] is None and own["userErrors"][0]["code"] == "FORBIDDEN"
    early = await step(api, "finance", "payrollRelease", run)
    assert early["userErrors"][0]["code"] == "STATE"
    assert "不能拨付" in early["userErrors"][0]["message"]
    assert (await step(api, "county.reviewer", "payrollReview", run))["run"] == {
        "state": "REVIEWED"
    }
    assert (await step(api, "finance", "payrollRelease", run))["run"] == {"state": "RELEASED"}

    data = (await api.as_("finance", LINES, {"run": run}))["node"]
    lines = data["payLines"]
    assert lines["totalCount"] == 2
    sent, waiting = (edge["node"] for edge in lines["edges"])
    assert (sent["state"], sent["amount"], sent["fromAccount"], sent["bankAccount"]) == (
        "SENT",
        "268.43",
        "60.43",
        ACCOUNT,  # finance reads personal data: the account in full (and the read recorded)
    )
    assert sent["basicPension"] == [
        {"level": "NATIONAL", "amount": "163.00"},
        {"level": "PROVINCE", "amount": "12.00"},
        {"level": "COUNTY", "amount": "33.00"},
    ]
    assert sent["person"]["id"] == paid
    assert (waiting["state"], waiting["bankAccount"], waiting["person"]["id"]) == (
        "HELD",
        None,
        held,
    )
    assert all(check["ok"] for check in data["reconciliation"])

    # the township's queue; the person's payments
    queue = await api.as_(
        "township.processor",
        """query ($r: RegionCode!) { payLines(region: $r, waiting: true) {
             edges { node { state person { id } } } } }""",
        {"r": TOWN_A.code},
    )
    assert [e["node"] for e in queue["payLines"]["edges"]] == [
        {"state": "HELD", "person": {"id": held}}
    ]
    payments = (await api.as_("village.assistant", PAYMENTS, {"p": paid}))["node"]["payments"]
    assert payments == {
        "totalCount": 1,
        "edges": [{"node": {"month": "2027-01", "amount": "268.43", "state": "SENT"}}],
    }
    runs = await api.as_(
        "county.reviewer",
        '{ payrollRuns(month: "2027-01") { totalCount edges { node { id state } } } }',
    )
    assert runs["payrollRuns"]["edges"] == [{"node": {"id": run, "state": "RELEASED"}}]


async def test_payroll_stays_behind_the_tenant_wall(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    run, paid, _ = await january(api, services, acting)
    for outsider in ("countyb.reviewer", "village.neighbour"):
        assert (await api.as_(outsider, LINES, {"run": run}))["node"] is None
        listed = await api.as_(outsider, "{ payrollRuns { totalCount } payLines { totalCount } }")
        assert listed == {"payrollRuns": {"totalCount": 0}, "payLines": {"totalCount": 0}}
        payments = (await api.as_(outsider, PAYMENTS, {"p": paid}))["node"]
        assert payments is None
    decided = await step(api, "countyb.reviewer", "payrollReview", run)
    assert decided["run"] is None and decided["userErrors"][0]["code"] == "NOT_FOUND"
    # another county's processor cannot prepare this county's month, nor name it by a
    # forged id; ids of other types name nothing
    refused = await api.as_("county.processor", PREPARE, {"r": COUNTY_B.code, "m": "2027-01"})
    assert refused["payrollPrepare"]["userErrors"][0]["code"] == "FORBIDDEN"
    for bad in ("nonsense", paid, to_base64("PayrollRun", 2**70)):
        found = await step(api, "county.reviewer", "payrollReview", bad)
        assert found["userErrors"][0]["code"] == "NOT_FOUND", bad
    again = await api.as_("county.processor", PREPARE, {"r": COUNTY_A.code, "m": "2027-01"})
    assert again["payrollPrepare"]["userErrors"][0]["code"] == "ALREADY"
    future = await api.as_("county.processor", PREPARE, {"r": COUNTY_A.code, "m": "2027-02"})
    assert future["payrollPrepare"]["userErrors"][0]["code"] == "FUTURE"
    assert future["payrollPrepare"]["userErrors"][0]["field"] == "month"


ALL = """mutation ($r: RegionCode!, $m: Month!) { payrollPrepareAll(input: {region: $r, month: $m}) {
  job { id kind state } userErrors { field code message } } }"""


async def test_the_province_starts_every_county_at_once(
    api: Api, services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    """A background job prepares each county's run as if by the province's processor (who then
    may not review them); a county already prepared, or with nobody to pay, is passed over."""
    assert isinstance(services.clock, Clock)
    services.clock.day = date(2027, 1, 5)
    await awarded(services, acting, 53, bank_account=ACCOUNT)
    refused = await api.as_("county.processor", ALL, {"r": PROVINCE.code, "m": "2027-01"})
    assert refused["payrollPrepareAll"]["userErrors"][0]["code"] == "FORBIDDEN"
    await grant(acting, "perm.province", world.ids["nobody"], "agency_processor", PROVINCE)
    started = await api.as_("nobody", ALL, {"r": PROVINCE.code, "m": "2027-01"})
    job = started["payrollPrepareAll"]["job"]
    assert job["kind"] == "PAYROLL" and started["payrollPrepareAll"]["userErrors"] == []
    await finish_jobs(services)
    done = await api.as_(
        "nobody",
        """query ($id: ID!) { node(id: $id) { ... on Job { state chunks chunksDone items total } } }""",
        {"id": job["id"]},
    )
    async with services.db.session(SYSTEM) as session:
        counties = await counties_under(session, PROVINCE)
    node = done["node"]
    assert (node["state"], node["items"], node["total"]) == ("DONE", 1, "268.43")
    assert node["chunks"] == node["chunksDone"] == len(counties) > 1
    runs = await api.as_(
        "county.reviewer", "{ payrollRuns { edges { node { region preparedBy } } } }"
    )
    assert [e["node"] for e in runs["payrollRuns"]["edges"]] == [
        {"region": COUNTY_A.code, "preparedBy": f"user:{world.ids['nobody']} nobody"}
    ]
    # starting the month again passes over the county already prepared
    again = await api.as_("nobody", ALL, {"r": PROVINCE.code, "m": "2027-01"})
    await finish_jobs(services)
    node = (
        await api.as_(
            "nobody",
            """query ($id: ID!) { node(id: $id) { ... on Job { state items } } }""",
            {"id": again["payrollPrepareAll"]["job"]["id"]},
        )
    )["node"]
    assert node == {"state": "DONE", "items": 0}


async def test_the_bank_files_go_out_and_come_back_over_http(
    api: Api,
    services: Services,
    world: World,
    rules: None,
    acting: ActorFor,
) -> None:
    run, _, _ = await january(api, services, acting)
    finance = {"Authorization": f"Bearer {await api.token('finance')}"}
    file_url, results_url = f"/payroll/runs/{run}/bank-file", f"/payroll/runs/{run}/bank-results"
    early = await api.client.get(file_url, headers=finance)
    assert early.status_code == 409
    assert early.json()["errors"][0]["extensions"] == {"code": "CONFLICT", "reason": "NOT_RELEASED"}
    await step(api, "county.reviewer", "payrollReview", run)
    await step(api, "finance", "payrollRelease", run)

    sent = await api.client.get(file_url, headers=finance)
    assert sent.status_code == 200
    assert sent.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="daifa-{from_base64(run)[1]}.csv"' in sent.headers["content-disposition"]
    heading, line, trailer = csv.reader(io.StringIO(sent.text))
    assert ACCOUNT in line and "268.43" in line and trailer[:3] == ["合计", "1", "268.43"]

    def answer(*rows: list[str]) -> bytes:
        out = io.StringIO()
        csv.writer(out).writerows([[*heading, "发放结果", "失败原因"], *rows])
        return out.getvalue().encode()

    failed = [*line, "失败", "账户已冻结"]
    # control totals that do not add up: the whole file refused, nothing recorded
    wrong = await api.client.post(
        results_url, content=answer(failed, ["合计", "1", "268.44"]), headers=finance
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["extensions"]["reason"] == "TOTALS"
    lines = (await api.as_("finance", LINES, {"run": run}))["node"]["payLines"]["edges"]
    assert [e["node"]["state"] for e in lines] == ["SENT", "HELD"]

    done = await api.client.post(results_url, content=answer(failed, trailer), headers=finance)
    assert done.json() == {
        "run": int(from_base64(run)[1]),
        "paid": 0,
        "failed": 1,
        "already": 0,
        "refused": [],
    }
    # the same file again records nothing; a row for another amount is refused, in English
    # when asked
    other = [*line[: heading.index("发放金额")], "300.00", *line[heading.index("发放金额") + 1 :]]
    again = await api.client.post(
        results_url,
        content=answer(failed, [*other, "成功", ""], ["合计", "2", "568.43"]),
        headers={**finance, "Accept-Language": "en"},
    )
    body = again.json()
    assert (body["paid"], body["failed"], body["already"]) == (0, 0, 1)
    assert [(r["code"], r["message"]) for r in body["refused"]] == [
        ("TWICE", f"Pay line {line[0]} appears more than once")
    ]
    lines = (await api.as_("finance", LINES, {"run": run}))["node"]["payLines"]["edges"]
    assert [e["node"]["state"] for e in lines] == ["FAILED", "HELD"]

    # the walls: a reviewer of the county may not exchange files, another county sees no run
    for who, status in (("county.reviewer", 403), ("countyb.reviewer", 404)):
        headers = {"Authorization": f"Bearer {await api.token(who)}"}
        assert (await api.client.get(file_url, headers=headers)).status_code == status
        posted = await api.client.post(results_url, content=answer(trailer), headers=headers)
        assert posted.status_code == status
    assert (await api.client.get(file_url)).status_code == 401
    forged = f"/payroll/runs/{to_base64('PayrollRun', 2**70)}/bank-file"
    assert (await api.client.get(forged, headers=finance)).status_code == 404

    # a result file may be larger than a GraphQL request, up to its own limit
    limited = replace(
        services, settings=services.settings.model_copy(update={"max_upload_bytes": 150_000})
    )
    transport = httpx.ASGITransport(app=create_app(services=limited))
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        padded = answer(failed, trailer) + b"\n" * 120_000
        assert (await client.post(results_url, content=padded, headers=finance)).status_code == 200
        huge = await client.post(results_url, content=padded * 2, headers=finance)
        assert huge.status_code == 413
