"""A whole story through the API: a village enrols a family of four, the township and the
county review, they pay for five years at changing grades (the grandmother is 特困, so the
government pays for her), interest is posted every January, and every balance and statement
comes out at hand-computed values to the fen. Then the grandmother reaches 60: she is on the
month's notice list, claims, and is awarded her pension; her father-in-law, already 70 when the
county's scheme began, enrols and is awarded the basic pension alone. Both are paid every month
through the bank for a year — her first month held until the township enters her account, one
payment failed by the bank and paid again, a back-dated county increase paid as arrears — and
every run, every account and the whole ledger reconcile to the fen."""

import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry.relay import GlobalID

from jubao.authz.actor import Actor
from jubao.pension.accounts.ledger import check_ledger
from jubao.pension.benefits.bank_files import export_run, import_results
from jubao.pension.people.crosscheck import import_employees
from jubao.pension.termination.deaths import DeathSource, import_deaths
from jubao.platform.app import create_app
from jubao.platform.services import Services
from tests.conftest import make_settings
from tests.helpers import (
    COUNTY_A,
    PROVINCE,
    TOWN_A,
    VILLAGE_A,
    Api,
    Clock,
    build_world,
    finish_jobs,
)
from tests.pension.support import id_number, install_policy

REVIEW = """mutation ($id: ID!) { applicationReview(input: {application: $id, decision: APPROVE}) {
  application { id status result { __typename ... on EnrollmentResult { person { id } } } }
  userErrors { code message } } }"""


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    birth: date
    sequence: int
    grades: tuple[int, ...]  # yuan, 2021–2025
    special_group: str = "011"


FAMILY = (
    Member("father", "王建国", date(1970, 5, 12), 13, (500, 500, 1000, 1000, 2000)),
    Member("mother", "李秀梅", date(1972, 9, 3), 24, (300, 300, 500, 500, 500)),
    Member("daughter", "王芳", date(2004, 2, 20), 36, (100, 100, 200, 200, 300)),
    # 54 at enrolment: under the pension age of 60 when each of the five years begins
    Member("grandmother", "张桂英", date(1966, 11, 30), 48, (100, 100, 100, 100, 100), "031"),
)
YEARS = range(2021, 2026)
RATE = Decimal("0.02")

# Worked out by hand (see `by_hand` below for the rule): the balance at the end of each year.
EXPECTED_BALANCES = {
    "father": (56000, 113120, 221382, 331810, 544446),
    "mother": (33000, 66660, 123993, 182473, 242122),
    "daughter": (13000, 26260, 49785, 73781, 108257),
    "grandmother": (13000, 26260, 39785, 53581, 67653),
}


def by_hand(member: Member) -> list[tuple[int, int, int]]:
    """(credited, interest, closing balance) per year, in fen: grade + subsidy (30 below a
    500-yuan grade, 60 from 500; for the grandmother the government pays her 100-yuan grade);
    interest = the balance brought forward × 2 %, rounded half up to the fen; this year's
    money earns nothing until next year."""
    balance, rows = 0, []
    for grade in member.grades:
        interest = int((Decimal(balance) * RATE).quantize(Decimal(1), ROUND_HALF_UP))
        credited = grade * 100 + (6000 if grade >= 500 else 3000)
        balance += credited + interest
        rows.append((credited, interest, balance))
    return rows


@pytest.fixture
async def story(database_url: str) -> AsyncIterator[tuple[Api, Clock, Services]]:
    clock = Clock(date(2021, 1, 4))
    services = Services.create(make_settings(database_url), clock=clock)
    await build_world(services)
    await install_policy(
        services,
        PROVINCE,
        2014,
        subsidy={
            "brackets": [
                {"grade": "100", "rural": "30", "urban": "30"},
                {"grade": "500", "rural": "60", "urban": "60"},
            ],
            "split": {"province": 6, "city": 2, "county": 2},
        },
        interest={"rate": "0.02"},
        # the county's scheme began in January 2021, when the grandmother was 54: she needs
        # 60 − 54 = 6 years, not 15 (rulebook §5.4 B)
        scheme={"started": "2021-01"},
    )
    transport = httpx.ASGITransport(app=create_app(services=services))
    async with httpx.AsyncClient(transport=transport, base_url="http://jubao.test") as client:
        yield Api(client), clock, services
    await services.db.dispose()


async def approve(api: Api, reviewer: str, application: str) -> dict[str, Any]:
    result = await api.as_(reviewer, REVIEW, {"id": application})
    assert result["applicationReview"]["userErrors"] == [], result
    return result["applicationReview"]["application"]


async def test_a_family_over_five_years(story: tuple[Api, Clock, Services], tmp_path: Path) -> None:
    api, clock, services = story
    for member in FAMILY:
        assert [closing for _, _, closing in by_hand(member)] == list(EXPECTED_BALANCES[member.key])

    # January 2021: the village assistant enters the family; the township and county review.
    people: dict[str, str] = {}
    for member in FAMILY:
        submitted = await api.as_(
            "village.assistant",
            """mutation ($input: EnrollmentInput!) { enrollmentSubmit(input: $input) {
                 application { id } userErrors { field code message } } }""",
            {
                "input": {
                    "idNumber": id_number(member.birth, member.sequence),
                    "name": member.name,
                    "ethnicity": "01",
                    "hukou": "RURAL",
                    "region": VILLAGE_A.code,
                    "address": "马家湾村一组 8 号",
                    "specialGroup": member.special_group,
                    "grade": f"{member.grades[0]}.00",
                }
            },
        )
        assert submitted["enrollmentSubmit"]["userErrors"] == [], submitted
        application = submitted["enrollmentSubmit"]["application"]["id"]
        await approve(api, "township.reviewer", application)
        done = await approve(api, "county.reviewer", application)
        people[member.key] = done["result"]["person"]["id"]

    for index, year in enumerate(YEARS):
        if year > 2021:  # January: finance posts last year's interest, the agency reviews it
            clock.day = date(year, 1, 10)
            await post_interest(api, services, year - 1)
        clock.day = date(year, 3, 15)
        for member in FAMILY[:3]:  # the three who pay themselves, at the counter
            submitted = await api.as_(
                "township.processor",
                """mutation ($p: ID!, $y: Year!, $g: Money!, $d: Date!) {
                     contributionSubmit(input: {person: $p, year: $y, grade: $g, paidOn: $d}) {
                       application { id } userErrors { code message } } }""",
                {
                    "p": people[member.key],
                    "y": year,
                    "g": f"{member.grades[index]}.00",
                    "d": clock.day.isoformat(),
                },
            )
            assert submitted["contributionSubmit"]["userErrors"] == [], submitted
            await approve(
                api, "county.reviewer", submitted["contributionSubmit"]["application"]["id"]
            )
        clock.day = date(year, 6, 30)  # the 代缴 list for the grandmother
        listed = await api.as_(
            "township.processor",
            """mutation ($r: RegionCode!, $y: Year!, $p: [ID!]!, $d: Date!) {
                 hardshipListSubmit(input: {region: $r, year: $y, persons: $p, paidOn: $d}) {
                   application { id } userErrors { code message } } }""",
            {"r": TOWN_A.code, "y": year, "p": [people["grandmother"]], "d": clock.day.isoformat()},
        )
        assert listed["hardshipListSubmit"]["userErrors"] == [], listed
        await approve(api, "county.reviewer", listed["hardshipListSubmit"]["application"]["id"])
    clock.day = date(2026, 1, 10)
    await post_interest(api, services, 2025)

    for member in FAMILY:
        expected = by_hand(member)
        data = await api.as_(
            "county.reviewer",
            """query ($p: ID!) { node(id: $p) { ... on Person {
                 account { total government balances { component balance } }
                 contributions { year grade personal hardship subsidy subsidyProvince subsidyCity subsidyCounty credited }
                 """
            + " ".join(
                f"y{year}: statement(year: {year}) {{ openingTotal closingTotal credited interest }}"
                for year in YEARS
            )
            + " } } }",
            {"p": people[member.key]},
        )
        person = data["node"]
        assert person["account"]["total"] == yuan(expected[-1][2]), member.key
        assert [c["credited"] for c in person["contributions"]] == [yuan(c) for c, _, _ in expected]
        # every year's statement: brought forward, paid in, interest, carried forward
        opening = 0
        for year, (credited, interest, closing) in zip(YEARS, expected, strict=True):
            assert person[f"y{year}"] == {
                "openingTotal": yuan(opening),
                "closingTotal": yuan(closing),
                "credited": yuan(credited),
                "interest": yuan(interest),
            }, (member.key, year)
            opening = closing
        balances = {b["component"]: b["balance"] for b in person["account"]["balances"]}
        assert sum(Decimal(v) for v in balances.values()) == Decimal(person["account"]["total"])
        first = person["contributions"][0]
        assert (first["subsidyProvince"], first["subsidyCity"], first["subsidyCounty"]) == (
            ("36.00", "12.00", "12.00") if member.grades[0] >= 500 else ("18.00", "6.00", "6.00")
        )
        if member.key == "grandmother":
            assert {c["hardship"] for c in person["contributions"]} == {"100.00"}
            assert {c["personal"] for c in person["contributions"]} == {"0.00"}
            assert set(balances) == {
                "HARDSHIP",
                "SUBSIDY_PROVINCE",
                "SUBSIDY_CITY",
                "SUBSIDY_COUNTY",
            }
            assert person["account"]["government"] == person["account"]["total"]

    again = await api.as_(
        "finance",
        """mutation ($r: RegionCode!, $y: Year!) { interestPostingSubmit(input: {region: $r, year: $y}) {
             application { id } userErrors { code message } } }""",
        {"r": COUNTY_A.code, "y": 2025},
    )
    assert again["interestPostingSubmit"]["application"] is None
    [refused] = again["interestPostingSubmit"]["userErrors"]
    assert refused["code"] == "ALREADY_POSTED" and "不再重复结息" in refused["message"]

    father_in_law = await the_grandmother_retires(api, clock, people["grandmother"])
    await the_pensions_are_paid(
        api, clock, services, tmp_path, people["grandmother"], father_in_law
    )
    await the_grandmother_dies(api, clock, services, tmp_path, people["grandmother"])
    await the_father_in_law_is_paid_twice(api, clock, services, tmp_path, father_in_law)


AWARD = """figures { transitional startMonth yearsPaid yearsRequired accountTotal accountPension
  basicPension monthly }"""


async def claim(api: Api, person: str) -> dict[str, Any]:
    submitted = await api.as_(
        "village.assistant",
        """mutation ($p: ID!) { benefitAwardSubmit(input: {person: $p}) {
             application { id } userErrors { code message } } }""",
        {"p": person},
    )
    assert submitted["benefitAwardSubmit"]["userErrors"] == [], submitted
    application = submitted["benefitAwardSubmit"]["application"]["id"]
    await approve(api, "township.reviewer", application)
    await approve(api, "county.reviewer", application)
    data = await api.as_(
        "county.reviewer",
        "query ($p: ID!) { node(id: $p) { ... on Person { status benefitAward { "
        + AWARD
        + " } } } }",
        {"p": person},
    )
    assert data["node"]["status"] == "RECEIVING"
    return dict(data["node"]["benefitAward"]["figures"])


async def the_grandmother_retires(api: Api, clock: Clock, grandmother: str) -> str:
    """Returns the father-in-law's id."""
    # 2026: the 代缴 list pays her sixth year (she is 59 when it begins)
    clock.day = date(2026, 6, 30)
    listed = await api.as_(
        "township.processor",
        """mutation ($r: RegionCode!, $p: [ID!]!) { hardshipListSubmit(input: {region: $r,
             year: 2026, persons: $p, paidOn: "2026-06-30"}) { application { id }
             userErrors { code message } } }""",
        {"r": TOWN_A.code, "p": [grandmother]},
    )
    await approve(api, "county.reviewer", listed["hardshipListSubmit"]["application"]["id"])

    # October: the township prints the list of who turns 60 in November
    clock.day = date(2026, 10, 26)
    due = await api.as_(
        "township.processor",
        """{ pensionDue(region: "410121101000", month: "2026-11") {
             edges { node { id name } } } }""",
    )
    assert [e["node"]["name"] for e in due["pensionDue"]["edges"]] == ["张桂英"]
    # 2025's closing 676.53 + 2026's 100 (代缴) + 30 subsidy = 806.53; ÷ 139 = 5.802… → 5.80;
    # the national 163.00 is the only basic-pension layer here: 168.80 a month from December
    assert await claim(api, grandmother) == {
        "transitional": False,
        "startMonth": "2026-12",
        "yearsPaid": 6,
        "yearsRequired": 6,
        "accountTotal": yuan(EXPECTED_BALANCES["grandmother"][-1] + 13000),
        "accountPension": "5.80",
        "basicPension": "163.00",
        "monthly": "168.80",
    }

    # her father-in-law, born 1950, was 70 when the county's scheme began: he enrols at 76
    # and is paid the basic pension without having contributed
    submitted = await api.as_(
        "village.assistant",
        """mutation ($input: EnrollmentInput!) { enrollmentSubmit(input: $input) {
             application { id } userErrors { field code message } } }""",
        {
            "input": {
                "idNumber": id_number(date(1950, 2, 2), 51),
                "name": "王德福",
                "ethnicity": "01",
                "hukou": "RURAL",
                "region": VILLAGE_A.code,
                "address": "马家湾村一组 8 号",
                "grade": "100.00",
            }
        },
    )
    assert submitted["enrollmentSubmit"]["userErrors"] == [], submitted
    await approve(api, "township.reviewer", submitted["enrollmentSubmit"]["application"]["id"])
    done = await approve(api, "county.reviewer", submitted["enrollmentSubmit"]["application"]["id"])
    father_in_law = str(done["result"]["person"]["id"])
    assert await claim(api, father_in_law) == {
        "transitional": True,
        "startMonth": "2026-11",
        "yearsPaid": 0,
        "yearsRequired": 0,
        "accountTotal": "0.00",
        "accountPension": "0.00",
        "basicPension": "163.00",
        "monthly": "163.00",
    }
    return father_in_law


async def post_interest(api: Api, services: Services, year: int) -> None:
    submitted = await api.as_(
        "finance",
        """mutation ($r: RegionCode!, $y: Year!) { interestPostingSubmit(input: {region: $r, year: $y}) {
             application { id } userErrors { code message } } }""",
        {"r": COUNTY_A.code, "y": year},
    )
    assert submitted["interestPostingSubmit"]["userErrors"] == [], submitted
    done = await approve(
        api, "county.reviewer", submitted["interestPostingSubmit"]["application"]["id"]
    )
    assert done["status"] == "APPLIED"
    await finish_jobs(services)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


PAYROLL_STEP = """mutation ($run: ID!) { %s(input: {run: $run}) { run { state }
  userErrors { code message } } }"""
BANK = Actor.system("bank file desk")


async def the_pensions_are_paid(
    api: Api,
    clock: Clock,
    services: Services,
    tmp_path: Path,
    grandmother: str,
    father_in_law: str,
) -> None:
    # October: the father-in-law's bank card is registered; the grandmother's is forgotten
    await change_bank_account(api, clock, father_in_law, "6228480000000001016", date(2026, 10, 28))

    async def month(period: str, *, fail: str | None = None) -> str:
        return await pay_month(api, clock, services, tmp_path, period, fail=fail)

    async def again(day: date) -> str:
        clock.day = day
        prepared = await api.as_(
            "county.processor",
            """mutation ($r: RegionCode!) { payrollSupplementaryPrepare(input: {region: $r}) {
                 run { id lines total } userErrors { code message } } }""",
            {"r": COUNTY_A.code},
        )
        payload = prepared["payrollSupplementaryPrepare"]
        assert payload["userErrors"] == [] and payload["run"]["lines"] == 1, payload
        run = str(payload["run"]["id"])
        await three_people(api, run)
        await through_the_bank(services, tmp_path, run, None)
        return run

    runs = [await month("2026-11")]  # the father-in-law's first month: 163.00
    runs.append(await month("2026-12"))  # hers is held: no account
    waiting = await api.as_(
        "township.processor",
        """{ payLines(region: "410121101000", waiting: true) { edges { node { state amount
             person { id } } } } }""",
    )
    assert [e["node"] for e in waiting["payLines"]["edges"]] == [
        {"state": "HELD", "amount": "168.80", "person": {"id": grandmother}}
    ]
    await change_bank_account(api, clock, grandmother, "6228480000000002014", date(2026, 12, 18))
    runs.append(await again(date(2026, 12, 20)))

    clock.day = date(2027, 1, 10)
    await post_interest(api, services, 2026)  # 676.53 brought forward × 2 % = 13.53
    for period in ("2027-01", "2027-02"):
        runs.append(await month(period))
    # March: the bank cannot pay her (the card was replaced); the township corrects it
    runs.append(await month("2027-03", fail="张桂英"))
    await change_bank_account(api, clock, grandmother, "6228480000000003012", date(2027, 3, 18))
    runs.append(await again(date(2027, 3, 20)))
    runs.append(await month("2027-04"))

    # April: the county adds 10 yuan a month to every pension, from January
    clock.day = date(2027, 4, 15)
    submitted = await api.as_(
        "county.processor",
        """mutation ($p: JSON!) { policyChangeSubmit(input: {region: "410121000000",
             effectiveYear: 2027, effectiveMonth: 1, title: "县级基础养老金提标",
             parameters: $p}) { application { id } userErrors { code message } } }""",
        {"p": {"basic_pension": {"monthly": "10"}}},
    )
    assert submitted["policyChangeSubmit"]["userErrors"] == [], submitted
    await approve(api, "county.reviewer", submitted["policyChangeSubmit"]["application"]["id"])
    may = await month("2027-05")
    runs.append(may)
    lines = await api.as_(
        "county.reviewer",
        """query ($run: ID!) { node(id: $run) { ... on PayrollRun { payLines(first: 20) {
             edges { node { month kind amount person { id } } } } } } }""",
        {"run": may},
    )
    got = sorted(
        (
            e["node"]["person"]["id"] == grandmother,
            e["node"]["kind"],
            e["node"]["month"],
            e["node"]["amount"],
        )
        for e in lines["node"]["payLines"]["edges"]
    )
    assert got == sorted(
        [(False, "REGULAR", "2027-05", "173.00"), (True, "REGULAR", "2027-05", "178.80")]
        + [(who, "ARREARS", f"2027-0{m}", "10.00") for who in (False, True) for m in (1, 2, 3, 4)]
    )
    for period in ("2027-06", "2027-07", "2027-08", "2027-09"):
        runs.append(await month(period))
    # the yearly verification: she answers the village's phone call in September; he, away
    # at his daughter's, misses it — the cycle from his first month (November 2026) ends in
    # October 2027, and November's run pauses him (1201)
    await verify(api, clock, grandmother, date(2027, 9, 12), "PHONE")
    for period in ("2027-10", "2027-11"):
        runs.append(await month(period))
    paused = await api.as_(
        "township.processor",
        """{ verificationList(region: "410121101000", month: "2027-11", list: PAUSED) {
             edges { node { id } } } }""",
    )
    assert [e["node"]["id"] for e in paused["verificationList"]["edges"]] == [father_in_law]
    # back home, he verifies at the counter; the county resumes him and December's run pays
    # November back
    resumption = await verify(api, clock, father_in_law, date(2027, 11, 22), "COUNTER")
    assert resumption is not None
    await approve(api, "county.reviewer", resumption)
    december = await month("2027-12")
    runs.append(december)
    lines = await api.as_(
        "county.reviewer",
        """query ($run: ID!) { node(id: $run) { ... on PayrollRun { payLines(first: 20) {
             edges { node { month kind amount person { id } } } } } } }""",
        {"run": december},
    )
    assert sorted(
        (e["node"]["person"]["id"] == father_in_law, e["node"]["month"], e["node"]["kind"])
        for e in lines["node"]["payLines"]["edges"]
    ) == [
        (False, "2027-12", "REGULAR"),
        (True, "2027-11", "BACK_PAY"),
        (True, "2027-12", "REGULAR"),
    ]

    # every run reconciles; so does the whole ledger
    for run in runs:
        checks = await api.as_(
            "finance",
            """query ($run: ID!) { node(id: $run) { ... on PayrollRun {
                 reconciliation { name ok } } } }""",
            {"run": run},
        )
        assert all(c["ok"] for c in checks["node"]["reconciliation"]), checks
    async with services.db.session(BANK) as session:
        assert await check_ledger(session) == []

    # what each was paid, month by month: 13 months of 168.80 for her, 14 of 163.00 for him
    # (November 2027 paid back), and 10.00 more for each month from January 2027 (12 months)
    for person, months, monthly in ((grandmother, 13, 16880), (father_in_law, 14, 16300)):
        payments = await api.as_(
            "village.assistant",
            """query ($p: ID!) { node(id: $p) { ... on Person { payments(first: 40) {
                 edges { node { month kind state amount } } } } } }""",
            {"p": person},
        )
        edges = [e["node"] for e in payments["node"]["payments"]["edges"]]
        settled = [e for e in edges if e["state"] == "PAID"]
        assert (
            sum(Decimal(e["amount"]) for e in settled)
            == Decimal(months * monthly + 12 * 1000) / 100
        ), (person, edges)
        assert {e["state"] for e in edges} <= {"PAID", "HELD", "FAILED"}
        assert len({e["month"] for e in settled if e["kind"] != "ARREARS"}) == months

    # her account: 806.53 at award + 13.53 interest − 13 × 5.80 taken month by month
    account = await api.as_(
        "county.reviewer",
        """query ($p: ID!) { node(id: $p) { ... on Person { account { total } } } }""",
        {"p": grandmother},
    )
    expected = EXPECTED_BALANCES["grandmother"][-1] + 13000 + 1353 - 13 * 580
    assert account["node"]["account"]["total"] == yuan(expected)


async def pay_month(
    api: Api, clock: Clock, services: Services, tmp_path: Path, period: str, *, fail: str | None
) -> str:
    """The county's run of ``period`` by three people, through the bank (``fail`` not paid)."""
    clock.day = date(int(period[:4]), int(period[5:]), 5)
    prepared = await api.as_(
        "county.processor",
        """mutation ($r: RegionCode!, $m: Month!) { payrollPrepare(input: {region: $r,
             month: $m}) { run { id } userErrors { code message } } }""",
        {"r": COUNTY_A.code, "m": period},
    )
    assert prepared["payrollPrepare"]["userErrors"] == [], prepared
    run = str(prepared["payrollPrepare"]["run"]["id"])
    await three_people(api, run)
    await through_the_bank(services, tmp_path, run, fail)
    return run


async def verify(api: Api, clock: Clock, person: str, day: date, method: str) -> str | None:
    """The village assistant records a verification; the resumption it opened, if any."""
    clock.day = day
    recorded = await api.as_(
        "village.assistant",
        """mutation ($p: ID!, $d: Date!, $m: VerificationMethod!) { verificationRecord(input:
             {person: $p, verifiedOn: $d, method: $m}) { resumption { id }
             userErrors { code message } } }""",
        {"p": person, "d": day.isoformat(), "m": method},
    )
    assert recorded["verificationRecord"]["userErrors"] == [], recorded
    resumption = recorded["verificationRecord"]["resumption"]
    return None if resumption is None else str(resumption["id"])


async def change_bank_account(api: Api, clock: Clock, person: str, account: str, day: date) -> None:
    clock.day = day
    submitted = await api.as_(
        "village.assistant",
        """mutation ($p: ID!, $c: PersonChangesInput!) { personChangeSubmit(input: {person: $p,
             changes: $c, reason: "登记社保卡"}) { application { id } userErrors { code message } } }""",
        {"p": person, "c": {"bankAccount": account}},
    )
    assert submitted["personChangeSubmit"]["userErrors"] == [], submitted
    await approve(api, "county.reviewer", submitted["personChangeSubmit"]["application"]["id"])


async def three_people(api: Api, run: str) -> None:
    for who, step, state in (
        ("county.reviewer", "payrollReview", "REVIEWED"),
        ("finance", "payrollRelease", "RELEASED"),
    ):
        done = await api.as_(who, PAYROLL_STEP % step, {"run": run})
        assert done[step]["run"] == {"state": state}, done


async def through_the_bank(services: Services, tmp_path: Path, run: str, fail: str | None) -> None:
    """The run's file to the bank and its answer back: every line paid, but ``fail``'s."""
    key = int(GlobalID.from_id(run).node_id)
    sent, answer = tmp_path / f"daifa-{key}.csv", tmp_path / f"huipan-{key}.csv"
    async with services.db.transaction(BANK) as session:
        await export_run(session, BANK, key, sent)
    rows = list(csv.reader(sent.open(encoding="utf-8")))
    with answer.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "发放结果", "失败原因"])
        for row in rows[1:-1]:
            failed = row[3] == fail
            writer.writerow([*row, "失败" if failed else "成功", "卡已换发" if failed else ""])
    async with services.db.transaction(BANK) as session:
        settled = await import_results(session, BANK, key, answer, today=services.clock.today())
    assert settled.refused == [] and settled.failed == (1 if fail else 0), settled


PERSON_END = """query ($p: ID!) { node(id: $p) { ... on Person { status
  account { total } deathReports { source diedOn }
  termination { reason scope refund toPool funeral overpaid recovered payout }
  recoveryOrders { number overpaid fine recovered outstanding } } } }"""
TERMINATE = """mutation ($input: TerminationInput!) { terminationSubmit(input: $input) {
  application { id } userErrors { field code message } } }"""


async def the_grandmother_dies(
    api: Api, clock: Clock, services: Services, tmp_path: Path, grandmother: str
) -> None:
    """She dies on 28 December 2027; nobody tells the village. January's and February's
    pensions are paid; the civil-affairs cremation file of February finds her, and her pension
    stops at once. Her son applies: the county's funeral grant (500.00, a policy of 2027) and
    her whole account (the 2014 rule: subsidies and 代缴 included) are his, less the two months
    paid after her death. (The grant is a set of its own, from December: a set for January
    2027 would replace the one that raised the pension then.)"""
    clock.day = date(2027, 12, 10)
    submitted = await api.as_(
        "county.processor",
        """mutation ($p: JSON!) { policyChangeSubmit(input: {region: "410121000000",
             effectiveYear: 2027, effectiveMonth: 12, title: "丧葬补助金", parameters: $p}) {
             application { id } userErrors { code message } } }""",
        {"p": {"termination": {"funeral": {"rule": "fixed", "amount": "500"}}}},
    )
    assert submitted["policyChangeSubmit"]["userErrors"] == [], submitted
    await approve(api, "county.reviewer", submitted["policyChangeSubmit"]["application"]["id"])
    for period in ("2028-01", "2028-02"):
        await pay_month(api, clock, services, tmp_path, period, fail=None)
    before = await api.as_("county.reviewer", PERSON_END, {"p": grandmother})
    balance = Decimal(before["node"]["account"]["total"])

    clock.day = date(2028, 2, 20)
    cremations = tmp_path / "huohua-2028-02.csv"
    number = await id_of(api, grandmother)
    cremations.write_text(f"公民身份号码,火化日期\n{number},2027-12-28\n", encoding="utf-8")
    civil = Actor.system("民政火化数据")
    async with services.db.transaction(civil) as session:
        found = await import_deaths(session, civil, cremations, DeathSource.CIVIL, today=clock.day)
    assert (found.reported, found.paused) == (1, 1)
    march = await pay_month(api, clock, services, tmp_path, "2028-03", fail=None)
    lines = await api.as_(
        "county.reviewer",
        """query ($run: ID!) { node(id: $run) { ... on PayrollRun { payLines(first: 5) {
             edges { node { person { id } } } } } } }""",
        {"run": march},
    )
    assert grandmother not in {
        e["node"]["person"]["id"] for e in lines["node"]["payLines"]["edges"]
    }

    clock.day = date(2028, 3, 12)
    heir = {
        "name": "马建军",
        "idNumber": "410121197005050011",
        "relation": "子女",
        "bankAccount": "6228480000000007011",
        "proof": "马家湾村民委员会亲属关系证明",
    }
    submitted = await api.as_(
        "village.assistant",
        TERMINATE,
        {
            "input": {
                "person": grandmother,
                "reason": "DEATH",
                "diedOn": "2027-12-28",
                "proof": "火化证明 2027-1228-031",
                "payee": heir,
            }
        },
    )
    assert submitted["terminationSubmit"]["userErrors"] == [], submitted
    application = submitted["terminationSubmit"]["application"]["id"]
    await approve(api, "township.reviewer", application)
    await approve(api, "county.reviewer", application)
    after = (await api.as_("county.reviewer", PERSON_END, {"p": grandmother}))["node"]
    overpaid = Decimal("178.80") * 2  # January and February 2028
    assert after["status"] == "TERMINATED" and after["account"]["total"] == "0.00"
    assert after["deathReports"] == [
        {"source": "民政火化", "diedOn": "2027-12-28"},
        {"source": "村镇报告", "diedOn": "2027-12-28"},
    ]
    assert after["termination"] == {
        "reason": "DEATH",
        "scope": "ALL",
        "refund": yuan_of(balance),
        "toPool": "0.00",
        "funeral": "500.00",
        "overpaid": yuan_of(overpaid),
        "recovered": yuan_of(overpaid),
        "payout": yuan_of(balance + 500 - overpaid),
    }
    assert after["recoveryOrders"] == [
        {
            "number": after["recoveryOrders"][0]["number"],
            "overpaid": yuan_of(overpaid),
            "fine": "0.00",
            "recovered": yuan_of(overpaid),
            "outstanding": "0.00",
        }
    ]

    # the son is paid through the bank in the county's one-off run
    clock.day = date(2028, 3, 20)
    prepared = await api.as_(
        "county.processor",
        """mutation { payrollPayoutsPrepare(input: {region: "410121000000"}) {
             run { id lines total } userErrors { code message } } }""",
    )
    payload = prepared["payrollPayoutsPrepare"]
    assert payload["userErrors"] == [] and payload["run"]["lines"] == 1, payload
    assert payload["run"]["total"] == yuan_of(balance + 500 - overpaid)
    run = str(payload["run"]["id"])
    await three_people(api, run)
    await through_the_bank(services, tmp_path, run, None)
    await reconciled(api, services, [march, run])


async def the_father_in_law_is_paid_twice(
    api: Api, clock: Clock, services: Services, tmp_path: Path, father_in_law: str
) -> None:
    """The employees' scheme's list of April 2028 shows him drawing a pension there since
    2026 (his old factory's): he is cleared here, and owes back every basic pension he was
    paid — he had no account to take it from (basic pension only) — which he repays."""
    clock.day = date(2028, 4, 8)
    listing = tmp_path / "zhigong-2028-04.csv"
    number = await id_of(api, father_in_law)
    listing.write_text(
        f"身份证号码,参保日期,终止日期,待遇开始日期\n{number},1990-01-01,2026-09-30,2026-10-01\n",
        encoding="utf-8",
    )
    desk = Actor.system("职工养老保险数据比对")
    async with services.db.transaction(desk) as session:
        await import_employees(session, desk, listing, today=clock.day)
    listed = await api.as_(
        "county.reviewer",
        """{ pensionDuplicates(region: "410121000000") { edges { node { id } } } }""",
    )
    assert [e["node"]["id"] for e in listed["pensionDuplicates"]["edges"]] == [father_in_law]
    paid = await api.as_(
        "county.reviewer",
        """query ($p: ID!) { node(id: $p) { ... on Person { payments(first: 40) {
             edges { node { state basicPension { amount } } } } } } }""",
        {"p": father_in_law},
    )
    received = sum(
        Decimal(item["amount"])
        for edge in paid["node"]["payments"]["edges"]
        if edge["node"]["state"] == "PAID"
        for item in edge["node"]["basicPension"]
    )
    submitted = await api.as_(
        "county.processor",
        TERMINATE,
        {
            "input": {
                "person": father_in_law,
                "reason": "OTHER_PENSION",
                "proof": "职工养老保险待遇领取证明（数据比对）",
            }
        },
    )
    assert submitted["terminationSubmit"]["userErrors"] == [], submitted
    application = submitted["terminationSubmit"]["application"]["id"]
    await approve(api, "township.reviewer", application)
    await approve(api, "county.reviewer", application)
    after = (await api.as_("county.reviewer", PERSON_END, {"p": father_in_law}))["node"]
    assert after["termination"]["overpaid"] == yuan_of(received)
    assert after["termination"]["payout"] == "0.00"
    [order] = after["recoveryOrders"]
    assert order["outstanding"] == yuan_of(received)

    # he repays it at the county's counter
    repaid = await api.as_(
        "county.processor",
        """mutation ($p: ID!, $o: Int!, $a: Money!) { recoveryRepaymentSubmit(input: {person: $p,
             orderId: $o, amount: $a, note: "收据 2028-0417"}) {
             application { id } userErrors { field code message } } }""",
        {"p": father_in_law, "o": order["number"], "a": yuan_of(received)},
    )
    assert repaid["recoveryRepaymentSubmit"]["userErrors"] == [], repaid
    await approve(api, "county.reviewer", repaid["recoveryRepaymentSubmit"]["application"]["id"])
    settled = (await api.as_("county.reviewer", PERSON_END, {"p": father_in_law}))["node"]
    assert settled["recoveryOrders"][0]["outstanding"] == "0.00"
    async with services.db.session(BANK) as session:
        assert await check_ledger(session) == []


async def id_of(api: Api, person: str) -> str:
    found = await api.as_(
        "county.processor",
        """query ($p: ID!) { node(id: $p) { ... on Person { idNumber } } }""",
        {"p": person},
    )
    return str(found["node"]["idNumber"])


def yuan_of(amount: Decimal) -> str:
    return f"{amount:.2f}"


async def reconciled(api: Api, services: Services, runs: list[str]) -> None:
    for run in runs:
        checks = await api.as_(
            "finance",
            """query ($run: ID!) { node(id: $run) { ... on PayrollRun {
                 reconciliation { name ok } } } }""",
            {"run": run},
        )
        assert all(c["ok"] for c in checks["node"]["reconciliation"]), checks
    async with services.db.session(BANK) as session:
        assert await check_ledger(session) == []
