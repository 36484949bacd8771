"""注销: deaths, what the heirs are paid, what is recovered — to the fen, the ledger balanced."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jubao.errors import DomainError
from jubao.pension.accounts.ledger import (
    AccountBalance,
    Component,
    Credit,
    EntryKind,
    FundAccount,
    check_ledger,
    post,
)
from jubao.pension.benefits import payroll
from jubao.pension.benefits.bank_files import export_run
from jubao.pension.benefits.payroll import PayrollRun
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.month import Month
from jubao.pension.people.dated_lists import DatedListError
from jubao.pension.people.persons import Person, PersonStatus
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.pension.termination.deaths import (
    DeathFileError,
    DeathSource,
    import_deaths,
    suspected_statement,
)
from jubao.pension.termination.payouts import Payout, prepare_payouts
from jubao.pension.termination.recovery import RecoveryOrder
from jubao.pension.termination.termination import Termination, TerminationError
from jubao.pension.workflow.applications import Kind
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A
from tests.pension.benefits.support import contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_award import decide as decide_award
from tests.pension.benefits.test_award import submit as submit_award
from tests.pension.benefits.test_payroll import (
    ACCOUNT,
    awarded,
    fund,
    lines_of,
    pay_out,
    reconciled,
    review,
    settle,
)
from tests.pension.entitlement.test_pauses import decide, submit, verify
from tests.pension.support import SYSTEM

HEIR = {
    "name": "李建国",
    "id_number": "410121197005050011",
    "relation": "子女",
    "bank_account": "6228480000000009017",
    "proof": "（2030）豫郑证字第 118 号继承公证书",
}


async def county(services: Services, **sections: Any) -> None:
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session, SYSTEM, PolicyFile(COUNTY_A, 2026, "县级注销政策", parse_params(sections))
        )


async def paid(acting: ActorFor, month: Month) -> PayrollRun:
    run = await pay_out(acting, month)
    await settle(acting, run)
    return run


async def terminate(acting: ActorFor, person: Person, today: date, **form: Any) -> dict[str, Any]:
    application = await submit(
        acting,
        "village.assistant",
        Kind.TERMINATION,
        {"person_id": person.id, "proof": "居民死亡医学证明（推断）书", **form},
        today,
    )
    await decide(acting, "township.reviewer", application.id, today)
    done = await decide(acting, "county.reviewer", application.id, today)
    assert done.result is not None
    return done.result


async def fuzhou(services: Services, acting: ActorFor, sequence: int) -> Person:
    """An account of 13,900.00 at award, 20 % of each … in subsidies: 100.00 a month."""
    person = await contributor(
        services, date(1966, 12, 10), sequence, range(2011, 2026), bank_account=ACCOUNT
    )
    async with services.db.transaction(SYSTEM) as session:
        await post(
            session,
            person_id=person.id,
            region_code=person.region_code,
            credits=[
                Credit(Component.PERSONAL, 1_112_000 - 750_000),
                Credit(Component.SUBSIDY_PROVINCE, 278_000 - 90_000),
            ],
            kind=EntryKind.CONTRIBUTION,
            value_date=date(2026, 6, 30),
            year=2026,
        )
    application = await submit_award(
        acting, "village.assistant", Kind.AWARD, {"person_id": person.id}
    )
    await decide_award(acting, "township.reviewer", application.id)
    await decide_award(acting, "county.reviewer", application.id)
    return person


async def balances(services: Services, person: Person) -> dict[str, int]:
    async with services.db.session(SYSTEM) as session:
        rows = await session.execute(
            select(AccountBalance.component, AccountBalance.balance).where(
                AccountBalance.person_id == person.id
            )
        )
    return {c: b for c, b in rows if b}


async def test_the_fuzhou_example_under_both_rules_and_the_heirs_paid_through_the_bank(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    # Qingzhou's funeral grant; the 2009 rule for deaths before 15 March 2030 (a date chosen
    # so that both rules meet one story)
    await county(
        services,
        entitlement={"cycle_months": 36},
        termination={
            "funeral": {"rule": "fixed", "amount": "500"},
            "death_rule_from": "2030-03-15",
        },
    )
    late, early = [await fuzhou(services, acting, n) for n in (101, 102)]
    month = Month(2027, 1)
    for _ in range(39):  # January 2027 – March 2030: 39 payments of 100.00 from the account
        if month == Month(2029, 6):
            for person in (late, early):
                await verify(acting, person, date(2029, 6, 3))
        await paid(acting, month)
        month = month.next()
    assert await balances(services, late) == {"personal": 800_000, "subsidy_province": 200_000}

    after = await terminate(
        acting, late, date(2030, 3, 25), reason="death", died_on="2030-03-20", payee=HEIR
    )
    before = await terminate(
        acting, early, date(2030, 3, 25), reason="death", died_on="2030-03-10", payee=HEIR
    )
    # 13,900.00 − 39 × 100.00 = 10,000.00 to the heirs, and the grant of 500.00
    assert (after["refund"], after["to_pool"], after["funeral"], after["payout"]) == (
        1_000_000,
        0,
        50_000,
        1_050_000,
    )
    # the 2009 rule: 8,000.00 to the heirs, the subsidies' 2,000.00 back to the pool
    assert (before["refund"], before["to_pool"], before["payout"]) == (800_000, 200_000, 850_000)
    assert await balances(services, late) == {} == await balances(services, early)

    async with acting("county.processor") as (actor, session):
        run = await prepare_payouts(session, actor, COUNTY_A, today=date(2030, 4, 2))
    assert (run.lines, run.total) == (2, 1_900_000)
    await review(acting, run)
    async with acting("finance") as (actor, session):
        await payroll.release(session, actor, run.id, today=date(2030, 4, 2))
    async with acting("finance") as (actor, session):
        written = await export_run(session, actor, run.id, tmp_path / "heirs.csv")
    assert written.lines == 2
    sent = (tmp_path / "heirs.csv").read_text(encoding="utf-8")
    assert sent.count("李建国") == 2 and "410121197005050011" in sent
    # the bank cannot pay one of them the first time: paid again in a supplementary run
    first, _ = await lines_of(services, run)
    await settle(acting, run, **{f"l{first.id}": "户名与账号不符"})
    assert await fund(services, FundAccount.REFUND) == 1_800_000 - first.amount + 50_000
    async with acting("county.processor") as (actor, session):
        again = await payroll.prepare_supplementary(
            session, actor, COUNTY_A, today=date(2030, 4, 12)
        )
    assert (again.lines, again.total) == (1, first.amount)
    await review(acting, again)
    async with acting("finance") as (actor, session):
        await payroll.release(session, actor, again.id, today=date(2030, 4, 12))
    await settle(acting, again)
    [reissued] = await lines_of(services, again)
    assert (reissued.payee_name, reissued.bank_account) == ("李建国", HEIR["bank_account"])
    await reconciled(services, run)
    await reconciled(services, again)
    assert await fund(services, FundAccount.REFUND) == 1_800_000
    assert await fund(services, FundAccount.FUNERAL) == 100_000
    assert await fund(services, FundAccount.PAYOUT) == 0
    async with services.db.session(SYSTEM) as session:
        people = list(await session.scalars(select(Person).where(Person.id.in_([late.id]))))
        assert people[0].current_status is PersonStatus.TERMINATED
        payouts = list(await session.scalars(select(Payout)))
        assert all(p.line_id is not None for p in payouts)
    # nothing more to pay: a second one-off run is refused
    with pytest.raises(DomainError):
        async with acting("county.processor") as (actor, session):
            await prepare_payouts(session, actor, COUNTY_A, today=date(2030, 4, 3))


async def test_a_death_found_in_the_cremation_file_and_the_overpayment_recovered(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    await county(services, termination={"fraud_fine": 3})
    dead = await awarded(services, acting, 103, bank_account=ACCOUNT)
    await awarded(services, acting, 104, bank_account=ACCOUNT)  # alive, paid on
    for month in (1, 2, 3):  # paid for January, February, March; died on 20 January
        await paid(acting, Month(2027, month))
    cremations = tmp_path / "huohua.csv"
    cremations.write_text(f"身份证号码,火化日期\n{dead.id_number},2027-01-20\n", encoding="utf-8")
    async with acting("county.processor") as (actor, session):
        found = await import_deaths(
            session, actor, cremations, DeathSource.CIVIL, today=date(2027, 4, 3)
        )
    assert (found.reported, found.paused) == (1, 1)
    april = await paid(acting, Month(2027, 4))
    assert april.lines == 1  # paused at once: only the one alive is paid
    async with services.db.session(SYSTEM) as session:
        hold = await session.scalar(select(BenefitHold).where(BenefitHold.person_id == dead.id))
        assert hold is not None and (hold.reason, hold.start) == ("suspected_death", Month(2027, 4))

    with pytest.raises(DomainError) as caught:  # money to pay and nobody named
        await terminate(acting, dead, date(2027, 4, 10), reason="death", died_on="2027-01-20")
    assert caught.value.code is TerminationError.PAYEE
    done = await terminate(
        acting,
        dead,
        date(2027, 4, 10),
        reason="death",
        died_on="2027-01-20",
        payee=HEIR,
        fraud=True,
    )
    # February and March, 268.43 each, were not due: taken from the 8,400.00 − 3 × 60.43
    assert (done["overpaid"], done["recovered"], done["refund"]) == (53_686, 53_686, 821_871)
    assert done["payout"] == 821_871 - 53_686
    # the fraud's fine (3 ×) stays owed: it is never taken from the heirs
    assert done["owed"] == 3 * 53_686
    async with services.db.session(SYSTEM) as session:
        order = await session.scalar(select(RecoveryOrder))
        assert order is not None and (order.overpaid, order.fine, order.recovered) == (
            53_686,
            161_058,
            53_686,
        )
    repaid = await submit(
        acting,
        "county.processor",
        Kind.RECOVERY_REPAYMENT,
        {"person_id": dead.id, "order_id": order.id, "amount": 161_058, "note": "收据 0031"},
        date(2027, 4, 20),
    )
    settled = await decide(acting, "county.reviewer", repaid.id, date(2027, 4, 20))
    assert settled.result is not None and settled.result["outstanding"] == 0
    assert await fund(services, FundAccount.RECOVERED) == 53_686
    assert await fund(services, FundAccount.FINES) == 161_058
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []
    # and it changes nothing to import the file again
    async with acting("county.processor") as (actor, session):
        again = await import_deaths(
            session, actor, cremations, DeathSource.CIVIL, today=date(2027, 4, 30)
        )
    assert (again.reported, again.paused, again.not_ours) == (0, 0, 1)


async def test_a_pension_from_the_employees_scheme_clears_this_one(
    services: Services, rules: None, acting: ActorFor
) -> None:
    person = await awarded(services, acting, 105, bank_account=ACCOUNT)
    for month in (1, 2, 3):
        await paid(acting, Month(2027, month))
    held = await balances(services, person)
    done = await terminate(
        acting,
        person,
        date(2027, 4, 6),
        reason="other_pension",
        payee={**HEIR, "name": person.name, "id_number": person.id_number, "relation": "本人"},
    )
    # the basic pension received (3 × 208.00) is recovered from the balance without subsidies
    assert (done["refund"], done["to_pool"], done["overpaid"]) == (
        held["personal"],
        held["subsidy_province"],
        62_400,
    )
    assert done["payout"] == held["personal"] - 62_400 and done["owed"] == 0


async def test_death_files_are_checked_and_all_or_nothing_changes_nothing(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    person = await awarded(services, acting, 106, bank_account=ACCOUNT)
    paying = await contributor(services, date(1975, 5, 5), 107, range(2011, 2026))
    police = tmp_path / "zhuxiao.csv"
    police.write_text(
        "身份证号码,注销日期\n"
        f"{person.id_number},2027-02-02\n"
        f"{paying.id_number},2027-02-03\n"
        f"{person.id_number},2027-02-02\n"
        "410121197005050011,2099-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(DomainError) as caught:
        async with acting("county.processor") as (actor, session):
            await import_deaths(
                session,
                actor,
                police,
                DeathSource.POLICE,
                today=date(2027, 2, 10),
                all_or_nothing=True,
            )
    assert caught.value.code is DeathFileError.REJECTED
    async with services.db.session(SYSTEM) as session:
        assert (await session.get(Person, person.id)).status == "receiving"  # type: ignore[union-attr]
    async with acting("county.processor") as (actor, session):
        found = await import_deaths(
            session, actor, police, DeathSource.POLICE, today=date(2027, 2, 10)
        )
    assert (found.reported, found.paused) == (2, 1)
    async with acting("township.processor") as (_, session):
        suspected = await session.scalars(suspected_statement(COUNTY_A))
        assert sorted(p.id for p in suspected) == sorted((person.id, paying.id))
    assert [(line, e.code) for line, e in found.rejected] == [
        (4, DatedListError.DUPLICATE),
        (5, DatedListError.DATE),
    ]
    async with services.db.session(SYSTEM) as session:
        assert (await session.get(Person, person.id)).status == "benefit_suspended"  # type: ignore[union-attr]
        assert (await session.get(Person, paying.id)).status == "contributing"  # type: ignore[union-attr]
    # an outsider's import names nobody and changes nothing
    async with acting("village.neighbour") as (actor, session):
        elsewhere = await import_deaths(
            session, actor, police, DeathSource.CIVIL, today=date(2027, 2, 10)
        )
    assert (elsewhere.reported, elsewhere.not_ours) == (0, 2)
    async with services.db.session(SYSTEM) as session:
        terminations = list(await session.scalars(select(Termination)))
    assert terminations == []


async def test_a_local_reason_pays_what_its_policy_says(
    services: Services, rules: None, acting: ActorFor
) -> None:
    # Sichuan: 到龄缴费不足15年, the whole balance refunded
    await county(
        services,
        termination={
            "local_reasons": [{"code": "short_years", "name": "到龄缴费不足15年", "refund": "all"}]
        },
    )
    person = await contributor(
        services, date(1966, 12, 10), 108, range(2015, 2026), bank_account=ACCOUNT
    )
    me = {**HEIR, "name": person.name, "id_number": person.id_number, "relation": "本人"}
    for wrong in ({}, {"local_reason": "emigrated"}):
        with pytest.raises(DomainError) as caught:
            await terminate(acting, person, date(2027, 1, 8), reason="local", payee=me, **wrong)
        assert caught.value.code is TerminationError.LOCAL_REASON
    done = await terminate(
        acting, person, date(2027, 1, 8), reason="local", local_reason="short_years", payee=me
    )
    held = 11 * (50_000 + 6_000)  # 11 years of 500 + 60
    assert (done["refund"], done["to_pool"], done["payout"]) == (held, 0, held)
