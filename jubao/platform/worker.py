"""The workers that do background jobs' chunks (see ``jubao.jobs``): pgqueuer on PostgreSQL,
the creating process itself with SQLite."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from datetime import timedelta

from jubao.jobs import ENTRYPOINT, pending, run_chunk
from jubao.platform.db import Database

log = logging.getLogger("jubao.jobs")


class InProcess:
    """The SQLite way: the process does the chunks of the jobs it created, one after the
    other, in a background task (SQLite has one writer at a time anyway)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        """Start (or continue) working through the chunks not done yet."""
        if not self._db.is_sqlite:
            return  # PostgreSQL: the workers do it
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self.drain())

    async def drain(self) -> None:
        """Do every chunk not done yet; a chunk that fails leaves its job failed."""
        while True:
            self._again = False
            failed_jobs: set[int] = set()
            for job_id, seq in await pending(self._db):
                if job_id in failed_jobs:
                    continue
                try:
                    await run_chunk(self._db, job_id, seq)
                except Exception:
                    log.exception("job %s chunk %s failed", job_id, seq)
                    failed_jobs.add(job_id)
            if not self._again:
                return

    async def wait(self) -> None:
        """Until the chunks begun are done (tests, and a command that must not leave early)."""
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        """At shutdown: the chunk in hand is abandoned (rolled back, done on the next start)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task


def worker_dsn(url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy URL (``postgresql+asyncpg://…``)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def work(
    db: Database,
    *,
    drain: bool = False,
    heartbeat: timedelta = timedelta(seconds=30),
    stop: asyncio.Event | None = None,
) -> None:
    """A worker: take chunks from the queue until stopped (or, with ``drain``, until the
    queue is empty). A chunk whose worker stopped beating for ``heartbeat`` is taken up by
    another."""
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer import Job as QueuedJob
    from pgqueuer.types import QueueExecutionMode

    connection = await asyncpg.connect(worker_dsn(db.url))
    try:
        manager = QueueManager(Queries(AsyncpgDriver(connection)))

        @manager.entrypoint(ENTRYPOINT)
        async def chunk(job: QueuedJob) -> None:
            wanted = json.loads(job.payload or b"{}")
            await run_chunk(db, int(wanted["job"]), int(wanted["seq"]))

        if stop is not None:
            asyncio.get_running_loop().create_task(_stop_when(stop, manager.shutdown))
        await manager.run(
            mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
            heartbeat_timeout=heartbeat,
            dequeue_timeout=min(heartbeat, timedelta(seconds=30)),
        )
    finally:
        await connection.close()


async def _stop_when(stop: asyncio.Event, shutdown: asyncio.Event) -> None:
    await stop.wait()
    shutdown.set()


async def install_queue(db: Database) -> None:
    """Create or upgrade pgqueuer's tables (PostgreSQL; ``jubao migrate`` calls it)."""
    if db.is_sqlite:
        return
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries

    connection = await asyncpg.connect(worker_dsn(db.url))
    try:
        queries = Queries(AsyncpgDriver(connection))
        if await queries.schema_is_installed():
            await queries.upgrade()
        else:
            await queries.install()
    finally:
        await connection.close()
