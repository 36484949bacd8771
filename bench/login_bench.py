"""Login throttling: what an attempt costs besides argon2, and what guessing leaves stored.

    python -m bench.login_bench [--attempts N]

On SQLite and PostgreSQL (a fresh database each, see ``bench.common``), with argon2 at its
cheapest so that the throttle's own work shows:
- an attempt let through and one refused (median of N, milliseconds, one client at a time);
- the review's fuzzing: 434 unknown usernames from one address, then the same from 434
  addresses: attempts checked, attempts refused, rows stored.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from sqlalchemy import func, select

from bench.common import SYSTEM, fresh_database
from jubao.authz.login import authenticate
from jubao.authz.throttle import LoginThrottle
from jubao.errors import DomainError
from jubao.platform.services import Services


async def attempt(services: Services, username: str, address: str) -> bool:
    """One wrong password; True if it was checked, False if it was told to wait."""
    try:
        await authenticate(
            lambda: services.db.transaction(SYSTEM),
            services.settings.passwords,
            services.settings.throttle,
            username,
            "wrong-password-1",
            address=address,
        )
    except DomainError as error:
        return error.code.name != "THROTTLED"
    raise AssertionError("a wrong password was accepted")


async def timed(services: Services, calls: int, address: str, fresh: bool) -> float:
    samples = []
    for n in range(calls):
        username = f"user.{n}" if fresh else "same.user"
        started = time.perf_counter()
        await attempt(services, username, f"{address}.{n % 250}" if fresh else address)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def stored(services: Services) -> int:
    async with services.db.session(SYSTEM) as session:
        return await session.scalar(select(func.count()).select_from(LoginThrottle)) or 0


async def fuzz(services: Services, addresses: list[str]) -> tuple[int, int, int]:
    checked = 0
    for n in range(434):
        checked += await attempt(services, f"fuzz.{n}", addresses[n % len(addresses)])
    return checked, 434 - checked, await stored(services)


async def run(backend: str, calls: int) -> None:
    async with fresh_database(backend) as services:
        admitted = await timed(services, calls, "10.1.1", fresh=True)
        for _ in range(3):  # the free failures: from now on it is told to wait
            await attempt(services, "same.user", "10.2.2.2")
        refused = await timed(services, calls, "10.2.2.2", fresh=False)
    async with fresh_database(backend) as services:
        one = await fuzz(services, ["203.0.113.1"])
    async with fresh_database(backend) as services:
        many = await fuzz(services, [f"10.{n // 256}.{n % 256}.1" for n in range(434)])
    print(
        f"{backend:<10} attempt let through {admitted:6.2f} ms, refused {refused:6.2f} ms; "
        f"434 unknown usernames from 1 address: {one[0]} checked, {one[1]} refused, "
        f"{one[2]} rows; from 434 addresses: {many[0]} checked, {many[1]} refused, "
        f"{many[2]} rows"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=300)
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql"):
        await run(backend, args.attempts)


if __name__ == "__main__":
    asyncio.run(main())
