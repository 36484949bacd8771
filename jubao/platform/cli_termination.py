"""`jubao deaths`: the public-security and civil-affairs death files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jubao.pension.termination.deaths import DeathSource, import_deaths
from jubao.platform.cli_session import Session, pass_session, report_lines
from jubao.platform.services import Services


@click.group()
def deaths() -> None:
    """死亡信息 (deaths found in other authorities' data)."""


@deaths.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    type=click.Choice([DeathSource.POLICE.value, DeathSource.CIVIL.value]),
    required=True,
    help="police: 公安户籍注销; civil: 民政火化",
)
@click.option("--all-or-nothing", is_flag=True, help="Import nothing if any row is rejected.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rejected rows (default: standard error).",
)
@pass_session
def import_command(
    session: Session, file: Path, source: str, all_or_nothing: bool, report: Path | None
) -> None:
    """Record the deaths FILE lists (CSV/Excel: ID number, date of death): each recipient found
    is paused as 疑似死亡 until the termination confirms it. Importing again changes nothing."""

    async def work(services: Services) -> Any:
        async with services.db.transaction(session.actor) as db:
            return await import_deaths(
                db,
                session.actor,
                file,
                DeathSource(source),
                today=services.clock.today(),
                all_or_nothing=all_or_nothing,
            )

    found = session.run(work)
    report_lines(found.describe(session.lang), report, file)
    session.say(
        f"新记录 {found.reported} 人（其中 {found.paused} 名领取待遇人员已暂停待遇），"
        f"此前已记录 {found.already} 人，非本地参保人员 {found.not_ours} 个，"
        f"拒绝 {len(found.rejected)} 行",
        f"{found.reported} deaths recorded ({found.paused} recipients paused), "
        f"{found.already} recorded before, {found.not_ours} not insured here, "
        f"{len(found.rejected)} rows rejected",
    )
