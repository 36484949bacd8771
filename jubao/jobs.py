"""Background jobs: province-wide work (a year's interest, a province's payroll) in chunks.

A job (``batch_job``) is divided when it is created into chunks (``batch_chunk``): id ranges
of accounts, or counties. Each chunk is done in one transaction that also marks it done and
counts it on the job, so a chunk is done once whatever happens: delivered twice, it finds
itself done and does nothing; interrupted (a worker killed in the middle), its transaction is
rolled back and it is done again. The transaction that finishes the last chunk closes the job.

On PostgreSQL the chunks travel through pgqueuer, enqueued in the transaction that creates the
job (a job is never created without its chunks queued, nor queued without being created):
``jubao worker`` processes take them, several per machine and on several machines, and a
worker that dies has its chunk taken up by another once its heartbeat stops. With SQLite the
process that created a job does its chunks itself, one after the other, in the background.

Why pgqueuer rather than procrastinate: it speaks asyncpg, the driver the rest of jubao uses,
so a job is enqueued on the very connection (and transaction) that creates it; it notices a
dead worker by heartbeat and hands its job on by itself; and it needs nothing beyond the
PostgreSQL the scheme already runs. procrastinate is as mature but runs on psycopg: a second
driver, and its enqueue would sit outside jubao's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.authz.actor import Actor
from jubao.errors import DomainError, Lang
from jubao.orm import Base, BigId, dialect_of, utcnow
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import RegionScoped, unscoped

ENTRYPOINT = "jubao.chunk"
WORKER = Actor.system("worker")


class JobKind(StrEnum):
    INTEREST = "interest"  # 年度结息: chunks are ranges of account ids
    PAYROLL = "payroll"  # 待遇发放 of a province or city: a chunk per county


class JobState(StrEnum):
    QUEUED = "queued"  # 排队中
    RUNNING = "running"  # 进行中
    DONE = "done"  # 已完成
    FAILED = "failed"  # 出错停止 (resumable)


class Job(Base, RegionScoped):
    __tablename__ = "batch_job"
    __scope_object__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    chunks: Mapped[int]
    chunks_done: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(BigInteger, default=0)  # accounts, lines …
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class JobChunk(Base):
    """One part of a job; ``done_at`` is set in the transaction that does it."""

    __tablename__ = "batch_chunk"

    job_id: Mapped[int] = mapped_column(ForeignKey("batch_job.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    lo: Mapped[int] = mapped_column(BigInteger)
    hi: Mapped[int] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]


class UnitsOfWork(Protocol):
    """Where jobs get their transactions (``jubao.platform.db.Database``)."""

    def transaction(self, actor: Actor) -> AbstractAsyncContextManager[AsyncSession]: ...

    def session(self, actor: Actor) -> AbstractAsyncContextManager[AsyncSession]: ...


@dataclass(frozen=True)
class Work:
    """What a kind of job does with one chunk (returning items and fen) and at the end."""

    chunk: Callable[[AsyncSession, Job, JobChunk], Awaitable[tuple[int, int]]]
    finish: Callable[[AsyncSession, Job], Awaitable[None]]


WORK: dict[JobKind, Work] = {}


def register(kind: JobKind, work: Work) -> None:
    """Say what a kind of job does (the area that owns the kind registers it on import)."""
    WORK[kind] = work


async def create(
    session: AsyncSession,
    actor: Actor,
    kind: JobKind,
    region: RegionCode,
    params: dict[str, Any],
    ranges: Sequence[tuple[int, int]],
) -> Job:
    """A job of ``ranges`` chunks, queued in the caller's transaction (on PostgreSQL)."""
    job = Job(
        kind=kind.value,
        region_code=region.code,
        params=params,
        state=JobState.QUEUED.value,
        chunks=len(ranges),
        created_by=actor.label,
        created_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    if ranges:
        await session.execute(
            insert(JobChunk),
            [{"job_id": job.id, "seq": n, "lo": lo, "hi": hi} for n, (lo, hi) in enumerate(ranges)],
        )
    audit.record(
        session, actor, "job.create", f"job:{job.id}", region_code=region.code, kind=kind.value
    )
    if ranges:
        await _enqueue(session, job.id, range(len(ranges)))
    else:  # nothing to divide (no accounts yet): done as soon as it is begun
        await close(session, job)
    return job


async def _enqueue(session: AsyncSession, job_id: int, seqs: Sequence[int]) -> None:
    if dialect_of(session) != "postgresql" or not seqs:
        return
    from pgqueuer import AsyncpgDriver, Queries

    raw = await (await session.connection()).get_raw_connection()
    queries = Queries(AsyncpgDriver(raw.driver_connection))
    await queries.enqueue(
        [ENTRYPOINT] * len(seqs),
        [json.dumps({"job": job_id, "seq": seq}).encode() for seq in seqs],
        [0] * len(seqs),
    )


async def run_chunk(db: UnitsOfWork, job_id: int, seq: int) -> None:
    """Do one chunk (nothing if it is done already), in one transaction with its counting."""
    try:
        async with db.transaction(WORKER) as session:
            chunks, jobs = unscoped_chunk(), unscoped(Job)
            found = (
                await session.execute(
                    select(chunks)
                    .where(chunks.c.job_id == job_id, chunks.c.seq == seq)
                    .with_for_update()
                )
            ).first()
            if found is None or found.done_at is not None:
                return
            job = await session.get(Job, job_id)
            if job is None or JobState(job.state) in (JobState.DONE, JobState.FAILED):
                return  # (a failed job's chunks wait for it to be resumed)
            chunk = JobChunk(job_id=job_id, seq=seq, lo=found.lo, hi=found.hi)
            items, total = await WORK[JobKind(job.kind)].chunk(session, job, chunk)
            await session.execute(
                update(chunks)
                .where(chunks.c.job_id == job_id, chunks.c.seq == seq)
                .values(done_at=utcnow())
            )
            counted = (
                await session.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id)
                    .values(
                        chunks_done=jobs.c.chunks_done + 1,
                        items=jobs.c["items"] + items,
                        total=jobs.c.total + total,
                        # (a chunk beside one that failed does not hide the failure)
                        state=case(
                            (jobs.c.state == JobState.FAILED.value, JobState.FAILED.value),
                            else_=JobState.RUNNING.value,
                        ),
                    )
                    .returning(jobs.c.chunks_done, jobs.c.chunks)
                )
            ).one()
            if counted.chunks_done == counted.chunks:
                await close(session, job)
    except DomainError as error:
        await _failed(db, job_id, error.message(Lang.ZH))
        raise
    except Exception as error:
        await _failed(db, job_id, f"内部错误（{type(error).__name__}），详见日志")
        raise


async def close(session: AsyncSession, job: Job) -> None:
    await WORK[JobKind(job.kind)].finish(session, job)
    jobs = unscoped(Job)
    await session.execute(
        update(jobs)
        .where(jobs.c.id == job.id)
        .values(state=JobState.DONE.value, finished_at=utcnow())
    )


def unscoped_chunk() -> Any:
    return JobChunk.__table__


async def _failed(db: UnitsOfWork, job_id: int, message: str) -> None:
    jobs = unscoped(Job)
    async with db.transaction(WORKER) as session:
        await session.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state != JobState.DONE.value)
            .values(state=JobState.FAILED.value, error=message[:500])
        )


async def pending(db: UnitsOfWork, job_id: int | None = None) -> list[tuple[int, int]]:
    """(job, chunk) of every chunk not done yet, oldest first: of one job, or of every job
    that has not failed (a failed job waits to be resumed)."""
    chunks, jobs = unscoped_chunk(), unscoped(Job)
    statement = select(chunks.c.job_id, chunks.c.seq).where(chunks.c.done_at.is_(None))
    if job_id is not None:
        statement = statement.where(chunks.c.job_id == job_id)
    else:
        statement = statement.join(jobs, jobs.c.id == chunks.c.job_id).where(
            jobs.c.state != JobState.FAILED.value
        )
    async with db.session(WORKER) as session:
        rows = await session.execute(statement.order_by(chunks.c.job_id, chunks.c.seq))
        return [(int(j), int(s)) for j, s in rows]


async def resume(db: UnitsOfWork, job_id: int) -> int:
    """Queue again the chunks of a job that are not done (after a failure was put right);
    returns how many. Chunks already done stay done."""
    left = [seq for _, seq in await pending(db, job_id)]
    async with db.transaction(WORKER) as session:
        await session.execute(
            update(unscoped(Job))
            .where(unscoped(Job).c.id == job_id, unscoped(Job).c.state == JobState.FAILED.value)
            .values(state=JobState.QUEUED.value, error=None)
        )
        await _enqueue(session, job_id, left)
    return len(left)
