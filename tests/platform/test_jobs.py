"""Background jobs: every chunk done once — delivered twice, failed and resumed, or its worker
killed in the middle (PostgreSQL)."""

import asyncio
import os
import signal
import sys
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from jubao import jobs
from jubao.jobs import Job, JobState
from jubao.pension.accounts.interest import InterestRun, begin_run
from jubao.pension.accounts.ledger import AccountEntry, EntryKind, check_ledger
from jubao.platform.services import Services
from jubao.platform.worker import work
from tests.helpers import COUNTY_A, PROVINCE, VILLAGE_A, World, finish_jobs
from tests.pension.accounts.test_interest import TODAY, pay
from tests.pension.support import SYSTEM, enrol, install_policy


async def accounts(services: Services, count: int) -> None:
    await install_policy(services, PROVINCE, 2014, interest={"rate": "0.02"})
    for n in range(count):
        person = await enrol(
            services,
            birth=date(1970, 1, 1 + n % 28),
            sequence=100 + n,
            region=VILLAGE_A,
            enrolled_on=date(2024, 1, 1),
        )
        await pay(services, person, 2024, date(2024, 3, 1))
    async with services.db.transaction(SYSTEM) as session:  # 2024's run, with nothing to do
        run_id, _ = await begin_run(session, SYSTEM, COUNTY_A, 2024, today=TODAY)
        await session.execute(
            text("UPDATE interest_run SET finished_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": run_id},
        )


async def interest_job(services: Services, chunk: int = 1) -> tuple[int, int]:
    """2025's interest for the county as a job of one account per chunk: (job, run)."""
    async with services.db.transaction(SYSTEM) as session:
        run_id, chunks = await begin_run(session, SYSTEM, COUNTY_A, 2025, today=TODAY, chunk=chunk)
        job = await jobs.create(
            session,
            SYSTEM,
            jobs.JobKind.INTEREST,
            COUNTY_A,
            {"run_id": run_id, "year": 2025},
            chunks,
        )
    return job.id, run_id


async def state_of(services: Services, job_id: int) -> Job:
    async with services.db.session(SYSTEM) as session:
        found = await session.get(Job, job_id, populate_existing=True)
    assert found is not None
    return found


async def interest_entries(services: Services) -> int:
    async with services.db.session(SYSTEM) as session:
        return int(
            await session.scalar(
                select(func.count()).where(AccountEntry.kind == EntryKind.INTEREST.value)
            )
            or 0
        )


async def test_a_chunk_delivered_twice_is_done_once(services: Services, world: World) -> None:
    await accounts(services, 3)
    job_id, run_id = await interest_job(services)
    await finish_jobs(services)
    for seq in range(3):  # the queue delivers every chunk again
        await jobs.run_chunk(services.db, job_id, seq)
    job = await state_of(services, job_id)
    assert (job.state, job.chunks, job.chunks_done, job.items) == ("done", 3, 3, 3)
    assert await interest_entries(services) == 6  # two components each, once
    async with services.db.session(SYSTEM) as session:
        run = await session.get(InterestRun, run_id)
        assert run is not None and run.finished_at is not None and run.accounts == 3
        assert await check_ledger(session) == []


async def test_a_failed_job_stops_says_why_and_resumes(
    services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await accounts(services, 3)
    job_id, _ = await interest_job(services)
    work_of = jobs.WORK[jobs.JobKind.INTEREST]
    calls = 0

    async def flaky(session, job, chunk):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        return await work_of.chunk(session, job, chunk)

    monkeypatch.setitem(jobs.WORK, jobs.JobKind.INTEREST, jobs.Work(flaky, work_of.finish))
    await finish_jobs(services)
    job = await state_of(services, job_id)
    # (on PostgreSQL a chunk running beside the failing one may have finished too)
    assert job.state == "failed" and job.chunks_done < 3
    assert job.error is not None and "RuntimeError" in job.error
    assert await jobs.pending(services.db) == []  # a failed job waits to be resumed
    monkeypatch.setitem(jobs.WORK, jobs.JobKind.INTEREST, work_of)
    assert await jobs.resume(services.db, job_id) == 3 - job.chunks_done
    await finish_jobs(services)
    job = await state_of(services, job_id)
    assert (job.state, job.chunks_done, job.error) == ("done", 3, None)
    assert await interest_entries(services) == 6


async def test_a_worker_killed_in_the_middle_leaves_nothing_half_done(
    services: Services, world: World, database_url: str
) -> None:
    """kill -9 of a worker inside a chunk's transaction: the chunk is rolled back, another
    worker takes it up once the heartbeat stops, and every account is credited once."""
    if services.db.is_sqlite:
        pytest.skip("workers are PostgreSQL's (SQLite: the creating process does the chunks)")
    await accounts(services, 4)
    job_id, run_id = await interest_job(services)
    environment = {
        **os.environ,
        **{f"JUBAO_{k.upper()}": str(v) for k, v in services.settings.model_dump().items()},
    }
    async with services.db.engine.connect() as blocker:
        # hold the run's row: a worker's first chunk books its entries, then waits here
        await blocker.execute(
            text("SELECT id FROM interest_run WHERE id = :id FOR UPDATE"), {"id": run_id}
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "jubao.platform.cli",
            "worker",
            "--heartbeat",
            "2",
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                waiting = await services.db.engine.connect()
                try:
                    blocked = await waiting.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                finally:
                    await waiting.close()
                if blocked:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the worker never reached the chunk")
            process.send_signal(signal.SIGKILL)
        finally:
            await process.wait()
        await blocker.rollback()
    assert (await state_of(services, job_id)).chunks_done == 0
    stop = asyncio.Event()

    async def until_done() -> None:
        for _ in range(300):
            if (await state_of(services, job_id)).state == JobState.DONE.value:
                break
            await asyncio.sleep(0.1)
        stop.set()

    await asyncio.gather(work(services.db, heartbeat=timedelta(seconds=2), stop=stop), until_done())
    job = await state_of(services, job_id)
    assert (job.state, job.chunks_done) == ("done", 4)
    assert await interest_entries(services) == 8
    async with services.db.session(SYSTEM) as session:
        assert await check_ledger(session) == []
