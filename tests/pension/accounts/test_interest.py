"""Annual interest (rulebook §5.6), reproducing the worked example to the fen."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from jubao.audit import AuditEvent
from jubao.errors import DomainError
from jubao.pension.accounts.contributions import (
    Channel,
    ContributionError,
    ContributionKind,
    CounterContribution,
    CounterForm,
    assess,
    book,
)
from jubao.pension.accounts.interest import InterestError, InterestRun, post_interest
from jubao.pension.accounts.ledger import AccountBalance, AccountEntry, EntryKind, check_ledger
from jubao.pension.accounts.money import Rounding, round_fraction
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import Hukou, PolicyBook
from jubao.platform.services import Services
from tests.helpers import PROVINCE, VILLAGE_A, VILLAGE_B, World
from tests.pension.support import SYSTEM, enrol, install_policy

TODAY = date(2026, 11, 23)


def unit_of_work(services: Services):  # type: ignore[no-untyped-def]
    return lambda: services.db.transaction(SYSTEM)


async def pay(
    services: Services, person: Person, year: int, paid_on: date, grade: int = 50000, **aid: int
) -> None:
    async with services.db.transaction(SYSTEM) as session:
        policy = await PolicyBook(session).for_region(person.region, year)
        assessment = assess(
            policy,
            grade=grade,
            hukou=Hukou(person.hukou),
            special_group=person.special_group,
            **aid,
        )
        await book(
            session,
            person,
            year,
            assessment,
            None,
            kind=ContributionKind.NORMAL,
            channel=Channel.COUNTER,
            paid_on=paid_on,
        )


async def total_balance(services: Services, person_id: int) -> int:
    async with services.db.session(SYSTEM) as session:
        return int(
            await session.scalar(
                select(func.sum(AccountBalance.balance)).where(
                    AccountBalance.person_id == person_id
                )
            )
            or 0
        )


@pytest.mark.parametrize(
    ("method", "interest", "balance", "pension"),
    [
        # A: the balance brought forward earns 1.5 %, this year's credits earn nothing
        ("A", {"rate": "0.015"}, 934200, 6721),
        # B: this year's credits (paid at the end of March) earn 9/12 of 1.5 % too
        (
            "B",
            {"rate": "0.015", "current_rate": "0.015", "current_year_credits": "months_remaining"},
            944709,
            6796,
        ),
    ],
)
async def test_the_rulebooks_worked_example(
    services: Services,
    world: World,
    method: str,
    interest: dict[str, str],
    balance: int,
    pension: int,
) -> None:
    """15 years of 500 + 60 at 1.5 %: 9,342.00 (A) and 9,447.09 (B); ÷139 = 67.21 / 67.96."""
    await install_policy(services, PROVINCE, 2009, interest=interest)
    person = await enrol(
        services, birth=date(1966, 5, 1), sequence=1, region=VILLAGE_A, enrolled_on=date(2011, 1, 5)
    )
    for year in range(2011, 2026):
        await pay(services, person, year, date(year, 3, 31))
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, year, today=TODAY)
    assert await total_balance(services, person.id) == balance
    assert round_fraction(balance, 139, Rounding.HALF_UP) == pension
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []
        by_component = dict(
            (
                await session.execute(
                    select(AccountBalance.component, AccountBalance.balance).where(
                        AccountBalance.person_id == person.id
                    )
                )
            ).all()
        )
    # booked per component: the personal money and the subsidy each earned their share
    assert set(by_component) == {"personal", "subsidy_province"}
    assert by_component["personal"] + by_component["subsidy_province"] == balance
    assert by_component["personal"] > 15 * 50000 and by_component["subsidy_province"] > 15 * 6000


async def test_a_year_is_posted_once(services: Services, world: World) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.02"})
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=2, region=VILLAGE_A, enrolled_on=date(2023, 2, 1)
    )
    await pay(services, person, 2023, date(2023, 2, 1))
    first = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2023, today=TODAY)
    assert (first.accounts, first.total) == (0, 0)  # money paid this year earns nothing (A)
    await pay(services, person, 2024, date(2024, 6, 1))
    second = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2024, today=TODAY)
    assert (second.accounts, second.total) == (1, 1120)  # 2 % of 560.00
    for again in (PROVINCE, VILLAGE_A):  # the province again, or a village inside it
        with pytest.raises(DomainError) as caught:
            await post_interest(unit_of_work(services), SYSTEM, again, 2024, today=TODAY)
        assert caught.value.code is InterestError.ALREADY_POSTED
        assert caught.value.params["run"] == second.run_id
    async with services.db.session(SYSTEM) as session:
        booked = await session.scalar(
            select(func.count())
            .select_from(AccountEntry)
            .where(AccountEntry.kind == EntryKind.INTEREST.value)
        )
        runs = await session.scalar(select(func.count()).select_from(InterestRun))
    assert booked == 2  # personal and subsidy, once
    assert runs == 2  # the refused attempts left no run behind


async def test_an_interrupted_run_is_completed_by_running_it_again(
    services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.02"})
    people = [
        await enrol(
            services,
            birth=date(1970, 1, 1),
            sequence=10 + n,
            region=VILLAGE_A,
            enrolled_on=date(2023, 2, 1),
        )
        for n in range(3)
    ]
    for person in people:
        await pay(services, person, 2023, date(2023, 2, 1))
    await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2023, today=TODAY)

    calls = 0

    def failing():  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls > 2:  # the run's set-up and the first chunk, then the database is gone
            raise ConnectionResetError
        return services.db.transaction(SYSTEM)

    with pytest.raises(ConnectionResetError):
        await post_interest(failing, SYSTEM, PROVINCE, 2024, today=TODAY, chunk=1)
    posted = [await total_balance(services, p.id) for p in people]
    assert sorted(posted) == [56000, 56000, 57120]  # one account has its 11.20
    async with services.db.session(SYSTEM) as session:
        [killed] = (
            await session.scalars(select(InterestRun).where(InterestRun.year == 2024))
        ).all()
    # the interrupted run's record states what it did (in the chunk's own transaction)
    assert (killed.accounts, killed.total, killed.finished_at) == (1, 1120, None)
    rest = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2024, today=TODAY)
    # completed, not begun anew: one record for the year, with everything it credited
    assert (rest.run_id, rest.accounts, rest.total) == (killed.id, 3, 3360)
    assert [await total_balance(services, p.id) for p in people] == [57120] * 3
    async with services.db.session(SYSTEM) as session:
        [run] = (await session.scalars(select(InterestRun).where(InterestRun.year == 2024))).all()
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.target == f"interest_run:{run.id}")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert (run.accounts, run.total, run.attempts) == (3, 3360, 2) and run.finished_at
    assert [e.action for e in events] == ["interest.start", "interest.resume", "interest.post"]
    assert (events[-1].detail["accounts"], events[-1].detail["total"]) == (3, 3360)
    with pytest.raises(DomainError) as caught:
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2024, today=TODAY)
    assert caught.value.code is InterestError.ALREADY_POSTED


async def test_components_add_up_to_the_account_and_jiao_rounding(
    services: Services, world: World
) -> None:
    await install_policy(
        services, PROVINCE, 2009, interest={"rate": "0.0173", "rounding": "jiao_up"}
    )
    people = [
        await enrol(
            services,
            birth=date(1960 + n, 1, 1),
            sequence=n,
            region=VILLAGE_A if n % 2 else VILLAGE_B,
            enrolled_on=date(2020, 1, 1),
        )
        for n in range(1, 8)
    ]
    for n, person in enumerate(people, start=1):
        await pay(
            services,
            person,
            2020,
            date(2020, 5, 1),
            grade=10000 * n,
            collective=300 * n,
            aid=70 * n,
        )
    await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2020, today=TODAY)
    result = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2021, today=TODAY)
    assert result.accounts == 7
    async with services.db.session(SYSTEM) as session:
        rows = (
            await session.execute(
                select(AccountEntry.person_id, func.sum(AccountEntry.amount))
                .where(AccountEntry.kind == EntryKind.INTEREST.value)
                .group_by(AccountEntry.person_id)
            )
        ).all()
        assert await check_ledger(session) == []
    rows = [(person_id, int(amount)) for person_id, amount in rows]  # SUM is NUMERIC on PostgreSQL
    for person_id, amount in rows:
        brought_forward = await total_balance(services, person_id) - amount
        exact_times_million = brought_forward * 17300
        assert amount == -(-exact_times_million // 10_000_000) * 10  # 见分进角, per account
        assert amount % 10 == 0
    assert sum(a for _, a in rows) == result.total


async def test_refusals(services: Services, world: World) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.015"})
    with pytest.raises(DomainError) as caught:
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2026, today=TODAY)
    assert caught.value.code is InterestError.YEAR_NOT_OVER
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=3, region=VILLAGE_A, enrolled_on=date(2020, 1, 1)
    )
    await pay(services, person, 2020, date(2020, 1, 1))
    with pytest.raises(DomainError) as caught:
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2022, today=TODAY)
    assert caught.value.code is InterestError.EARLIER_YEAR


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record_statement(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):
            seen.append(args[2])

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record_statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record_statement)


async def test_set_based_the_work_does_not_grow_with_the_accounts(
    services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.015"})
    counts = []
    for year, people in ((2020, 3), (2022, 30)):
        for n in range(people):
            person = await enrol(
                services,
                birth=date(1961, 1, 1 + n % 28),
                sequence=100 * year % 997 + n,
                region=VILLAGE_A,
                enrolled_on=date(year - 1, 1, 1),
            )
            await pay(services, person, year - 1, date(year - 1, 1, 1))
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, year - 1, today=TODAY)
        with statements(services) as seen:
            result = await post_interest(
                unit_of_work(services), SYSTEM, PROVINCE, year, today=TODAY
            )
        assert result.accounts == (3 if year == 2020 else 33)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


async def test_money_cannot_be_dated_into_a_year_already_closed(
    services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.02"})
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=2, region=VILLAGE_A, enrolled_on=date(2023, 2, 1)
    )
    await pay(services, person, 2023, date(2023, 2, 1))
    await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2023, today=TODAY)
    counter = {"person_id": person.id, "year": 2024, "grade": 50000}
    async with services.db.transaction(SYSTEM) as session:
        with pytest.raises(DomainError) as caught:  # dated in 2023, whose interest is posted
            await CounterContribution().prepare(
                session, SYSTEM, CounterForm(**counter, paid_on=date(2023, 12, 31)), TODAY
            )
        assert caught.value.code is ContributionError.INTEREST_CLOSED
        assert caught.value.message() == (
            "2023 年已结息，缴费日期 2023-12-31 不能再入账，最早为 2024-01-01"
        )
        placed = await CounterContribution().prepare(
            session, SYSTEM, CounterForm(**counter, paid_on=date(2024, 1, 2)), TODAY
        )
    assert placed.person_id == person.id


async def test_sharing_has_no_fixed_bias_between_components(
    services: Services, world: World
) -> None:
    """Item 15 of the review: city and county subsidies with the same credits drifted apart by
    a fen a year (the odd fen always went to the same level). Each component now stays within
    a fen of its exact proportional share of the account's interest, year after year."""
    rate = Fraction(173, 10_000)
    await install_policy(
        services,
        PROVINCE,
        2009,
        interest={"rate": "0.0173"},
        subsidy={
            "brackets": [{"grade": "100", "rural": "60", "urban": "60"}],
            "split": {"province": 2, "city": 1, "county": 1},
        },
    )
    person = await enrol(
        services, birth=date(1980, 5, 1), sequence=3, region=VILLAGE_A, enrolled_on=date(2005, 1, 5)
    )
    ideal: dict[str, Fraction] = {}
    booked: dict[str, int] = {}
    for year in range(2009, 2026):
        await pay(services, person, year, date(year, 3, 31), grade=30000)
        if year == 2009:
            continue
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, year - 1, today=TODAY)
        async with services.db.session(SYSTEM) as session:
            entries = (
                await session.execute(
                    select(
                        AccountEntry.component,
                        AccountEntry.kind,
                        AccountEntry.value_date,
                        AccountEntry.amount,
                    ).where(AccountEntry.person_id == person.id)
                )
            ).all()
        # the year's exact interest on the balance brought forward, and the account's share
        # of it (rounded half up), split in proportion to what each component earned
        prior: dict[str, int] = {}
        for component, _, value_date, amount in entries:
            if value_date < date(year - 1, 1, 1):
                prior[component] = prior.get(component, 0) + amount
        exact = {c: b * rate for c, b in prior.items() if b}
        if exact:
            account = int(sum(exact.values()) + Fraction(1, 2))
            for component, amount in exact.items():
                share = account * amount / sum(exact.values())
                ideal[component] = ideal.get(component, Fraction(0)) + share
        booked = {}
        for component, kind, _, amount in entries:
            if kind == EntryKind.INTEREST.value:
                booked[component] = booked.get(component, 0) + amount
        for component, interest in booked.items():
            assert abs(interest - ideal[component]) < 1, (year, component, interest, ideal)
    assert abs(booked["subsidy_city"] - booked["subsidy_county"]) <= 1
    assert booked["subsidy_city"] > 0
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []


async def test_a_run_crossing_another_stops_with_a_message(
    services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of one year at once: the unique index lets only one credit an account; the
    other stops with a message saying to run it again, not with a unique-violation trace."""
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.02"})
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=5, region=VILLAGE_A, enrolled_on=date(2020, 1, 1)
    )
    await pay(services, person, 2020, date(2020, 3, 1))

    async def crossed(*args: Any) -> None:
        raise IntegrityError("INSERT …", {}, Exception("uq_account_entry_interest"))

    monkeypatch.setattr("jubao.pension.accounts.interest._book_chunk", crossed)
    with pytest.raises(DomainError) as caught:
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2020, today=TODAY)
    assert caught.value.code is InterestError.CONCURRENT
    assert "重新运行即可完成" in caught.value.message()
