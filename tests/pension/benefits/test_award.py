"""待遇核定 through the review chain, with the figures of the 待遇核定表 to the fen."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from jubao.errors import DomainError
from jubao.pension.accounts.contributions import ContributionError
from jubao.pension.benefits.award import Award, AwardError
from jubao.pension.benefits.due import due_in
from jubao.pension.month import Month
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.enrollment import EligibilityError
from jubao.pension.people.persons import Person, PersonEvent, PersonStatus
from jubao.pension.workflow import engine as workflow
from jubao.pension.workflow.applications import Application, Decision, Kind
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import TOWN_A, VILLAGE_A
from tests.pension.benefits.support import contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.support import SYSTEM, id_number

TODAY = date(2026, 11, 23)


async def submit(acting: ActorFor, who: str, kind: Kind, payload: dict[str, Any]) -> Application:
    async with acting(who) as (actor, session):
        return await workflow.submit(session, actor, kind, payload, today=TODAY)


async def decide(acting: ActorFor, who: str, application_id: int) -> Application:
    async with acting(who) as (actor, session):
        return await workflow.review(
            session, actor, application_id, Decision.APPROVE, None, today=TODAY
        )


async def refusal(acting: ActorFor, person: Person) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await submit(acting, "village.assistant", Kind.AWARD, {"person_id": person.id})
    return caught.value


async def award_of(services: Services, person: Person) -> Award:
    async with services.db.session(SYSTEM) as session:
        found = await session.scalar(select(Award).where(Award.person_id == person.id))
    assert found is not None
    return found


async def test_a_contributor_of_fifteen_years_is_awarded_through_the_chain(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    application = await submit(acting, "village.assistant", Kind.AWARD, {"person_id": person.id})
    assert application.chain == [4, 3]  # township 初审, county 复核
    await decide(acting, "township.reviewer", application.id)
    done = await decide(acting, "county.reviewer", application.id)
    assert done.status == "applied"
    award = await award_of(services, person)
    # 15 years at the 500 grade with the 60 subsidy: 8,400.00; ÷ 139 = 60.431… → 60.43
    assert (award.account_total, award.account_pension) == (840_000, 6_043)
    assert award.balances == {"personal": 750_000, "subsidy_province": 90_000}
    # 163 national (2026) + 12 province + 3 county + 30 for 15 years = 208.00
    assert [(line.prefix, line.item.value, line.amount) for line in award.lines] == [
        ("", "base", 16_300),
        ("41", "base", 1_200),
        ("410121", "base", 300),
        ("410121", "years", 3_000),
    ]
    assert (award.basic_pension, award.monthly) == (20_800, 26_843)
    assert (award.eligible_on, award.start) == (date(2026, 12, 10), Month(2027, 1))
    assert (award.years_paid, award.years_required, award.years_for_topup) == (15, 15, 15)
    assert not award.transitional
    async with services.db.session(SYSTEM) as session:
        stored = await session.get(Person, person.id)
        assert stored is not None and stored.current_status is PersonStatus.RECEIVING
        events = (
            await session.scalars(
                select(PersonEvent.kind).where(PersonEvent.person_id == person.id)
            )
        ).all()
    assert "awarded" in events
    again = await refusal(acting, person)
    assert again.code is AwardError.ALREADY
    # from the contributions' side: someone paid a pension pays in nothing more
    back = {"person_id": person.id, "years": [2010], "grade": 50000, "paid_on": "2026-11-23"}
    listed = {
        "region": TOWN_A.code,
        "year": 2026,
        "person_ids": [person.id],
        "paid_on": "2026-11-23",
    }
    for who, kind, payload in (
        ("county.processor", Kind.BACK_PAYMENT, back),
        ("township.processor", Kind.HARDSHIP, listed),
    ):
        with pytest.raises(DomainError) as caught:
            await submit(acting, who, kind, payload)
        assert caught.value.code is ContributionError.NOT_CONTRIBUTING, kind


async def test_an_award_is_never_edited(services: Services, rules: None, acting: ActorFor) -> None:
    person = await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    application = await submit(acting, "village.assistant", Kind.AWARD, {"person_id": person.id})
    await decide(acting, "township.reviewer", application.id)
    await decide(acting, "county.reviewer", application.id)
    with pytest.raises(DBAPIError):
        async with services.db.transaction(SYSTEM) as session:
            await session.execute(update(Award).values(monthly=99_999_99))
    assert (await award_of(services, person)).monthly == 26_843


async def test_each_check_refuses_with_its_own_code(
    services: Services, rules: None, acting: ActorFor
) -> None:
    early = await contributor(services, date(1967, 3, 5), 13, range(2012, 2026))
    refused = await refusal(acting, early)
    assert refused.code is AwardError.TOO_EARLY
    assert refused.message() == "张三于 2027-03 年满 60 周岁，2027-02 起才能申请领取待遇"

    short = await contributor(services, date(1966, 11, 2), 15, range(2016, 2026))
    refused = await refusal(acting, short)
    assert refused.code is AwardError.YEARS_SHORT
    assert refused.message() == "张三累计缴费 10 年，领取待遇需缴满 15 年，还差 5 年"

    near = await contributor(services, date(1952, 3, 10), 17, range(2011, 2012))
    # 59 when the county began: one year is all that was required
    application = await submit(acting, "village.assistant", Kind.AWARD, {"person_id": near.id})
    assert application.status == "in_review"

    worker = await contributor(services, date(1966, 10, 1), 19, range(2011, 2026))
    async with services.db.transaction(SYSTEM) as session:
        session.add(EmployeeInsured(id_number=worker.id_number, insured_from=date(2020, 1, 1)))
    assert (await refusal(acting, worker)).code is AwardError.OTHER_PENSION

    paying = await contributor(services, date(1966, 9, 1), 21, range(2011, 2025))
    await submit(
        acting,
        "county.processor",
        Kind.BACK_PAYMENT,
        {"person_id": paying.id, "years": [2025], "grade": 50000, "paid_on": "2026-08-01"},
    )
    assert (await refusal(acting, paying)).code is AwardError.PAYMENT_OPEN

    listed = await contributor(
        services, date(1966, 8, 1), 23, range(2011, 2025), special_group="031"
    )
    await submit(
        acting,
        "township.processor",
        Kind.HARDSHIP,
        {"region": TOWN_A.code, "year": 2025, "person_ids": [listed.id], "paid_on": "2025-06-30"},
    )
    assert (await refusal(acting, listed)).code is AwardError.PAYMENT_OPEN


async def test_someone_of_age_when_the_scheme_began_enrols_and_gets_the_basic_pension(
    services: Services, rules: None, acting: ActorFor
) -> None:
    enrolment = {
        "id_number": id_number(date(1950, 5, 1), 23),
        "name": "赵老汉",
        "ethnicity": "01",
        "hukou": "rural",
        "region": VILLAGE_A.code,
        "address": "某村一组",
        "grade": 10000,
    }
    application = await submit(acting, "village.assistant", Kind.ENROLLMENT, enrolment)
    await decide(acting, "township.reviewer", application.id)
    await decide(acting, "county.reviewer", application.id)
    async with services.db.session(SYSTEM) as session:
        elder = await session.scalar(select(Person).where(Person.name == "赵老汉"))
    assert elder is not None
    claim = await submit(acting, "village.assistant", Kind.AWARD, {"person_id": elder.id})
    await decide(acting, "township.reviewer", claim.id)
    await decide(acting, "county.reviewer", claim.id)
    award = await award_of(services, elder)
    assert award.transitional and award.years_required == 0 and award.account_pension == 0
    # 76 years old: 163 + 12 + 20 (70 and over, province) + 3 = 198.00, from December
    assert (award.basic_pension, award.monthly, award.start) == (19_800, 19_800, Month(2026, 12))

    # a 61-year-old who was 46 when the county began is no such case
    late = {**enrolment, "id_number": id_number(date(1965, 5, 1), 25), "name": "钱某"}
    with pytest.raises(DomainError) as caught:
        await submit(acting, "village.assistant", Kind.ENROLLMENT, late)
    assert caught.value.code is EligibilityError.AT_PENSION_AGE


async def test_the_notice_list_is_who_reaches_the_age_in_the_month(
    services: Services, rules: None, acting: ActorFor
) -> None:
    december = await contributor(services, date(1966, 12, 10), 11, range(2011, 2026))
    await contributor(services, date(1967, 1, 1), 13, range(2011, 2026))
    await contributor(services, date(1966, 11, 30), 15, range(2011, 2026))
    async with acting("township.processor") as (_, session):
        due = await due_in(session, TOWN_A, Month(2026, 12))
    assert [(d.person.id, d.reached_on, d.years_paid, str(d.first_month)) for d in due] == [
        (december.id, date(2026, 12, 10), 15, "2027-01")
    ]
    async with acting("village.xiang") as (_, session):  # another township's village
        assert await due_in(session, TOWN_A, Month(2026, 12)) == []
