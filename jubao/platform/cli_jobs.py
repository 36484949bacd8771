"""`jubao worker` and `jubao jobs`: the processes that do background jobs, and their list."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import click
from sqlalchemy import select

from jubao import jobs as job_records
from jubao.jobs import Job
from jubao.pension.accounts.money import format_yuan
from jubao.platform.cli_session import Session, pass_session
from jubao.platform.services import Services
from jubao.platform.worker import InProcess, work


@click.command()
@click.option("--drain", is_flag=True, help="Stop once nothing is left to do.")
@click.option(
    "--heartbeat",
    type=click.IntRange(2, 600),
    default=30,
    show_default=True,
    help="Seconds without a heartbeat after which another worker takes up a chunk.",
)
@pass_session
def worker(session: Session, drain: bool, heartbeat: int) -> None:
    """Do background jobs' chunks (PostgreSQL: as many workers, on as many machines, as you
    start; with SQLite the jobs' own process does them, and this does what is left)."""

    async def run(services: Services) -> None:
        if services.db.is_sqlite:
            await InProcess(services.db).drain()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        session.say("后台作业进程已启动", "Worker started")
        await work(services.db, drain=drain, heartbeat=timedelta(seconds=heartbeat), stop=stop)

    session.run(run)


@click.group(invoke_without_command=True)
@click.pass_context
def jobs(ctx: click.Context) -> None:
    """Background jobs (a year's interest, …): progress and outcome."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_)


@jobs.command(name="list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@pass_session
def list_(session: Session, limit: int) -> None:
    """The latest jobs, newest first."""

    async def read(services: Services) -> list[Job]:
        async with services.db.session(session.actor) as db:
            return list(await db.scalars(select(Job).order_by(Job.id.desc()).limit(limit)))

    for job in session.run(read):
        error = f"  {job.error}" if job.error else ""
        click.echo(
            f"{job.id}\t{job.kind}\t{job.region_code}\t{job.state}\t"
            f"{job.chunks_done}/{job.chunks}\t{job.items}\t{format_yuan(job.total)}{error}"
        )


@jobs.command(name="resume")
@click.argument("job", type=int)
@pass_session
def resume(session: Session, job: int) -> None:
    """Queue again what a failed JOB has not done (once its cause is put right)."""

    async def run(services: Services) -> int:
        queued = await job_records.resume(services.db, job)
        if services.db.is_sqlite:
            await InProcess(services.db).drain()
        return queued

    queued = session.run(run)
    session.say(f"已重新排队 {queued} 个分块", f"{queued} chunks queued again")
