"""The ledger in balanced transactions: person legs, their mirrors on the fund's accounts, the
check that proves both, and the migration that turned single entries into transactions."""

from datetime import date
from itertools import count

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from jubao.pension.accounts.interest import post_interest
from jubao.pension.accounts.ledger import (
    AccountBalance,
    AccountEntry,
    Component,
    Credit,
    EntryKind,
    FundAccount,
    FundEntry,
    LedgerTxn,
    Unbalanced,
    check_ledger,
    post,
)
from jubao.platform.migrate import alembic_config, check_schema_current, schema_change
from jubao.platform.services import Services
from tests.helpers import PROVINCE, VILLAGE_A, VILLAGE_B, World
from tests.pension.accounts.test_interest import TODAY, pay, unit_of_work
from tests.pension.support import SYSTEM, enrol, install_policy


async def fund_sums(services: Services) -> dict[tuple[str, str], int]:
    async with services.db.session(SYSTEM) as session:
        rows = await session.execute(
            select(FundEntry.region_code, FundEntry.account, func.sum(FundEntry.amount)).group_by(
                FundEntry.region_code, FundEntry.account
            )
        )
        return {(region, account): int(amount) for region, account, amount in rows}


async def test_a_contribution_is_mirrored_on_the_income_accounts(
    services: Services, world: World
) -> None:
    """500 of the person's, the subsidies and 100 from the village: each component's credit
    comes out of its own income account, in the person's village."""
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=3, region=VILLAGE_A, enrolled_on=date(2024, 1, 5)
    )
    await pay(services, person, 2024, date(2024, 3, 1), collective=10000)
    async with services.db.session(SYSTEM) as session:
        txn = await session.scalar(select(LedgerTxn).where(LedgerTxn.region_code == VILLAGE_A.code))
        assert txn is not None and txn.kind == EntryKind.CONTRIBUTION
        legs = dict(
            (await session.execute(select(AccountEntry.component, AccountEntry.amount))).all()
        )
        mirrors = dict(
            (
                await session.execute(
                    select(FundEntry.account, FundEntry.amount).where(FundEntry.txn_id == txn.id)
                )
            ).all()
        )
    assert legs["personal"] == 50000 and legs["collective"] == 10000
    assert mirrors == {Component(c).income.value: -amount for c, amount in legs.items()}
    assert await fund_sums(services) == {
        (VILLAGE_A.code, account): amount for account, amount in mirrors.items()
    }


async def test_interest_is_one_transaction_per_chunk_with_a_mirror_per_village(
    services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.015"})
    people = [
        await enrol(
            services,
            birth=date(1970, 1, 1),
            sequence=n,
            region=region,
            enrolled_on=date(2023, 1, 5),
        )
        for n, region in ((4, VILLAGE_A), (5, VILLAGE_B))
    ]
    for person in people:
        await pay(services, person, 2023, date(2023, 3, 31))
    # this year's credits earn nothing (method A): no transaction at all
    nothing = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2023, today=TODAY)
    result = await post_interest(unit_of_work(services), SYSTEM, PROVINCE, 2024, today=TODAY)
    async with services.db.session(SYSTEM) as session:
        txns = (
            await session.scalars(select(LedgerTxn).where(LedgerTxn.kind == EntryKind.INTEREST))
        ).all()
        mirrored = dict(
            (
                await session.execute(
                    select(FundEntry.region_code, FundEntry.amount).where(
                        FundEntry.account == FundAccount.INTEREST.value
                    )
                )
            ).all()
        )
        earned = dict(
            (
                await session.execute(
                    select(AccountEntry.region_code, func.sum(AccountEntry.amount))
                    .where(AccountEntry.kind == EntryKind.INTEREST)
                    .group_by(AccountEntry.region_code)
                )
            ).all()
        )
        assert await check_ledger(session) == []
    assert nothing.total == 0 and result.total > 0
    assert [(t.region_code, t.year, t.interest_run_id) for t in txns] == [
        (PROVINCE.code, 2024, result.run_id)
    ]
    assert mirrored == {code: -int(amount) for code, amount in earned.items()}
    assert set(mirrored) == {VILLAGE_A.code, VILLAGE_B.code}
    assert -sum(mirrored.values()) == result.total


async def test_the_check_finds_a_transaction_that_does_not_balance(
    services: Services, world: World
) -> None:
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=6, region=VILLAGE_A, enrolled_on=date(2024, 1, 5)
    )
    await pay(services, person, 2024, date(2024, 3, 1))
    async with services.db.transaction(SYSTEM) as session:
        txn_id = await session.scalar(select(func.max(LedgerTxn.id)))
        await session.execute(
            insert(FundEntry).values(
                txn_id=txn_id,
                region_code=VILLAGE_A.code,
                account=FundAccount.PERSONAL.value,
                amount=-1,
                value_date=date(2024, 3, 1),
                year=2024,
            )
        )
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == [Unbalanced(txn_id, -1)]


amounts = st.integers(min_value=-500_000, max_value=500_000)
postings = st.lists(
    st.lists(st.tuples(st.sampled_from(list(Component)), amounts), min_size=1, max_size=4),
    min_size=1,
    max_size=6,
)
sequences = count(100)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(postings=postings)
async def test_any_postings_keep_every_transaction_at_zero(
    services: Services, world: World, postings: list[list[tuple[Component, int]]]
) -> None:
    """Whatever is posted (debits and zeros too): every transaction sums to zero, the balances
    are the sums of the person legs, and each income account gave exactly what its component
    received."""
    person = await enrol(
        services,
        birth=date(1971, 7, 13),
        sequence=next(sequences) % 1000,
        region=VILLAGE_B,
        enrolled_on=date(2024, 1, 5),
    )
    expected = dict.fromkeys(Component, 0)
    for credits in postings:
        async with services.db.transaction(SYSTEM) as session:
            await post(
                session,
                person_id=person.id,
                region_code=person.region_code,
                credits=[Credit(component, amount) for component, amount in credits],
                kind=EntryKind.REVERSAL,
                value_date=date(2024, 6, 1),
                year=2024,
            )
        for component, amount in credits:
            expected[component] += amount
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []
        stored = dict(
            (
                await session.execute(
                    select(AccountBalance.component, AccountBalance.balance).where(
                        AccountBalance.person_id == person.id
                    )
                )
            ).all()
        )
        given_out = dict(
            (
                await session.execute(
                    select(FundEntry.account, func.sum(FundEntry.amount))
                    .where(
                        FundEntry.txn_id.in_(
                            select(AccountEntry.txn_id).where(AccountEntry.person_id == person.id)
                        )
                    )
                    .group_by(FundEntry.account)
                )
            ).all()
        )
    assert {c: stored.get(c.value, 0) for c in Component} == expected
    assert {c: -int(given_out.get(c.income.value, 0)) for c in Component} == expected


async def test_the_migration_makes_transactions_of_the_entries_it_finds(
    services: Services, world: World
) -> None:
    """Entries written before double entry (contributions, a reversal, a year's interest)
    become person legs of balanced transactions, mirrored on the income accounts: nothing
    lost, nothing added, every sum the same."""
    await install_policy(services, PROVINCE, 2009, interest={"rate": "0.015"})
    people = [
        await enrol(
            services,
            birth=date(1968, 1, 1),
            sequence=n,
            region=region,
            enrolled_on=date(2022, 1, 5),
        )
        for n, region in ((7, VILLAGE_A), (8, VILLAGE_A), (9, VILLAGE_B))
    ]
    for year in (2022, 2023):
        for person in people:
            await pay(services, person, year, date(year, 4, 1), collective=2000)
        await post_interest(unit_of_work(services), SYSTEM, PROVINCE, year, today=TODAY)
    async with services.db.transaction(SYSTEM) as session:
        await post(
            session,
            person_id=people[0].id,
            region_code=people[0].region_code,
            credits=[Credit(Component.PERSONAL, -1234), Credit(Component.COLLECTIVE, 1234)],
            kind=EntryKind.REVERSAL,
            value_date=date(2024, 2, 1),
            year=2023,
            memo="冲正",
        )

    async def snapshot() -> tuple[list[tuple[int, int]], dict[tuple[str, str], int], int]:
        async with services.db.session(SYSTEM) as session:
            entries = (
                await session.execute(
                    select(AccountEntry.id, AccountEntry.amount).order_by(AccountEntry.id)
                )
            ).all()
            balance = await session.scalar(select(func.sum(AccountBalance.balance)))
        return [tuple(e) for e in entries], await fund_sums(services), int(balance)

    before = await snapshot()

    def down(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0010_benefit_awards")

    def up(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with services.db.engine.connect() as connection:
        await connection.run_sync(schema_change, down)
        entries = await connection.scalar(text("SELECT COUNT(*) FROM account_entry"))
        assert entries == len(before[0])
        await connection.commit()
        await connection.run_sync(schema_change, up)
    await check_schema_current(services.db)
    after = await snapshot()
    assert after == before
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []
        reversal = (
            await session.execute(
                select(FundEntry.account, FundEntry.amount)
                .join(LedgerTxn, LedgerTxn.id == FundEntry.txn_id)
                .where(LedgerTxn.kind == EntryKind.REVERSAL, LedgerTxn.memo == "冲正")
                .order_by(FundEntry.account)
            )
        ).all()
    assert [tuple(r) for r in reversal] == [
        (FundAccount.COLLECTIVE.value, -1234),
        (FundAccount.PERSONAL.value, 1234),
    ]
    # the tables refuse edits again
    async with services.db.engine.connect() as connection:
        for table in ("account_entry", "ledger_txn", "fund_entry"):
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
            await connection.rollback()
