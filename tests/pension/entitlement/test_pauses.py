"""资格认证 and 暂停/恢复: a recipient not verified within the cycle is paused from the first
month not prepared, verifies, is resumed by review and paid back; pauses for other reasons as
their rules say — to the fen."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from jubao.errors import DomainError
from jubao.pension.benefits.payroll import LineKind, PayLine
from jubao.pension.entitlement import verification
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.pauses import HoldError
from jubao.pension.entitlement.verification import ListKind, Method
from jubao.pension.month import Month
from jubao.pension.people.persons import Person, PersonStatus
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.pension.workflow import engine
from jubao.pension.workflow.applications import Application, ApplicationError, Decision, Kind
from jubao.platform.services import Services
from tests.authz.test_grants import grant
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, TOWN_A, World
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, JANUARY, awarded, pay_out
from tests.pension.support import SYSTEM

# 208.00 basic + 60.43 from the account (see `awarded`)
MONTHLY = 26_843


async def county_rules(services: Services, **entitlement: Any) -> None:
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session,
            SYSTEM,
            PolicyFile(COUNTY_A, 2027, "资格认证", parse_params({"entitlement": entitlement})),
        )


async def submit(
    acting: ActorFor, who: str, kind: Kind, payload: dict[str, Any], today: date
) -> Application:
    async with acting(who) as (actor, session):
        return await engine.submit(session, actor, kind, payload, today=today)


async def decide(acting: ActorFor, who: str, application_id: int, today: date) -> Application:
    async with acting(who) as (actor, session):
        return await engine.review(
            session, actor, application_id, Decision.APPROVE, None, today=today
        )


async def verify(
    acting: ActorFor, person: Person, on: date, who: str = "village.assistant"
) -> verification.Recorded:
    async with acting(who) as (actor, session):
        found = await session.get(Person, person.id)
        assert found is not None
        return await verification.record(session, actor, found, on, Method.COUNTER, today=on)


async def lines(services: Services, person: Person) -> list[tuple[Month, str, int, int]]:
    async with services.db.session(SYSTEM) as session:
        rows = await session.execute(
            select(PayLine.month, PayLine.kind, PayLine.amount, PayLine.from_account)
            .where(PayLine.person_id == person.id)
            .order_by(PayLine.run_id, PayLine.month)
        )
    return [(Month.of(m), k, a, f) for m, k, a, f in rows]


async def status(services: Services, person: Person) -> PersonStatus:
    async with services.db.session(SYSTEM) as session:
        found = await session.get(Person, person.id)
        assert found is not None
        return found.current_status


async def test_a_missed_verification_pauses_and_the_verification_resumes_with_back_pay(
    services: Services, rules: None, acting: ActorFor
) -> None:
    await county_rules(services, cycle_months=2)
    kept = await awarded(services, acting, 71, bank_account=ACCOUNT)
    missed = await awarded(services, acting, 72, bank_account=ACCOUNT)
    # both awarded from January 2027: the cycle is January and February
    await pay_out(acting, JANUARY)
    await verify(acting, kept, date(2027, 2, 3))  # a new cycle: March and April
    await pay_out(acting, Month(2027, 2))
    async with acting("township.reviewer") as (_, session):
        due = await verification.list_statement(session, TOWN_A, Month(2027, 2), ListKind.DUE)
        assert [p.id for p in await session.scalars(due)] == [missed.id]

    march = await pay_out(acting, Month(2027, 3))  # the run pauses who is overdue first
    assert march.lines == 1
    assert await status(services, missed) is PersonStatus.BENEFIT_SUSPENDED
    async with services.db.session(SYSTEM) as session:
        hold = await session.scalar(select(BenefitHold).where(BenefitHold.person_id == missed.id))
        assert hold is not None and (hold.reason, hold.start) == ("unverified", Month(2027, 3))
    async with acting("township.reviewer") as (_, session):
        paused = await verification.list_statement(session, TOWN_A, Month(2027, 4), ListKind.PAUSED)
        assert [p.id for p in await session.scalars(paused)] == [missed.id]
    await pay_out(acting, Month(2027, 4))

    # verified at the counter on 20 April: the resumption waits for the county's review
    recorded = await verify(acting, missed, date(2027, 4, 20))
    assert recorded.resumption is not None
    await decide(acting, "county.reviewer", recorded.resumption.id, date(2027, 4, 21))
    assert await status(services, missed) is PersonStatus.RECEIVING
    await pay_out(acting, Month(2027, 5))  # March and April paid back in May's run
    assert [(m, k, a) for m, k, a, _ in await lines(services, missed)] == [
        (JANUARY, LineKind.REGULAR, MONTHLY),
        (Month(2027, 2), LineKind.REGULAR, MONTHLY),
        (Month(2027, 3), LineKind.BACK_PAY, MONTHLY),
        (Month(2027, 4), LineKind.BACK_PAY, MONTHLY),
        (Month(2027, 5), LineKind.REGULAR, MONTHLY),
    ]
    await pay_out(acting, Month(2027, 6))  # paid back once only
    assert len(await lines(services, missed)) == 6


async def test_a_sentence_stops_the_pension_without_back_pay_and_detention_is_paid_back(
    services: Services, rules: None, acting: ActorFor
) -> None:
    prisoner = await awarded(services, acting, 73, bank_account=ACCOUNT)
    detained = await awarded(services, acting, 74, bank_account=ACCOUNT)
    await pay_out(acting, JANUARY)
    for person, reason in ((prisoner, "imprisoned"), (detained, "detained")):
        held = await submit(
            acting,
            "county.processor",
            Kind.BENEFIT_HOLD,
            {"person_id": person.id, "reason": reason, "note": "（2027）豫0121刑初12号"},
            date(2027, 1, 20),
        )
        await decide(acting, "county.reviewer", held.id, date(2027, 1, 20))
    # paused from February, the first month not prepared
    with pytest.raises(DomainError) as caught:  # nobody left to pay
        await pay_out(acting, Month(2027, 2))
    for person in (prisoner, detained):
        resumed = await submit(
            acting,
            "county.processor",
            Kind.BENEFIT_RESUMPTION,
            {"person_id": person.id, "cleared": True, "note": "刑满释放 / 宣告无罪"},
            date(2027, 3, 5),
        )
        await decide(acting, "county.reviewer", resumed.id, date(2027, 3, 5))
    await pay_out(acting, Month(2027, 3))
    # a sentence's months are not paid back (whatever "cleared" says); detention's are
    assert [(m, k) for m, k, _, _ in await lines(services, prisoner)] == [
        (JANUARY, LineKind.REGULAR),
        (Month(2027, 3), LineKind.REGULAR),
    ]
    assert [(m, k) for m, k, _, _ in await lines(services, detained)] == [
        (JANUARY, LineKind.REGULAR),
        (Month(2027, 2), LineKind.BACK_PAY),
        (Month(2027, 3), LineKind.REGULAR),
    ]
    assert caught.value.code.name == "NOBODY"


async def test_a_non_custodial_sentence_keeps_the_amount_without_later_increases(
    services: Services, rules: None, acting: ActorFor
) -> None:
    restricted = await awarded(services, acting, 75, bank_account=ACCOUNT)
    other = await awarded(services, acting, 76, bank_account=ACCOUNT)
    await pay_out(acting, JANUARY)
    held = await submit(
        acting,
        "county.processor",
        Kind.BENEFIT_HOLD,
        {"person_id": restricted.id, "reason": "non_custodial", "note": "缓刑二年"},
        date(2027, 1, 20),
    )
    await decide(acting, "county.reviewer", held.id, date(2027, 1, 20))
    assert await status(services, restricted) is PersonStatus.RECEIVING  # still paid
    # the county adds 10 yuan from March
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session,
            SYSTEM,
            PolicyFile(
                COUNTY_A,
                2027,
                "县级提标",
                parse_params(
                    {
                        "basic_pension": {
                            "monthly": "13",
                            "years_topup": [{"up_to": 15, "per_year": "2"}, {"per_year": "3"}],
                        }
                    }
                ),
                effective_month=3,
            ),
        )
    for month in (2, 3):
        await pay_out(acting, Month(2027, month))
    assert [a for _, _, a, _ in await lines(services, restricted)] == [MONTHLY] * 3
    assert [a for _, _, a, _ in await lines(services, other)] == [MONTHLY] * 2 + [MONTHLY + 1_000]
    # the restriction ends in April: later increases are paid again, the months past are not
    ended = await submit(
        acting,
        "county.processor",
        Kind.BENEFIT_RESUMPTION,
        {"person_id": restricted.id, "note": "缓刑考验期满"},
        date(2027, 4, 1),
    )
    await decide(acting, "county.reviewer", ended.id, date(2027, 4, 1))
    await pay_out(acting, Month(2027, 4))
    assert [a for _, _, a, _ in await lines(services, restricted)] == [MONTHLY] * 3 + [
        MONTHLY + 1_000
    ]


async def test_a_long_pause_takes_a_second_review(
    services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    await county_rules(services, cycle_months=1, high_risk_months=2)
    person = await awarded(services, acting, 77, bank_account=ACCOUNT)
    await awarded(services, acting, 78, bank_account=ACCOUNT)  # keeps the runs non-empty
    for month in range(1, 6):
        if month > 1:  # the other one verifies every month
            async with acting("county.processor") as (actor, session):
                others = await session.scalars(select(Person).where(Person.id != person.id))
                for other in others:
                    await verification.record(
                        session,
                        actor,
                        other,
                        date(2027, month - 1, 28),
                        Method.PHONE,
                        today=date(2027, month - 1, 28),
                    )
        await pay_out(acting, Month(2027, month))
    # paused from February; verified in June, four months later
    recorded = await verify(acting, person, date(2027, 6, 2))
    assert recorded.resumption is not None
    assert recorded.resumption.chain == [3, 3]  # the county, twice
    await decide(acting, "county.reviewer", recorded.resumption.id, date(2027, 6, 2))
    with pytest.raises(DomainError) as caught:
        await decide(acting, "county.reviewer", recorded.resumption.id, date(2027, 6, 2))
    assert caught.value.code is ApplicationError.TWICE
    second = world.ids["nobody"]
    await grant(acting, "perm.county", second, "agency_reviewer", COUNTY_A)
    done = await decide(acting, "nobody", recorded.resumption.id, date(2027, 6, 2))
    assert done.status == "applied"


async def test_pauses_are_refused_where_they_do_not_apply(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await awarded(services, acting, 79, bank_account=ACCOUNT)
    cases = [
        ({"reason": "unverified", "note": "手工暂停"}, HoldError.SYSTEM_REASON),
        ({"reason": "imprisoned", "note": "判决", "began_on": "2099-01-01"}, HoldError.FUTURE),
    ]
    for payload, code in cases:
        with pytest.raises(DomainError) as caught:
            await submit(
                acting,
                "county.processor",
                Kind.BENEFIT_HOLD,
                {"person_id": person.id, **payload},
                date(2027, 1, 5),
            )
        assert caught.value.code is code
    with pytest.raises(DomainError) as caught:
        await submit(
            acting,
            "county.processor",
            Kind.BENEFIT_RESUMPTION,
            {"person_id": person.id, "note": "恢复"},
            date(2027, 1, 5),
        )
    assert caught.value.code is HoldError.NOT_HELD
    # a neighbour village's assistant does not even see this village's recipient
    async with acting("village.neighbour") as (_, session):
        assert await session.get(Person, person.id) is None
