"""待遇发放: a county's monthly run from preparation to the bank and back, to the fen."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from jubao.errors import DomainError, Lang
from jubao.pension.accounts.ledger import (
    AccountBalance,
    AccountEntry,
    Component,
    Credit,
    EntryKind,
    FundAccount,
    FundEntry,
    check_ledger,
    post,
)
from jubao.pension.accounts.statements import statement_file
from jubao.pension.benefits import payroll, reconciliation, settlement
from jubao.pension.benefits.payroll import (
    LineKind,
    LineState,
    PayLine,
    PayrollError,
    PayrollRun,
    RunState,
)
from jubao.pension.benefits.settlement import BankResult, ResultError
from jubao.pension.month import Month
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.pension.workflow.applications import Kind
from jubao.platform.services import Services
from tests.authz.test_grants import grant
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, COUNTY_B, World
from tests.pension.benefits.support import COUNTY_RULES, contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_award import decide, submit
from tests.pension.support import SYSTEM

JANUARY = Month(2027, 1)
ACCOUNT = "6228480000000000017"


async def awarded(services: Services, acting: ActorFor, sequence: int, **kwargs: Any) -> Person:
    """Born in December 1966, 15 years of 500 + 60: from January 2027, 208.00 basic (163
    national, 12 province, 3 + 30 county) and 60.43 from the account of 8,400.00."""
    person = await contributor(services, date(1966, 12, 10), sequence, range(2011, 2026), **kwargs)
    application = await submit(acting, "village.assistant", Kind.AWARD, {"person_id": person.id})
    await decide(acting, "township.reviewer", application.id)
    await decide(acting, "county.reviewer", application.id)
    return person


async def prepare(acting: ActorFor, month: Month, who: str = "county.processor") -> PayrollRun:
    async with acting(who) as (actor, session):
        return await payroll.prepare(session, actor, COUNTY_A, month, today=month.first_day)


async def review(acting: ActorFor, run: PayrollRun, who: str = "county.reviewer") -> None:
    async with acting(who) as (actor, session):
        await payroll.review(session, actor, run.id)


async def release(acting: ActorFor, run: PayrollRun, who: str = "finance") -> None:
    async with acting(who) as (actor, session):
        await payroll.release(session, actor, run.id, today=run.period.first_day)


async def pay_out(acting: ActorFor, month: Month) -> PayrollRun:
    run = await prepare(acting, month)
    await review(acting, run)
    await release(acting, run)
    return run


async def settle(acting: ActorFor, run: PayrollRun, **failed: str) -> settlement.Settlement:
    """Every sent line of ``run`` paid, but those whose line id (as "l<id>") is given a
    reason."""
    async with acting("finance") as (actor, session):
        ids = await session.scalars(
            select(PayLine.id).where(
                PayLine.run_id == run.id, PayLine.state == LineState.SENT.value
            )
        )
        results = [BankResult(i, f"l{i}" not in failed, failed.get(f"l{i}"), f"R{i}") for i in ids]
        return await settlement.settle(session, actor, run.id, results, today=run.period.first_day)


async def lines_of(services: Services, run: PayrollRun) -> list[PayLine]:
    async with services.db.session(SYSTEM) as session:
        found = await session.scalars(
            select(PayLine).where(PayLine.run_id == run.id).order_by(PayLine.id)
        )
        return list(found)


async def reconciled(services: Services, run: PayrollRun) -> None:
    async with services.db.session(SYSTEM) as session:
        checks = await reconciliation.reconcile(session, run.id)
        assert [c for c in checks if not c.ok] == []
        assert await check_ledger(session) == []


async def fund(services: Services, account: FundAccount) -> int:
    async with services.db.session(SYSTEM) as session:
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(FundEntry.amount), 0)).where(
                    FundEntry.account == account.value
                )
            )
        )


async def test_a_month_is_prepared_reviewed_released_and_paid(
    services: Services, rules: None, acting: ActorFor
) -> None:
    paid = await awarded(services, acting, 21, bank_account=ACCOUNT)
    held = await awarded(services, acting, 22)  # no bank account yet
    run = await prepare(acting, JANUARY)
    assert (run.lines, run.total, run.held) == (1, 26_843, 1)
    line, waiting = await lines_of(services, run)
    assert (line.person_id, line.kind, line.state) == (paid.id, "regular", "pending")
    assert (line.basic_national, line.basic_province, line.basic_city, line.basic_county) == (
        16_300,
        1_200,
        0,
        3_300,
    )
    assert (line.from_account, line.from_pool, line.amount) == (6_043, 0, 26_843)
    assert (waiting.person_id, waiting.state) == (held.id, "held")

    with pytest.raises(DomainError) as caught:
        await prepare(acting, JANUARY)
    assert caught.value.code is PayrollError.ALREADY
    with pytest.raises(DomainError) as caught:
        await release(acting, run)  # not reviewed yet
    assert caught.value.code is PayrollError.STATE
    await review(acting, run)
    await release(acting, run)

    # 60.43 out of 7,500.00 personal and 900.00 subsidy: 53.955… and 6.474… → 53.96 + 6.47
    async with services.db.session(SYSTEM) as session:
        debits = dict(
            (
                await session.execute(
                    select(AccountEntry.component, AccountEntry.amount).where(
                        AccountEntry.person_id == paid.id,
                        AccountEntry.kind == EntryKind.PENSION.value,
                    )
                )
            ).all()
        )
        balance = await session.scalar(
            select(func.sum(AccountBalance.balance)).where(AccountBalance.person_id == paid.id)
        )
    assert debits == {"personal": -5_396, "subsidy_province": -647}
    assert balance == 840_000 - 6_043
    # the person's statement of the year shows the debits
    async with acting("county.reviewer") as (actor, session):
        person = await session.get(Person, paid.id)
        assert person is not None
        printed = await statement_file(session, actor, person, 2027, "csv", Lang.ZH)
    debit_rows = [r for r in printed.decode("utf-8-sig").splitlines() if "个人账户养老金支付" in r]
    assert [r.rsplit(",", 1)[1] for r in debit_rows] == ["-53.96", "-6.47"]
    assert await fund(services, FundAccount.CLEARING) == 26_843
    assert await fund(services, FundAccount.BASIC_NATIONAL) == -16_300

    result = await settle(acting, run)
    assert (result.paid, result.failed, result.already, result.refused) == (1, 0, 0, [])
    again = await settle(acting, run)  # the same file imported again
    assert (again.paid, again.already) == (0, 0)  # (nothing is sent any more)
    assert await fund(services, FundAccount.CLEARING) == 0
    assert await fund(services, FundAccount.EXPENSE_NATIONAL) == 16_300
    assert await fund(services, FundAccount.EXPENSE_COUNTY) == 3_300
    assert await fund(services, FundAccount.ACCOUNT_PENSION) == 6_043
    await reconciled(services, run)


async def test_three_different_people(services: Services, rules: None, acting: ActorFor) -> None:
    await awarded(services, acting, 23, bank_account=ACCOUNT)
    with pytest.raises(DomainError, match="may not process"):
        await prepare(acting, JANUARY, who="finance")  # preparing is the agency's
    run = await prepare(acting, JANUARY)
    with pytest.raises(DomainError, match="may not review"):
        await review(acting, run, who="county.processor")
    with pytest.raises(DomainError) as caught:
        await review(acting, run, who="countyb.reviewer")  # another county's: not found
    assert caught.value.code is PayrollError.NOT_FOUND
    await review(acting, run)
    with pytest.raises(DomainError, match="may not process"):
        await release(acting, run, who="county.processor")  # releasing is finance's
    with pytest.raises(DomainError, match="may not process"):
        await release(acting, run, who="county.reviewer")
    await release(acting, run)
    async with acting("county.reviewer") as (actor, session):
        with pytest.raises(DomainError) as caught:
            await payroll.review(session, actor, run.id)
    assert caught.value.code is PayrollError.STATE
    with pytest.raises(DomainError) as caught:
        async with acting("county.processor") as (actor, session):
            await payroll.prepare(session, actor, COUNTY_B, JANUARY, today=date(2027, 1, 2))
    assert "may not process" in str(caught.value)


async def test_a_failed_payment_is_paid_again_once(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await awarded(services, acting, 24, bank_account=ACCOUNT)
    held = await awarded(services, acting, 25)
    run = await pay_out(acting, JANUARY)
    (line,) = [ln for ln in await lines_of(services, run) if ln.person_id == person.id]
    failed = await settle(acting, run, **{f"l{line.id}": "账户已销户"})
    assert (failed.paid, failed.failed) == (0, 1)
    assert await fund(services, FundAccount.RETURNED) == 26_843
    await reconciled(services, run)
    # the same result again is already recorded; the opposite one is refused
    async with acting("finance") as (actor, session):
        twice = await settlement.settle(
            session,
            actor,
            run.id,
            [BankResult(line.id, False, "账户已销户"), BankResult(line.id, True)],
            today=date(2027, 1, 20),
        )
    assert twice.already == 1 and [r.code for r in twice.refused] == [ResultError.TWICE]
    async with acting("finance") as (actor, session):
        contradicting = await settlement.settle(
            session, actor, run.id, [BankResult(line.id, True)], today=date(2027, 1, 20)
        )
    assert [r.code for r in contradicting.refused] == [ResultError.CONFLICT]

    # the township enters the held person's account; both are paid in a supplementary run
    async with services.db.transaction(SYSTEM) as session:
        await session.execute(
            update(Person).where(Person.id == held.id).values(bank_account=ACCOUNT[:-1] + "5")
        )
    async with acting("county.processor") as (actor, session):
        extra = await payroll.prepare_supplementary(
            session, actor, COUNTY_A, today=date(2027, 1, 25)
        )
    assert (extra.kind, extra.lines, extra.total) == ("supplementary", 2, 2 * 26_843)
    async with acting("county.processor") as (actor, session):
        with pytest.raises(DomainError) as caught:
            await payroll.prepare_supplementary(session, actor, COUNTY_A, today=date(2027, 1, 25))
    assert caught.value.code is PayrollError.NOTHING
    await review(acting, extra)
    await release(acting, extra)
    again = {ln.person_id: ln for ln in await lines_of(services, extra)}
    assert {ln.kind for ln in again.values()} == {LineKind.REISSUE.value}
    assert again[person.id].from_returned and not again[held.id].from_returned
    assert await fund(services, FundAccount.RETURNED) == 0
    async with services.db.session(SYSTEM) as session:
        debited = await session.scalar(
            select(func.count()).where(
                AccountEntry.person_id == person.id, AccountEntry.kind == EntryKind.PENSION.value
            )
        )
    assert debited == 2  # the first release only (two components): the money came back whole
    await settle(acting, extra)
    await reconciled(services, run)
    await reconciled(services, extra)
    assert await fund(services, FundAccount.ACCOUNT_PENSION) == 2 * 6_043


async def test_a_back_dated_increase_is_paid_as_arrears(
    services: Services, rules: None, acting: ActorFor
) -> None:
    await awarded(services, acting, 26, bank_account=ACCOUNT)
    for month in (JANUARY, JANUARY.next()):
        await settle(acting, await pay_out(acting, month))
    # in March the county raises its layer by 5 yuan from January
    raised = dict(COUNTY_RULES, basic_pension={**COUNTY_RULES["basic_pension"], "monthly": "8"})
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session, SYSTEM, PolicyFile(COUNTY_A, 2027, "县级提标", parse_params(raised))
        )
    march = await prepare(acting, Month(2027, 3))
    lines = await lines_of(services, march)
    assert [(ln.kind, ln.month, ln.basic_county, ln.amount) for ln in lines] == [
        ("regular", date(2027, 3, 1), 3_800, 27_343),
        ("arrears", date(2027, 1, 1), 500, 500),
        ("arrears", date(2027, 2, 1), 500, 500),
    ]
    await review(acting, march)
    await release(acting, march)
    await settle(acting, march)
    await reconciled(services, march)
    # April: nothing more is owed for January to March
    april = await prepare(acting, Month(2027, 4))
    assert [ln.kind for ln in await lines_of(services, april)] == ["regular"]


async def test_an_exhausted_account_is_paid_from_the_pool(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await awarded(services, acting, 27, bank_account=ACCOUNT)
    async with services.db.transaction(SYSTEM) as session:  # leave 30.00 in the account
        await post(
            session,
            person_id=person.id,
            region_code=person.region_code,
            credits=[
                Credit(Component.PERSONAL, -(750_000 - 2_000)),
                Credit(Component.SUBSIDY_PROVINCE, -(90_000 - 1_000)),
            ],
            kind=EntryKind.REVERSAL,
            value_date=date(2026, 12, 31),
            year=2026,
        )
    run = await pay_out(acting, JANUARY)
    (line,) = await lines_of(services, run)
    assert (line.from_account, line.from_pool, line.amount) == (3_000, 3_043, 26_843)
    await settle(acting, run)
    await reconciled(services, run)
    assert await fund(services, FundAccount.POOL) == -3_043
    assert await fund(services, FundAccount.ACCOUNT_PENSION) == 6_043
    february = await prepare(acting, JANUARY.next())
    (line,) = await lines_of(services, february)
    assert (line.from_account, line.from_pool) == (0, 6_043)
    assert RunState(february.state) is RunState.PREPARED


async def test_one_person_with_two_roles_takes_one_step_of_a_run(
    services: Services, world: World, rules: None, acting: ActorFor
) -> None:
    """Processing benefits and releasing payroll do not clash as roles (the grant is allowed),
    but whoever prepared a run cannot release it."""
    await awarded(services, acting, 28, bank_account=ACCOUNT)
    both = world.ids["nobody"]
    for role in ("agency_processor", "finance_officer"):
        await grant(acting, "perm.county", both, role, COUNTY_A)
    run = await prepare(acting, JANUARY, who="nobody")
    await review(acting, run)
    with pytest.raises(DomainError) as caught:
        await release(acting, run, who="nobody")
    assert caught.value.code is PayrollError.SAME_PERSON
    await release(acting, run)


async def test_a_tie_in_the_split_goes_to_the_component_first_by_name(
    services: Services, rules: None, acting: ActorFor
) -> None:
    """60.43 over three equal components: 20.14 each and the fen left over to the first in
    name order (collective) — on both databases, whichever way the split is computed."""
    person = await awarded(services, acting, 29, bank_account=ACCOUNT)
    async with services.db.transaction(SYSTEM) as session:
        await post(
            session,
            person_id=person.id,
            region_code=person.region_code,
            credits=[
                Credit(Component.PERSONAL, -690_000),
                Credit(Component.SUBSIDY_PROVINCE, -30_000),
                Credit(Component.COLLECTIVE, 60_000),
            ],
            kind=EntryKind.REVERSAL,
            value_date=date(2026, 12, 31),
            year=2026,
        )
    await pay_out(acting, JANUARY)
    async with services.db.session(SYSTEM) as session:
        debits = dict(
            (
                await session.execute(
                    select(AccountEntry.component, AccountEntry.amount).where(
                        AccountEntry.person_id == person.id,
                        AccountEntry.kind == EntryKind.PENSION.value,
                    )
                )
            ).all()
        )
        assert await check_ledger(session) == []
    assert debits == {"collective": -2_015, "personal": -2_014, "subsidy_province": -2_014}
