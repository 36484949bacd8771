"""Contributions through applications: counter, back-payment, 代缴 lists, interest postings."""

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jubao.jobs import Job
from jubao.pension.accounts.contributions import Contribution, ContributionError
from jubao.pension.accounts.interest import InterestError, InterestRun
from jubao.pension.accounts.ledger import AccountBalance, check_ledger
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.persons import Person, PersonError
from jubao.pension.workflow.applications import Kind
from jubao.platform.services import Services
from tests.api.test_sql_counts import counting
from tests.conftest import ActorFor
from tests.helpers import (
    COUNTY_A,
    PROVINCE,
    TODAY,
    TOWN_A,
    VILLAGE_A,
    VILLAGE_X,
    World,
    finish_jobs,
)
from tests.pension.support import SYSTEM, enrol, install_policy
from tests.pension.workflow.test_workflow import decide, refused, submit

ROOT = Path(__file__).resolve().parents[3]


async def balances(services: Services, person_id: int) -> dict[str, int]:
    async with services.db.session(SYSTEM) as session:
        rows = await session.execute(
            select(AccountBalance.component, AccountBalance.balance).where(
                AccountBalance.person_id == person_id
            )
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def contributions(services: Services, person_id: int) -> list[Contribution]:
    async with services.db.session(SYSTEM) as session:
        return list(
            await session.scalars(
                select(Contribution)
                .where(Contribution.person_id == person_id)
                .order_by(Contribution.year)
            )
        )


async def test_counter_contribution(services: Services, world: World, acting: ActorFor) -> None:
    person = await enrol(
        services, birth=date(1975, 1, 1), sequence=2, region=VILLAGE_A, enrolled_on=date(2024, 3, 1)
    )
    payload: dict[str, Any] = {
        "person_id": person.id,
        "year": 2025,
        "grade": 30000,
        "collective": 5000,
        "paid_on": "2025-04-10",
    }
    application = await submit(acting, "township.processor", Kind.CONTRIBUTION, payload)
    assert application.chain == [3]
    done = await decide(acting, "county.reviewer", application.id)
    [row] = await contributions(services, person.id)
    assert done.result == {"contribution_ids": [row.id]}
    assert (
        row.year,
        row.kind,
        row.channel,
        row.grade,
        row.personal,
        row.collective,
        row.subsidy,
    ) == (
        2025,
        "normal",
        "counter",
        30000,
        30000,
        5000,
        3000,
    )
    assert await balances(services, person.id) == {
        "personal": 30000,
        "collective": 5000,
        "subsidy_province": 3000,
    }
    again = await refused(submit(acting, "township.processor", Kind.CONTRIBUTION, payload))
    assert again.code is ContributionError.YEAR_PAID
    future = await refused(
        submit(acting, "township.processor", Kind.CONTRIBUTION, {**payload, "year": 2027})
    )
    assert future.code is ContributionError.YEAR_RANGE
    before_enrolment = await refused(
        submit(acting, "township.processor", Kind.CONTRIBUTION, {**payload, "year": 2023})
    )
    assert before_enrolment.code is ContributionError.YEAR_RANGE
    over_cap = await refused(
        submit(
            acting,
            "township.processor",
            Kind.CONTRIBUTION,
            {**payload, "year": 2026, "collective": 150000, "aid": 60000},
        )
    )
    assert over_cap.code is ContributionError.AID_CAP


async def test_contributions_need_an_enrolled_contributing_person(
    services: Services, world: World, acting: ActorFor
) -> None:
    person = await enrol(
        services, birth=date(1975, 1, 1), sequence=4, region=VILLAGE_A, enrolled_on=date(2024, 3, 1)
    )
    async with services.db.transaction(SYSTEM) as session:
        row = await session.get(Person, person.id)
        assert row is not None
        row.status = "terminated"
    payload = {"person_id": person.id, "year": 2025, "grade": 30000, "paid_on": "2025-04-10"}
    error = await refused(submit(acting, "township.processor", Kind.CONTRIBUTION, payload))
    assert error.code is ContributionError.NOT_CONTRIBUTING
    assert error.message() == "张三当前为“终止参保”，不能缴费"
    missing = await refused(
        submit(acting, "township.processor", Kind.CONTRIBUTION, {**payload, "person_id": 99999})
    )
    assert missing.code is PersonError.NOT_FOUND


async def test_back_payment(services: Services, world: World, acting: ActorFor) -> None:
    person = await enrol(
        services, birth=date(1968, 6, 1), sequence=6, region=VILLAGE_A, enrolled_on=date(2018, 5, 1)
    )
    payload = {
        "person_id": person.id,
        "years": [2019, 2020, 2021],
        "grade": 20000,
        "paid_on": "2026-02-01",
    }
    application = await submit(acting, "township.processor", Kind.BACK_PAYMENT, payload)
    await decide(acting, "county.reviewer", application.id)
    rows = await contributions(services, person.id)
    assert [(r.year, r.kind, r.personal, r.subsidy) for r in rows] == [
        (2019, "back_payment", 20000, 0),  # interrupted years earn no subsidy (national default)
        (2020, "back_payment", 20000, 0),
        (2021, "back_payment", 20000, 0),
    ]
    assert (
        await refused(
            submit(acting, "township.processor", Kind.BACK_PAYMENT, {**payload, "years": [2017]})
        )
    ).code is ContributionError.NOT_MISSED
    assert (
        await refused(
            submit(acting, "township.processor", Kind.BACK_PAYMENT, {**payload, "years": [2026]})
        )
    ).code is ContributionError.NOT_MISSED
    assert (
        await refused(
            submit(acting, "township.processor", Kind.BACK_PAYMENT, {**payload, "years": [2020]})
        )
    ).code is ContributionError.YEAR_PAID


async def test_back_payment_is_capped_by_policy(
    services: Services, world: World, acting: ActorFor
) -> None:
    await install_policy(services, PROVINCE, 2014, back_payment={"max_years": 2, "subsidy": True})
    person = await enrol(
        services, birth=date(1968, 6, 1), sequence=8, region=VILLAGE_A, enrolled_on=date(2018, 5, 1)
    )
    payload = {
        "person_id": person.id,
        "years": [2019, 2020, 2021],
        "grade": 20000,
        "paid_on": "2026-02-01",
    }
    error = await refused(submit(acting, "township.processor", Kind.BACK_PAYMENT, payload))
    assert error.code is ContributionError.BACK_PAYMENT_CAP
    assert error.message() == "补缴累计不能超过 2 年（已补缴 0 年，本次 3 年）"
    application = await submit(
        acting, "township.processor", Kind.BACK_PAYMENT, {**payload, "years": [2019, 2020]}
    )
    await decide(acting, "county.reviewer", application.id)
    assert [r.subsidy for r in await contributions(services, person.id)] == [
        3000,
        3000,
    ]  # granted here


async def test_hardship_list(services: Services, world: World, acting: ActorFor) -> None:
    poor = await enrol(
        services,
        birth=date(1970, 1, 1),
        sequence=10,
        region=VILLAGE_A,
        enrolled_on=date(2020, 1, 1),
        special_group="031",
        grade=10000,
    )
    other = await enrol(
        services,
        birth=date(1971, 1, 1),
        sequence=12,
        region=VILLAGE_A,
        enrolled_on=date(2020, 1, 1),
        special_group="011",
    )
    payload = {
        "region": TOWN_A.code,
        "year": 2025,
        "person_ids": [poor.id],
        "paid_on": "2025-06-30",
    }
    not_eligible = await refused(
        submit(
            acting,
            "township.processor",
            Kind.HARDSHIP,
            {**payload, "person_ids": [poor.id, other.id]},
        )
    )
    assert not_eligible.code is ContributionError.NOT_HARDSHIP
    far = await enrol(
        services,
        birth=date(1972, 1, 1),
        sequence=14,
        region=VILLAGE_X,
        enrolled_on=date(2020, 1, 1),
        special_group="031",
    )
    unseen = await refused(
        submit(acting, "township.processor", Kind.HARDSHIP, {**payload, "person_ids": [far.id]})
    )
    assert unseen.code is PersonError.NOT_FOUND  # another township's people are invisible
    outside = await refused(
        submit(acting, "county.processor", Kind.HARDSHIP, {**payload, "person_ids": [far.id]})
    )
    assert outside.code is ContributionError.OUTSIDE  # visible to the county, but not on this list
    application = await submit(acting, "township.processor", Kind.HARDSHIP, payload)
    assert application.region_code == TOWN_A.code
    await decide(acting, "county.reviewer", application.id)
    [row] = await contributions(services, poor.id)
    assert (row.channel, row.grade, row.personal, row.hardship, row.subsidy) == (
        "hardship_list",
        10000,
        0,
        10000,
        3000,
    )
    assert await balances(services, poor.id) == {"hardship": 10000, "subsidy_province": 3000}


async def test_interest_posting_is_reviewed(
    services: Services, world: World, acting: ActorFor
) -> None:
    await install_policy(services, PROVINCE, 2014, interest={"rate": "0.02"})
    person = await enrol(
        services,
        birth=date(1970, 1, 1),
        sequence=16,
        region=VILLAGE_A,
        enrolled_on=date(2023, 1, 1),
    )
    payload = {"person_id": person.id, "year": 2024, "grade": 50000, "paid_on": "2024-03-01"}
    application = await submit(acting, "township.processor", Kind.CONTRIBUTION, payload)
    await decide(acting, "county.reviewer", application.id)
    for year in (2024, 2025):
        posting = await submit(
            acting, "finance", Kind.INTEREST, {"region": COUNTY_A.code, "year": year}
        )
        assert posting.chain == [3]
        done = await decide(acting, "county.reviewer", posting.id)
        await finish_jobs(services)
    async with services.db.session(SYSTEM) as session:
        run = await session.get(InterestRun, done.result["run_id"])
        job = await session.get(Job, done.result["job_id"])
    assert run is not None and job is not None
    assert (run.accounts, run.total, run.finished_at is not None) == (1, 1120, True)  # 2 % of 560
    assert (job.state, job.chunks_done, job.items, job.total) == ("done", 1, 1, 1120)
    assert sum((await balances(services, person.id)).values()) == 56000 + 1120
    not_over = await refused(
        submit(acting, "finance", Kind.INTEREST, {"region": COUNTY_A.code, "year": 2026})
    )
    assert not_over.code is InterestError.YEAR_NOT_OVER
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []


CHANGCHUN = ROOT / "examples" / "policy" / "changchun-2011.toml"


async def changchun_rules(services: Services) -> None:
    """The Changchun rules (grades 100–1000, 代缴 of the 100 grade for 重点优抚 with the
    subsidy kept) over the test province."""
    sections = tomllib.loads(CHANGCHUN.read_text(encoding="utf-8"))
    for key in ("region", "effective_year", "title"):
        sections.pop(key)
    await install_policy(services, PROVINCE, 2011, **sections)


@pytest.mark.parametrize("list_first", [True, False])
async def test_the_order_of_a_hardship_list_and_the_counter_changes_nothing(
    services: Services, world: World, acting: ActorFor, list_first: bool
) -> None:
    """A 重点优抚 person who chose 300 and is on the 代缴 list: 100 paid by the district, 200 by
    themselves, the 300 grade's subsidy of 40 — 340.00 whichever is booked first."""
    await changchun_rules(services)
    person = await enrol(
        services,
        birth=date(1975, 1, 1),
        sequence=20,
        region=VILLAGE_A,
        enrolled_on=date(2024, 3, 1),
        special_group="081",
        grade=30000,
    )
    listed = {
        "region": TOWN_A.code,
        "year": 2025,
        "person_ids": [person.id],
        "paid_on": "2025-05-10",
    }
    counter = {"person_id": person.id, "year": 2025, "grade": 30000, "paid_on": "2025-06-01"}
    steps = [(Kind.HARDSHIP, listed), (Kind.CONTRIBUTION, counter)]
    results = []
    for kind, payload in steps if list_first else reversed(steps):
        application = await submit(acting, "township.processor", kind, payload)
        results.append((await decide(acting, "county.reviewer", application.id)).result)
    [row] = await contributions(services, person.id)
    assert (row.grade, row.personal, row.hardship, row.subsidy, row.credited) == (
        30000,
        20000,
        10000,
        4000,
        34000,
    )
    assert await balances(services, person.id) == {
        "personal": 20000,
        "hardship": 10000,
        "subsidy_province": 2400,
        "subsidy_city": 800,
        "subsidy_county": 800,
    }
    if not list_first:  # the person's own payment already carried the 代缴 part
        assert results[1] == {"contribution_ids": [], "already_paid_person_ids": [person.id]}
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []


async def test_after_a_hardship_list_the_counter_needs_a_higher_grade(
    services: Services, world: World, acting: ActorFor
) -> None:
    await changchun_rules(services)
    person = await enrol(
        services,
        birth=date(1975, 1, 1),
        sequence=22,
        region=VILLAGE_A,
        enrolled_on=date(2024, 3, 1),
        special_group="081",
        grade=10000,
    )
    listed = {
        "region": TOWN_A.code,
        "year": 2025,
        "person_ids": [person.id],
        "paid_on": "2025-05-10",
    }
    application = await submit(acting, "township.processor", Kind.HARDSHIP, listed)
    await decide(acting, "county.reviewer", application.id)
    counter = {"person_id": person.id, "year": 2025, "grade": 10000, "paid_on": "2025-06-01"}
    error = await refused(submit(acting, "township.processor", Kind.CONTRIBUTION, counter))
    assert error.code is ContributionError.HARDSHIP_PAID
    again = await refused(submit(acting, "township.processor", Kind.HARDSHIP, listed))
    assert again.code is ContributionError.YEAR_PAID


async def test_no_contribution_for_a_year_in_the_employees_scheme(
    services: Services, world: World, acting: ActorFor
) -> None:
    """Rulebook §5.3 and 人社部发〔2014〕17号 art. 7: a year insured in the employees' scheme is
    not paid here too, at the counter, on a 代缴 list or as a back-payment."""
    person = await enrol(
        services,
        birth=date(1975, 1, 1),
        sequence=24,
        region=VILLAGE_A,
        enrolled_on=date(2020, 3, 1),
        special_group="031",
    )
    async with services.db.transaction(SYSTEM) as session:
        session.add(
            EmployeeInsured(
                id_number=person.id_number,
                insured_from=date(2023, 7, 1),
                insured_to=date(2024, 6, 30),
                imported_on=TODAY,
            )
        )
    counter = {"person_id": person.id, "year": 2024, "grade": 50000, "paid_on": "2024-08-01"}
    error = await refused(submit(acting, "township.processor", Kind.CONTRIBUTION, counter))
    assert error.code is ContributionError.EMPLOYEE_SCHEME_YEAR
    assert error.message() == (
        "张三在 2024 年参加了城镇职工基本养老保险（数据比对：2023-07-01–2024-06-30），该年度不能"
        "在城乡居保缴费；同一年度两边参保的按制度衔接办理"
    )
    listed = {
        "region": TOWN_A.code,
        "year": 2023,
        "person_ids": [person.id],
        "paid_on": "2023-05-10",
    }
    listed_error = await refused(submit(acting, "township.processor", Kind.HARDSHIP, listed))
    assert listed_error.code is ContributionError.EMPLOYEE_SCHEME_YEAR
    back = {"person_id": person.id, "years": [2021, 2023], "grade": 20000, "paid_on": "2026-02-01"}
    back_error = await refused(submit(acting, "township.processor", Kind.BACK_PAYMENT, back))
    assert back_error.code is ContributionError.EMPLOYEE_SCHEME_YEAR
    fine = await submit(
        acting,
        "township.processor",
        Kind.CONTRIBUTION,
        {**counter, "year": 2025, "paid_on": "2025-08-01"},
    )
    assert fine.person_id == person.id


async def test_no_yearly_contribution_at_pension_age(
    services: Services, world: World, acting: ActorFor
) -> None:
    """国发〔2014〕8号 §七: from the pension age people are paid, not paying (policy: 60)."""
    person = await enrol(
        services,
        birth=date(1965, 7, 1),
        sequence=26,
        region=VILLAGE_A,
        enrolled_on=date(2020, 3, 1),
    )
    counter = {"person_id": person.id, "year": 2026, "grade": 50000, "paid_on": "2026-03-01"}
    error = await refused(submit(acting, "township.processor", Kind.CONTRIBUTION, counter))
    assert error.code is ContributionError.PENSION_AGE  # 60 on 2025-07-01, before 2026 began
    paid = await submit(acting, "township.processor", Kind.CONTRIBUTION, {**counter, "year": 2025})
    assert paid.person_id == person.id  # 2025 began before the birthday
    back = {"person_id": person.id, "years": [2021], "grade": 20000, "paid_on": "2026-02-01"}
    late = await refused(submit(acting, "township.processor", Kind.BACK_PAYMENT, back))
    assert late.code is ContributionError.PENSION_AGE_BACK_PAYMENT
    await install_policy(
        services, PROVINCE, 2014, back_payment={"max_years": 15, "after_pension_age": True}
    )
    allowed = await submit(acting, "township.processor", Kind.BACK_PAYMENT, back)
    assert allowed.person_id == person.id


async def test_a_hardship_list_is_checked_in_statements_that_do_not_grow_with_it(
    services: Services, world: World, acting: ActorFor
) -> None:
    people = [
        await enrol(
            services,
            birth=date(1970 + n, 1, 1),
            sequence=20 + 2 * n,
            region=VILLAGE_A,
            enrolled_on=date(2020, 1, 1),
            special_group="031",
        )
        for n in range(12)
    ]
    counts = []
    # two lists of one township must be for different years (one open list per year)
    for year, listed in ((2024, people[:2]), (2025, people[2:])):
        payload = {
            "region": TOWN_A.code,
            "year": year,
            "person_ids": [p.id for p in listed],
            "paid_on": f"{year}-06-30",
        }
        with counting(services) as statements:
            await submit(acting, "township.processor", Kind.HARDSHIP, payload)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
