"""Contributions through applications: counter, back-payment, 代缴 lists, interest postings."""

from datetime import date
from typing import Any

from sqlalchemy import select

from jubao.pension.applications import Kind
from jubao.pension.contributions import Contribution, ContributionError
from jubao.pension.interest import InterestError
from jubao.pension.ledger import AccountBalance, check_balances
from jubao.pension.people import Person, PersonError
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, PROVINCE, TOWN_A, VILLAGE_A, VILLAGE_X, World
from tests.pension.support import SYSTEM, enrol, install_policy
from tests.pension.test_workflow import decide, refused, submit


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
    assert error.message() == "参保人当前为“终止参保”，不能缴费"
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
        birth=date(1960, 1, 1),
        sequence=10,
        region=VILLAGE_A,
        enrolled_on=date(2020, 1, 1),
        special_group="031",
        grade=10000,
    )
    other = await enrol(
        services,
        birth=date(1961, 1, 1),
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
        birth=date(1962, 1, 1),
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
    assert done.result["accounts"] == 1 and done.result["total"] == 1120  # 2 % of 560
    assert sum((await balances(services, person.id)).values()) == 56000 + 1120
    not_over = await refused(
        submit(acting, "finance", Kind.INTEREST, {"region": COUNTY_A.code, "year": 2026})
    )
    assert not_over.code is InterestError.YEAR_NOT_OVER
    async with services.db.session(SYSTEM) as session:
        assert await check_balances(session) == []
