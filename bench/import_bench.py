"""Bulk import: speed and peak memory, on SQLite and PostgreSQL (goal: ≥ 10,000 rows/s and
≤ 300 MB at any size).

    python -m bench.import_bench [--people 100000,1000000] [--backends sqlite,postgresql]

For each size and database: a fresh database with a demo region tree, an employees'-scheme
list, and a CSV of that many people (1 % repeating an earlier line, 1 % on the employees' list,
half of those with insurance ended before their enrolment). The import runs in a child process
of its own, twice: the first run puts the people in, the second (an interrupted import run
again) finds every one of them done. Each run prints its rows per second and the child's peak
resident memory (``ru_maxrss``: the high-water mark of the whole process — Python, SQLite's
page cache, drivers — not only Python's allocations).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import SYSTEM, fresh_database, load_regions, settings
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.idnumber import check_character
from jubao.pension.people.imports import import_persons
from jubao.platform.services import Services

HEADER = (
    "身份证号码,姓名,民族,户籍性质,区划代码,户籍地址,联系电话,参保身份,银行账号,缴费档次,参保日期\n"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰建国志强丽娟海燕明华玉梅德胜春花永福淑珍"
# birth dates spread over 45 years from 1955: everyone of enrolment age (16 to 59) in 2014
DAYS = 365 * 45
TODAY = date(2026, 11, 23)


def people(villages: list[str], count: int) -> Iterator[tuple[str | None, str, date]]:
    """(ID number unless the line repeats an earlier one, line, enrolment date) for ``count``
    lines. Numbers are unique by
    construction (birth day and sequence from the line's index), so that writing ten million
    lines needs no set of the numbers written."""
    rng = random.Random(11)
    recent: deque[str] = deque(maxlen=1000)
    for index in range(count):
        village = rng.choice(villages)
        birth = date(1955, 1, 1) + timedelta(days=index % DAYS)
        repeated = bool(recent) and rng.random() < 0.01
        if repeated:
            number = rng.choice(recent)  # an ID number repeated further down the file
        else:
            body = f"{village[:6]}{birth:%Y%m%d}{index // DAYS + 1:03d}"
            number = body + check_character(body)
            recent.append(number)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        hukou = "农业" if village[9] == "2" else "非农业"
        group = "031" if rng.random() < 0.03 else "011"
        grade = rng.choice(("100", "200", "300", "500", "1000"))
        enrolled = max(date(2014, 7, 1), birth.replace(year=birth.year + 16) + timedelta(days=1))
        yield (
            None if repeated else number,
            f"{number},{name},01,{hukou},{village},某村{rng.randrange(1, 30)}组,"
            f"1{rng.randrange(3, 10)}{rng.randrange(10**8, 10**9)},{group},"
            f"6222{rng.randrange(10**14, 10**15)},{grade},{enrolled.isoformat()}\n",
            enrolled,
        )


async def prepare(services: Services, path: Path, count: int) -> None:
    """The region tree, the CSV, and the employees' list (written as the CSV is)."""
    villages = await load_regions(services, (10, 10, 20, 25))
    rng = random.Random(7)
    employees: list[dict[str, object]] = []

    async def flush() -> None:
        async with services.db.transaction(SYSTEM) as session:
            await session.execute(insert(EmployeeInsured), employees)
        employees.clear()

    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for number, line, enrolled in people(villages, count):
            handle.write(line)
            if number is not None and rng.random() < 0.01:
                ended = enrolled - timedelta(days=30) if rng.random() < 0.5 else None
                employees.append({"id_number": number, "insured_to": ended, "imported_on": TODAY})
                if len(employees) == 5000:
                    await flush()
    if employees:
        await flush()


async def child(url: str, path: Path) -> None:
    """One import in this process; prints its figures as JSON."""
    services = Services.create(settings(url))
    try:
        started = time.perf_counter()
        async with services.db.one_connection(SYSTEM) as units:
            report = await import_persons(units, SYSTEM, path, today=TODAY)
        seconds = time.perf_counter() - started
    finally:
        await services.db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "imported": report.imported,
                "already_done": report.already_done,
                "rejected": report.rejected,
                "peak_mb": peak / 1024,
            }
        )
    )


def run_child(url: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_bench", "--child", url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


async def bench(backend: str, count: int) -> None:
    async with fresh_database(backend) as services:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "people.csv"
            await prepare(services, path, count)
            url = services.settings.database_url
            first = await asyncio.to_thread(run_child, url, path)
            again = await asyncio.to_thread(run_child, url, path)
    print(
        f"{backend:<11} {count:>10,} rows: imported {first['imported']:,.0f}, "
        f"rejected {first['rejected']:,.0f}, in {first['seconds']:6.1f} s "
        f"({count / first['seconds']:,.0f} rows/s), peak {first['peak_mb']:,.0f} MB; "
        f"run again: {again['already_done']:,.0f} done in {again['seconds']:5.1f} s "
        f"({count / again['seconds']:,.0f} rows/s), peak {again['peak_mb']:,.0f} MB",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", default="100000,1000000", help="sizes, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        await child(args.child[0], Path(args.child[1]))
        return
    for count in (int(n) for n in args.people.split(",")):
        for backend in args.backends.split(","):
            await bench(backend, count)


if __name__ == "__main__":
    asyncio.run(main())
