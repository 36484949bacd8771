"""Shared set-up for the benchmarks: a fresh migrated database and a big demo region tree."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from jubao.authz.actor import Actor
from jubao.pension.people.idnumber import check_character
from jubao.platform.migrate import migrate
from jubao.platform.services import Services
from jubao.platform.settings import Settings
from jubao.tenants.demo import demo_regions
from jubao.tenants.importer import import_regions

SYSTEM = Actor.system("bench")

# Recipients in SQL: :n people in 正常待遇 spread over the :villages, born in 1966, one in fifty
# without a bank account, each with a valid ID number (`bench_id_number`); {cycle_start} is the
# start of each one's verification cycle (SQL over i).
RECIPIENTS = """INSERT INTO person (id, id_number, name, sex, birth_date, ethnicity, hukou,
     region_code, address, grade, status, enrolled_on, created_at, updated_at, version,
     bank_account, cycle_start)
   SELECT i,
          body || (SELECT substr('10X98765432',
                                 (sum(substr(body, k::int, 1)::int * w) % 11)::int + 1, 1)
                   FROM unnest(ARRAY[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
                        WITH ORDINALITY AS t(w, k)),
          '王秀英', 1 + i % 2, born, '01', 'rural',
          villages[1 + (i::bigint * 7919) % cardinality(villages)], '某村', 10000,
          'receiving', DATE '2011-07-01', now(), now(), 1,
          CASE WHEN i % 50 = 0 THEN NULL ELSE '62284800' || lpad(i::text, 11, '0') END,
          {cycle_start}
   FROM generate_series(1, :n) AS i
   CROSS JOIN LATERAL (SELECT DATE '1966-01-01' + (i / 10000) % 300 AS born) AS d
   CROSS JOIN LATERAL (SELECT '41' || lpad((i % 10000)::text, 4, '0') || to_char(born, 'YYYYMMDD')
                              || lpad((i / 3000000)::text, 3, '0') AS body) AS b,
   (SELECT CAST(:villages AS text[]) AS villages) AS v"""


def bench_id_number(i: int) -> str:
    """The ID number RECIPIENTS gives person ``i``."""
    born = date(1966, 1, 1) + timedelta(days=(i // 10000) % 300)
    body = f"41{i % 10000:04d}{born:%Y%m%d}{i // 3_000_000:03d}"
    return body + check_character(body)


# Pensions awarded in SQL (the benches skip the review chain): one approved claim that every
# award names, and an award of 163.00 basic + 60.43 from an account of 8,400.00 for each person
# the condition picks.
AWARD_CLAIM = """INSERT INTO application (id, kind, region_code, payload, status, chain, step,
     submitted_by, submitted_by_name, submitted_at, version)
   VALUES (1, 'award', '410000000000', '{}', 'applied', '[3]', 0, 1, 'bench', now(), 1)"""
AWARDS = """INSERT INTO benefit_award (person_id, region_code, application_id, transitional,
     eligible_on, start_month, years_paid, years_required, years_for_topup, balances,
     account_total, divisor, account_pension, basic_lines, basic_pension, monthly,
     awarded_at, awarded_by, effective_month)
   SELECT id, region_code, 1, false, DATE '2025-06-01', DATE '2025-07-01', 15, 15, 15,
          '{"personal": 750000, "subsidy_province": 90000}', 840000, 139, 6043,
          '[{"prefix": "", "item": "base", "amount": 16300}]', 16300, 22343, now(), 'bench',
          DATE '2025-07-01'
   FROM person WHERE {which}"""


def settings(url: str) -> Settings:
    return Settings(
        env="test",  # type: ignore[arg-type]
        database_url=url,
        argon2_memory_kib=8,
        argon2_time_cost=1,
        argon2_parallelism=1,
    )


@asynccontextmanager
async def fresh_database(backend: str) -> AsyncIterator[Services]:
    """A migrated database for one benchmark: a temporary SQLite file, or a new PostgreSQL
    database on JUBAO_BENCH_POSTGRES_URL (default: the local server), dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            services = Services.create(settings(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"))
            await migrate(services.db)
            try:
                yield services
            finally:
                await services.db.dispose()
        return
    admin_url = make_url(
        os.environ.get(
            "JUBAO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        )
    )
    name = f"jubao_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    services = Services.create(
        settings(admin_url.set(database=name).render_as_string(hide_password=False))
    )
    try:
        await migrate(services.db)
        yield services
    finally:
        await services.db.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def load_regions(services: Services, size: tuple[int, int, int, int]) -> list[str]:
    """The demo tree of ``size``; returns the village codes."""
    regions = list(demo_regions(*size))
    async with services.db.transaction(SYSTEM) as session:
        await import_regions(
            session,
            SYSTEM,
            ((n, [r.code, r.name, r.urban_rural_class or ""]) for n, r in enumerate(regions, 2)),
            valid_from=date(2009, 1, 1),  # the scheme's start: older than anything benchmarked
        )
    return [r.code for r in regions if r.code[9:] != "000"]


def run(coroutine: object) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]
