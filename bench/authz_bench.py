"""Authorization speed: jubao's compiled principals beside plain pycasbin, same policy store.

    python bench/authz_bench.py                      # SQLite file in a temporary folder
    python bench/authz_bench.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_db

Builds 50,000 village-assistant grants and 200 county grants in ``casbin_rule`` and measures:
- start-up: what the service does before it takes requests (schema and role-table checks);
- per request: compiling one operator's principal (one indexed query + build);
- a decision ``can(obj, act, region)``;
and, for pycasbin with the published async SQLAlchemy adapter on the same table: loading the
policy, and a decision (``enforce`` once per ancestor domain, up to five calls).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import casbin
from casbin_async_sqlalchemy_adapter import Adapter
from sqlalchemy import insert, select

from jubao.authz.actor import Actor
from jubao.authz.policy import CasbinRule, grants_of, new_model, subject
from jubao.authz.principal import Principal
from jubao.authz.vocabulary import Act, Obj
from jubao.platform.db import Database
from jubao.platform.migrate import check_role_policies, check_schema_current, migrate
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.demo import demo_regions

VILLAGE_GRANTS = 50_000
REQUESTS = 20_000


def median_ns(samples: list[int]) -> float:
    return statistics.median(samples)


def time_each(calls: list[Callable[[], object]]) -> list[int]:
    samples = []
    for call in calls:
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    return samples


async def build(db: Database) -> tuple[list[RegionCode], list[RegionCode]]:
    await migrate(db)
    regions = [RegionCode(r.code) for r in demo_regions(10, 10, 20, 25)]
    villages = [r for r in regions if r.level is Level.VILLAGE][:VILLAGE_GRANTS]
    counties = [r for r in regions if r.level is Level.COUNTY]
    rows = [
        {"ptype": "g", "v0": subject(i + 1), "v1": "village_assistant", "v2": v.prefix}
        for i, v in enumerate(villages)
    ]
    first_county_user = len(rows) + 1
    for i, county in enumerate(counties):
        for j, role in enumerate(("agency_processor", "agency_reviewer")):
            rows.append(
                {
                    "ptype": "g",
                    "v0": subject(first_county_user + 2 * i + j),
                    "v1": role,
                    "v2": county.prefix,
                }
            )
    async with db.transaction(Actor.system("bench")) as session:
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(CasbinRule), rows[start : start + 10_000])
    print(f"policy: {len(rows):,} grants ({len(villages):,} village, {2 * len(counties)} county)")
    return villages, counties


async def main(url: str) -> None:
    db = Database(url)
    villages, counties = await build(db)
    users = VILLAGE_GRANTS + 2 * len(counties)
    rng = random.Random(7)

    # --- jubao -------------------------------------------------------------------------------
    started = time.perf_counter()
    await check_schema_current(db)
    await check_role_policies(db)
    startup = time.perf_counter() - started

    compile_samples = []
    principals: list[Principal] = []
    async with db.session(Actor.system("bench")) as session:
        for user in rng.sample(range(1, users + 1), 2_000):
            t0 = time.perf_counter_ns()
            principal = Principal(user, await grants_of(session, user))
            compile_samples.append(time.perf_counter_ns() - t0)
            principals.append(principal)

    targets = villages + counties
    objects, actions = list(Obj), list(Act)
    requests = [
        (rng.choice(principals), rng.choice(objects), rng.choice(actions), rng.choice(targets))
        for _ in range(REQUESTS)
    ]
    can_samples = time_each([lambda p=p, o=o, a=a, r=r: p.can(o, a, r) for p, o, a, r in requests])

    started = time.perf_counter()
    async with db.session(Actor.system("bench")) as session:
        all_grants = (
            await session.execute(
                select(CasbinRule.v0, CasbinRule.v1, CasbinRule.v2).where(CasbinRule.ptype == "g")
            )
        ).all()
    everything = time.perf_counter() - started

    # --- pycasbin ------------------------------------------------------------------------------
    enforcer = casbin.AsyncEnforcer(new_model(), Adapter(db.engine, db_class=CasbinRule))
    started = time.perf_counter()
    await enforcer.load_policy()
    casbin_load = time.perf_counter() - started

    # The loading path measured in DESIGN §10: the same grants through the management API.
    started = time.perf_counter()
    managed = casbin.Enforcer(new_model())
    managed.add_policies(enforcer.get_policy())
    managed.add_grouping_policies([[r.v0, r.v1, r.v2] for r in all_grants])
    casbin_managed_load = time.perf_counter() - started

    casbin_requests = requests[:5_000]
    # The first touch of each domain builds role links; measure warm calls, as in the issue.
    for p, o, a, r in casbin_requests:
        for domain in r.prefixes:
            enforcer.enforce(subject(p.user_id), domain, o.value, a.value)
    enforce_samples = time_each(
        [
            lambda p=p, o=o, a=a, r=r: enforcer.enforce(
                subject(p.user_id), r.prefix, o.value, a.value
            )
            for p, o, a, r in casbin_requests
        ]
    )
    decision_samples = time_each(
        [
            lambda p=p, o=o, a=a, r=r: any(
                enforcer.enforce(subject(p.user_id), d, o.value, a.value) for d in r.prefixes
            )
            for p, o, a, r in casbin_requests
        ]
    )
    mismatches = sum(
        p.can(o, a, r)
        != any(enforcer.enforce(subject(p.user_id), d, o.value, a.value) for d in r.prefixes)
        for p, o, a, r in casbin_requests
    )
    await db.dispose()

    def row(label: str, ours: str = "", theirs: str = "") -> None:
        print(f"{label:44} {ours:>14} {theirs:>14}")

    def us(samples: list[int]) -> str:
        return f"{median_ns(samples) / 1000:.2f} µs"

    print(f"database: {db.engine.dialect.name}")
    row("", "jubao", "pycasbin")
    row("authorization state ready at start-up", f"{startup:.3f} s", f"{casbin_load:.3f} s")
    row("  pycasbin through add_grouping_policies", "", f"{casbin_managed_load:.3f} s")
    row("decision can(obj, act, region), median", us(can_samples), us(decision_samples))
    row("  pycasbin: one enforce call, median", "", us(enforce_samples))
    row("compile one principal (per request), median", us(compile_samples))
    row(f"read all {len(all_grants):,} grants (comparison)", f"{everything:.3f} s")
    print(f"answers differing between the two: {mismatches} of {len(casbin_requests):,}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="an empty database (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(main(url))
