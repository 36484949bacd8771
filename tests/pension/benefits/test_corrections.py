"""待遇核定更正: a pensioner's award reckoned again from corrected records — a new version in
force from the first month not yet prepared, the months prepared before left as they were."""

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from jubao.errors import DomainError
from jubao.pension.accounts.ledger import Component, Credit, EntryKind, post
from jubao.pension.benefits import payroll
from jubao.pension.benefits.award import Award
from jubao.pension.benefits.correction import CorrectionError, current_award
from jubao.pension.benefits.payroll import PayLine
from jubao.pension.month import Month
from jubao.pension.people.persons import Person
from jubao.pension.workflow.applications import Kind
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A
from tests.pension.benefits.support import contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_award import decide, submit
from tests.pension.benefits.test_payroll import ACCOUNT, JANUARY, awarded, pay_out
from tests.pension.support import SYSTEM

REASON = "2026 年 6 月银行代扣的缴费迟到入账"


async def correct(acting: ActorFor, person: Person) -> None:
    application = await submit(
        acting,
        "county.processor",
        Kind.AWARD_CORRECTION,
        {"person_id": person.id, "reason": REASON},
    )
    await decide(acting, "county.reviewer", application.id)


async def late_payment(services: Services, person: Person) -> None:
    """1,390.00 paid in June 2026 (before the pension began) and posted only now."""
    async with services.db.transaction(SYSTEM) as session:
        await post(
            session,
            person_id=person.id,
            region_code=person.region_code,
            credits=[Credit(Component.PERSONAL, 139_000)],
            kind=EntryKind.CONTRIBUTION,
            value_date=date(2026, 6, 30),
            year=2026,
        )


async def test_a_correction_pays_from_the_first_month_not_yet_prepared(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await awarded(services, acting, 61, bank_account=ACCOUNT)  # 8,400.00 → 60.43
    # nothing in the records has changed: nothing to correct
    with pytest.raises(DomainError) as caught:
        await correct(acting, person)
    assert caught.value.code is CorrectionError.NO_CHANGE
    await pay_out(acting, JANUARY)

    await late_payment(services, person)
    await correct(acting, person)
    async with services.db.session(SYSTEM) as session:
        versions = list(
            await session.scalars(
                select(Award).where(Award.person_id == person.id).order_by(Award.id)
            )
        )
        current = await current_award(session, person.id)
    first, second = versions
    assert current is not None and current.id == second.id
    # 9,790.00 ÷ 139 = 70.431… → 70.43, from February (January was prepared with 60.43)
    assert (first.account_total, first.account_pension) == (840_000, 6_043)
    assert (second.account_total, second.account_pension, second.monthly) == (
        979_000,
        7_043,
        20_800 + 7_043,
    )
    assert (second.corrects_id, Month.of(second.effective_month), second.reason) == (
        first.id,
        Month(2027, 2),
        REASON,
    )
    assert second.start_month == first.start_month

    await pay_out(acting, Month(2027, 2))
    async with services.db.session(SYSTEM) as session:
        paid = (
            await session.execute(
                select(PayLine.month, PayLine.from_account, PayLine.amount)
                .where(PayLine.person_id == person.id)
                .order_by(PayLine.month)
            )
        ).all()
    assert [(Month.of(m), a, t) for m, a, t in paid] == [
        (JANUARY, 6_043, 26_843),
        (Month(2027, 2), 7_043, 27_843),
    ]
    # corrected again with nothing new: refused
    with pytest.raises(DomainError) as caught:
        await correct(acting, person)
    assert caught.value.code is CorrectionError.NO_CHANGE


async def test_only_an_award_can_be_corrected(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await contributor(services, date(1966, 12, 10), 62, range(2011, 2026))
    with pytest.raises(DomainError) as caught:
        await correct(acting, person)
    assert caught.value.code is CorrectionError.NOT_AWARDED


async def test_a_correction_waits_for_a_run_being_prepared(
    services: Services, rules: None, acting: ActorFor
) -> None:
    if services.db.is_sqlite:
        pytest.skip("SQLite runs one write transaction at a time: nothing to wait for")
    person = await awarded(services, acting, 64, bank_account=ACCOUNT)
    await late_payment(services, person)
    application = await submit(
        acting,
        "county.processor",
        Kind.AWARD_CORRECTION,
        {"person_id": person.id, "reason": REASON},
    )
    async with acting("county.processor") as (actor, session):
        await payroll.prepare(session, actor, COUNTY_A, JANUARY, today=JANUARY.first_day)
        # approved while January's run is prepared but not yet committed: the approval waits
        approval = asyncio.create_task(decide(acting, "county.reviewer", application.id))
        await asyncio.sleep(0.5)
        assert not approval.done()
    await approval
    async with services.db.session(SYSTEM) as session:
        current = await current_award(session, person.id)
    assert current is not None and Month.of(current.effective_month) == Month(2027, 2)
