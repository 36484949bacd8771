"""Annual interest speed: one year's interest for 1,000,000 accounts on PostgreSQL (≤ 60 s).

    python -m bench.interest_bench [--accounts 1000000] [--backend postgresql]

Builds the accounts directly in SQL (two years of contributions, two components each, spread
over 50,000 villages), then times ``post_interest`` for the second year — the same code
``jubao interest post`` runs — and then ``jubao ledger check`` (every transaction balanced, every
balance equal to its legs).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date

from sqlalchemy import text

from bench.common import SYSTEM, fresh_database, load_regions
from jubao.pension.accounts.interest import post_interest
from jubao.pension.accounts.ledger import check_ledger
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.tenants.codes import RegionCode
from tests.pension.support import national_with

PROVINCE = RegionCode("410000000000")

BUILD = [
    # people: one per row of the series, spread over the villages
    """INSERT INTO person (id, id_number, name, sex, birth_date, ethnicity, hukou, region_code,
         address, grade, status, enrolled_on, created_at, updated_at, version)
       SELECT i, 'B' || lpad(i::text, 17, '0'), '测试', 1 + i % 2,
              DATE '1960-01-01' + (i % 9000), '01', 'rural',
              villages[1 + i % cardinality(villages)], '某村', 50000,
              'contributing', DATE '2023-06-01', now(), now(), 1
       FROM generate_series(1, :n) AS i, (SELECT CAST(:villages AS text[]) AS villages) AS v""",
    # two years of 500 + 60, paid in March 2024 and April 2025: a transaction each, its two
    # person legs and their mirrors on the income accounts
    """INSERT INTO ledger_txn (id, kind, region_code, value_date, year, booked_at)
       SELECT p.id * 2 + y.year - 2024, 'contribution', p.region_code, y.paid, y.year, now()
       FROM person p
       CROSS JOIN (VALUES (2024, DATE '2024-03-01'), (2025, DATE '2025-04-01')) AS y(year, paid)""",
    "SELECT setval(pg_get_serial_sequence('ledger_txn', 'id'), (SELECT max(id) FROM ledger_txn))",
    """INSERT INTO account_entry (txn_id, person_id, region_code, component, kind, amount,
         value_date, year, booked_at)
       SELECT p.id * 2 + y.year - 2024, p.id, p.region_code, c.component, 'contribution',
              c.amount, y.paid, y.year, now()
       FROM person p
       CROSS JOIN (VALUES ('personal', 50000), ('subsidy_province', 6000)) AS c(component, amount)
       CROSS JOIN (VALUES (2024, DATE '2024-03-01'), (2025, DATE '2025-04-01')) AS y(year, paid)""",
    """INSERT INTO fund_entry (txn_id, region_code, account, amount, value_date, year)
       SELECT txn_id, region_code, 'income.' || component, -amount, value_date, year
       FROM account_entry""",
    """INSERT INTO account_balance (person_id, component, region_code, balance)
       SELECT person_id, component, min(region_code), sum(amount)
       FROM account_entry GROUP BY person_id, component""",
    # last year's (empty) run, so that this year's may follow it
    """INSERT INTO interest_run (year, region_code, actor, started_at, finished_at, accounts, total)
       VALUES (2024, '410000000000', 'bench', now(), now(), 0, 0)""",
    "ANALYZE",
]


async def bench(backend: str, accounts: int, parallel: int) -> None:
    async with fresh_database(backend) as services:
        villages = [v for v in await load_regions(services, (10, 10, 20, 25)) if len(v) == 12]
        villages = [v for v in villages if v[9:] != "000"]
        params = national_with(
            interest={
                "rate": "0.015",
                "current_rate": "0.015",
                "current_year_credits": "months_remaining",
            }
        )
        async with services.db.transaction(SYSTEM) as session:
            await save_policy(
                session, SYSTEM, PolicyFile(PROVINCE, 2014, "bench", parse_params(params))
            )
        started = time.perf_counter()
        async with services.db.engine.begin() as connection:
            for statement in BUILD[:-1]:
                await connection.execute(text(statement), {"n": accounts, "villages": villages})
        async with services.db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(BUILD[-1]))
        built = time.perf_counter() - started
        print(f"{backend}: built {accounts:,} accounts (4 entries each) in {built:.1f} s")

        started = time.perf_counter()
        result = await post_interest(
            lambda: services.db.transaction(SYSTEM),
            SYSTEM,
            PROVINCE,
            2025,
            today=date(2026, 1, 10),
            parallel=parallel,
        )
        elapsed = time.perf_counter() - started
        print(
            f"interest for 2025: {result.accounts:,} accounts, {result.total / 100:,.2f} yuan "
            f"in {elapsed:.1f} s ({result.accounts / elapsed:,.0f} accounts/s, "
            f"{parallel} chunk(s) at a time)"
        )
        # each account: 560 brought forward at 1.5 % = 8.40, and 560 held 8 months = 5.60
        assert result.accounts == accounts, result
        assert result.total == accounts * 1400, result

        started = time.perf_counter()
        async with services.db.session(SYSTEM) as session:
            problems = await check_ledger(session)
        print(
            f"ledger check: {len(problems)} discrepancies in {time.perf_counter() - started:.1f} s"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--backend", default="postgresql")
    parser.add_argument("--parallel", type=int, default=2, help="chunks at a time")
    args = parser.parse_args()
    await bench(args.backend, args.accounts, args.parallel)


if __name__ == "__main__":
    asyncio.run(main())
