"""Monthly payroll speed for a province: prepare, release, bank file out, results back in.

    python -m bench.payroll_bench [--recipients 1000000] [--backend postgresql] [--workers 2]

Builds the recipients directly in SQL (awarded in 2026 with an account of 8,400.00 in two
components and the national basic pension, spread over the villages of 100 counties, one in
fifty without a bank account), then times, with the same code the API and `jubao payroll` run:

- prepare: every county's January 2027 run, the counties shared by ``--workers`` processes;
- release: each run reviewed and released (the ledger transaction with its account debits);
- export: every run's bank file, written as it is read (the peak memory of the process is
  printed beside the count: it does not grow with the lines);
- import: the bank's results for every line back in, and the ledger check.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from bench.common import (
    AWARD_CLAIM,
    AWARDS,
    RECIPIENTS,
    SYSTEM,
    fresh_database,
    load_regions,
    settings,
)
from jubao.authz.actor import Actor
from jubao.errors import DomainError, Lang
from jubao.pension.accounts.ledger import check_ledger
from jubao.pension.benefits import payroll
from jubao.pension.benefits.bank_files import export_run, import_results
from jubao.pension.benefits.payroll import PayrollRun
from jubao.pension.benefits.reconciliation import reconcile
from jubao.pension.month import Month
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode

JANUARY = Month(2027, 1)
TODAY = date(2027, 1, 5)
# three operators: the steps of a run are taken by three different people
PREPARER, REVIEWER, RELEASER = (Actor(n, f"bench {n}", None) for n in (1, 2, 3))

BUILD = [
    AWARD_CLAIM,
    # verified in December 2026: nobody's cycle ends before the run
    RECIPIENTS.replace("{cycle_start}", "DATE '2027-01-01'"),
    AWARDS.replace("{which}", "true"),
    # the account as one transaction per person: its two legs, their mirrors, the balances
    """INSERT INTO ledger_txn (id, kind, region_code, value_date, year, booked_at)
       SELECT id, 'contribution', region_code, DATE '2025-06-30', 2025, now() FROM person""",
    "SELECT setval(pg_get_serial_sequence('ledger_txn', 'id'), (SELECT max(id) FROM ledger_txn))",
    """INSERT INTO account_entry (txn_id, person_id, region_code, component, kind, amount,
         value_date, year, booked_at)
       SELECT p.id, p.id, p.region_code, c.component, 'contribution', c.amount,
              DATE '2025-06-30', 2025, now()
       FROM person p
       CROSS JOIN (VALUES ('personal', 750000), ('subsidy_province', 90000))
         AS c(component, amount)""",
    """INSERT INTO fund_entry (txn_id, region_code, account, amount, value_date, year)
       SELECT txn_id, region_code, 'income.' || component, -amount, value_date, year
       FROM account_entry""",
    """INSERT INTO account_balance (person_id, component, region_code, balance)
       SELECT person_id, component, region_code, amount FROM account_entry""",
    "ANALYZE",
]


async def build(services: Services, recipients: int) -> list[str]:
    villages = [v for v in await load_regions(services, (10, 10, 20, 25)) if v[9:] != "000"]
    async with services.db.engine.begin() as connection:
        for statement in BUILD[:-1]:
            await connection.execute(text(statement), {"n": recipients, "villages": villages})
    async with services.db.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(BUILD[-1]))
    async with services.db.session(SYSTEM) as session:
        return [c.code for c in await payroll.counties_under(session, RegionCode("410000000000"))]


def prepare_share(url: str, counties: list[str]) -> tuple[int, float]:
    """One worker process: prepare its share of the counties, one transaction each."""

    async def work() -> int:
        services = Services.create(settings(url))
        lines = 0
        try:
            for county in counties:
                async with services.db.transaction(PREPARER) as session:
                    try:
                        run = await payroll.prepare(
                            session, PREPARER, RegionCode(county), JANUARY, today=TODAY
                        )
                    except DomainError as error:  # (it would not cross the process boundary)
                        raise RuntimeError(f"{county}: {error.message(Lang.EN)}") from None
                    lines += run.lines + run.held
        finally:
            await services.db.dispose()
        return lines

    started = time.perf_counter()
    lines = asyncio.run(work())
    return lines, time.perf_counter() - started


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(backend: str, recipients: int, workers: int) -> None:
    async with fresh_database(backend) as services:
        started = time.perf_counter()
        counties = await build(services, recipients)
        print(
            f"{backend}: built {recipients:,} recipients in {len(counties)} counties "
            f"in {time.perf_counter() - started:.1f} s"
        )
        await phases(services, counties, recipients, workers)


async def phases(services: Services, counties: list[str], recipients: int, workers: int) -> None:
    """Prepare, release, export and import every county's run on a built database."""
    url = services.settings.database_url
    shares = [counties[i::workers] for i in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(prepare_share, [url] * workers, shares))
    elapsed = time.perf_counter() - started
    lines = sum(n for n, _ in done)
    print(
        f"prepare: {lines:,} lines in {elapsed:.1f} s with {workers} worker process(es) "
        f"({lines / elapsed:,.0f} lines/s)"
    )
    assert lines == recipients, lines

    async with services.db.session(SYSTEM) as session:
        runs = list(await session.scalars(select(PayrollRun.id).order_by(PayrollRun.id)))
    started = time.perf_counter()
    for run_id in runs:
        async with services.db.transaction(REVIEWER) as session:
            await payroll.review(session, REVIEWER, run_id)
        async with services.db.transaction(RELEASER) as session:
            await payroll.release(session, RELEASER, run_id, today=TODAY)
    print(f"review + release: {len(runs)} runs in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory() as folder:
        files = []
        before = peak_mib()
        started = time.perf_counter()
        for run_id in runs:
            path = Path(folder) / f"daifa-{run_id}.csv"
            async with services.db.transaction(SYSTEM) as session:
                await export_run(session, SYSTEM, run_id, path)
            files.append((run_id, path))
        elapsed = time.perf_counter() - started
        sent = sum(sum(1 for _ in path.open(encoding="utf-8")) - 2 for _, path in files)
        print(
            f"export: {sent:,} lines in {elapsed:.1f} s ({sent / elapsed:,.0f} lines/s); "
            f"peak memory {before:.0f} MiB before, {peak_mib():.0f} MiB after"
        )

        answers = []
        for run_id, path in files:
            answer = path.with_name(f"huipan-{run_id}.csv")
            with (
                path.open(encoding="utf-8") as source,
                answer.open("w", encoding="utf-8", newline="") as target,
            ):
                rows = csv.reader(source)
                writer = csv.writer(target)
                heading = next(rows)
                writer.writerow([*heading, "发放结果"])
                for row in rows:
                    writer.writerow(row if row[0] == "合计" else [*row, "成功"])
            answers.append((run_id, answer))
        started = time.perf_counter()
        paid = 0
        for run_id, answer in answers:
            async with services.db.transaction(SYSTEM) as session:
                settled = await import_results(session, SYSTEM, run_id, answer, today=TODAY)
                paid += settled.paid
        elapsed = time.perf_counter() - started
        print(f"import: {paid:,} results in {elapsed:.1f} s ({paid / elapsed:,.0f} lines/s)")
        assert paid == sent, (paid, sent)

    started = time.perf_counter()
    async with services.db.session(SYSTEM) as session:
        problems = await check_ledger(session)
        checks = await reconcile(session, runs[0])
        held = await session.scalar(select(func.sum(PayrollRun.held)))
    print(
        f"ledger check: {len(problems)} discrepancies in {time.perf_counter() - started:.1f} s;"
        f" first run reconciles: {all(c.ok for c in checks)}; {held:,} lines held"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--backend", default="postgresql")
    parser.add_argument("--workers", type=int, default=2, help="processes preparing runs")
    args = parser.parse_args()
    await bench(args.backend, args.recipients, args.workers)


if __name__ == "__main__":
    asyncio.run(main())
