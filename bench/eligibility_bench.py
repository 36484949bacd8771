"""Staying eligible at a province's scale: who is due, overdue and paused for verification,
the pauses, and a month's death file matched against everyone.

    python -m bench.eligibility_bench [--recipients 10000000] [--deaths 100000] [--workers 2]

Builds the recipients directly in SQL on PostgreSQL, spread over the villages of 100
counties: 97 in 100 verified within the last year (their cycles end month by month over the
coming year), 3 in 100 last verified in October 2026, overdue in January 2028. Then times,
with the code the API and the payroll run:

- tally: the month's lists counted for the whole province by city (`verificationTally`),
  and for one county by township;
- pause: every county's overdue recipients paused from January 2028, as each county's run
  does before it reads its recipients, the counties shared by ``--workers`` processes;
- deaths: a civil-affairs cremation file of ``--deaths`` rows (one in twenty of them people
  from elsewhere) imported by the province: checked, matched by ID number, each death
  recorded and each recipient found paused as 疑似死亡.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from bench.common import (
    RECIPIENTS,
    SYSTEM,
    bench_id_number,
    fresh_database,
    load_regions,
    settings,
)
from jubao.errors import Lang
from jubao.pension.benefits import payroll
from jubao.pension.entitlement import verification
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.month import Month
from jubao.pension.people.idnumber import check_character
from jubao.pension.termination.deaths import DeathSource, import_deaths
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode

MONTH = Month(2028, 1)
PROVINCE = RegionCode("410000000000")
# the cycle starts: 3 in 100 in November 2026 (lapsed by January 2028), the others over
# February 2027 – January 2028
CYCLE_START = """CASE WHEN i % 100 < 3 THEN DATE '2026-11-01'
    ELSE (DATE '2027-02-01' + make_interval(months => (i % 12)::int))::date END"""


async def build(services: Services, recipients: int) -> list[str]:
    villages = [v for v in await load_regions(services, (10, 10, 20, 25)) if v[9:] != "000"]
    async with services.db.engine.begin() as connection:
        await connection.execute(
            text(RECIPIENTS.replace("{cycle_start}", CYCLE_START)),
            {"n": recipients, "villages": villages},
        )
    async with services.db.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
    async with services.db.session(SYSTEM) as session:
        return [c.code for c in await payroll.counties_under(session, PROVINCE)]


def pause_share(url: str, counties: list[str]) -> int:
    """One worker process: pause its share of the counties, one transaction each."""

    async def work() -> int:
        services = Services.create(settings(url))
        paused = 0
        try:
            for county in counties:
                async with services.db.transaction(SYSTEM) as session:
                    paused += await verification.pause_overdue(session, RegionCode(county), MONTH)
        finally:
            await services.db.dispose()
        return paused

    return asyncio.run(work())


async def main(recipients: int, deaths: int, workers: int) -> None:
    async with fresh_database("postgresql") as services:
        started = time.perf_counter()
        counties = await build(services, recipients)
        print(
            f"postgresql: built {recipients:,} recipients in {len(counties)} counties "
            f"in {time.perf_counter() - started:.1f} s"
        )
        async with services.db.session(SYSTEM) as session:
            started = time.perf_counter()
            rows = await verification.tally(session, PROVINCE, MONTH)
            elapsed = time.perf_counter() - started
            due, overdue = sum(r.due for r in rows), sum(r.overdue for r in rows)
            print(
                f"tally for the province by city ({len(rows)} rows): {due:,} due, "
                f"{overdue:,} overdue in {elapsed:.1f} s"
            )
            started = time.perf_counter()
            rows = await verification.tally(session, RegionCode(counties[0]), MONTH)
            print(
                f"tally for a county by township ({len(rows)} rows) in "
                f"{(time.perf_counter() - started) * 1000:.0f} ms"
            )

        url = services.settings.database_url
        shares = [counties[i::workers] for i in range(workers)]
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            paused = sum(pool.map(pause_share, [url] * workers, shares))
        elapsed = time.perf_counter() - started
        print(
            f"pause: {paused:,} overdue recipients paused in {elapsed:.1f} s with {workers} "
            f"worker process(es), {len(counties)} counties"
        )
        assert paused == overdue, (paused, overdue)
        async with services.db.session(SYSTEM) as session:
            held = await session.scalar(select(func.count()).select_from(BenefitHold))
        assert held == paused, held

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "huohua.csv"
            write_deaths(path, recipients, deaths)
            started = time.perf_counter()
            async with services.db.transaction(SYSTEM) as session:
                found = await import_deaths(
                    session, SYSTEM, path, DeathSource.CIVIL, today=date(2028, 1, 20)
                )
            elapsed = time.perf_counter() - started
        print(
            f"deaths: {deaths:,} rows matched against {recipients:,} people in {elapsed:.1f} s "
            f"({found.reported:,} recorded, {found.paused:,} paused, {found.not_ours:,} from "
            f"elsewhere, {len(found.rejected)} rejected)"
        )
        assert not found.rejected, found.describe(Lang.EN)[:5]
        assert found.reported + found.not_ours == deaths, (found.reported, found.not_ours)


def write_deaths(path: Path, recipients: int, deaths: int) -> None:
    """``deaths`` rows: people spread over the province, one in twenty not insured here."""
    step = max(1, recipients // deaths)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["公民身份号码", "火化日期"])
        for n in range(deaths):
            if n % 20 == 19:  # from elsewhere: a number nobody here has (another province)
                born = date(1940, 1, 1) + timedelta(days=n // 20)
                body = f"110101{born:%Y%m%d}{n % 1000:03d}"
                number = body + check_character(body)
            else:
                # spread over the people (not only those overdue, already paused)
                number = bench_id_number(1 + n * step + n % step)
            writer.writerow([number, "2027-12-30"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000_000)
    parser.add_argument("--deaths", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="processes pausing counties")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.recipients, arguments.deaths, arguments.workers))
