"""Bulk import speed: 100,000 people from CSV, on SQLite and PostgreSQL (target ≤ 60 s each).

    python bench/import_bench.py [--people 100000] [--backends sqlite,postgresql]

Prints the seconds for checking plus writing, and for running the same file again (an
interrupted import resumed: everyone is found already imported).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import SYSTEM, fresh_database, load_regions
from jubao.pension.idnumber import check_character
from jubao.pension.imports import import_persons

HEADER = (
    "身份证号码,姓名,民族,户籍性质,区划代码,户籍地址,联系电话,参保身份,银行账号,缴费档次,参保日期\n"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰建国志强丽娟海燕明华玉梅德胜春花永福淑珍"


def write_people(path: Path, villages: list[str], count: int) -> None:
    rng = random.Random(11)
    used: set[str] = set()
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        while len(used) < count:
            village = rng.choice(villages)
            birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
            body = f"{village[:6]}{birth:%Y%m%d}{rng.randrange(1, 999):03d}"
            number = body + check_character(body)
            if number in used:
                continue
            used.add(number)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            hukou = "农业" if village[9] == "2" else "非农业"
            group = "031" if rng.random() < 0.03 else "011"
            grade = rng.choice(("100", "200", "300", "500", "1000"))
            enrolled = max(
                date(2014, 7, 1), birth.replace(year=birth.year + 16) + timedelta(days=1)
            )
            handle.write(
                f"{number},{name},01,{hukou},{village},某村{rng.randrange(1, 30)}组,"
                f"1{rng.randrange(3, 10)}{rng.randrange(10**8, 10**9)},{group},"
                f"6222{rng.randrange(10**14, 10**15)},{grade},{enrolled.isoformat()}\n"
            )


async def bench(backend: str, count: int) -> None:
    async with fresh_database(backend) as services:
        villages = await load_regions(services, (10, 10, 20, 25))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "people.csv"
            write_people(path, villages, count)

            def unit() -> object:
                return services.db.transaction(SYSTEM)

            started = time.perf_counter()
            report = await import_persons(unit, SYSTEM, path)  # type: ignore[arg-type]
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = await import_persons(unit, SYSTEM, path)  # type: ignore[arg-type]
            second = time.perf_counter() - started
    print(
        f"{backend:<11} {count:>8,} people: imported {report.imported:,} "
        f"(rejected {len(report.rejected)}) in {first:6.1f} s "
        f"({report.imported / first:,.0f}/s); run again: {again.already_done:,} found in "
        f"{second:5.1f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        await bench(backend, args.people)


if __name__ == "__main__":
    asyncio.run(main())
