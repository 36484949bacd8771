"""`jubao verification`: silent verification from a data file, and the villages' lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jubao.pension.entitlement.lists import list_file
from jubao.pension.entitlement.sightings import import_sightings
from jubao.pension.entitlement.verification import ListKind
from jubao.pension.month import Month
from jubao.platform.cli_session import Session, pass_session, report_lines
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode


@click.group()
def verification() -> None:
    """领取待遇资格认证 (verification of entitlement)."""


@verification.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rejected rows (default: standard error).",
)
@pass_session
def import_command(session: Session, file: Path, report: Path | None) -> None:
    """Verify the recipients FILE saw alive (CSV/Excel: ID number, date seen) — 静默认证.
    Importing the same file again changes nothing."""

    async def work(services: Services) -> Any:
        async with services.db.transaction(session.actor) as db:
            return await import_sightings(db, session.actor, file, today=services.clock.today())

    found = session.run(work)
    report_lines(found.describe(session.lang), report, file)
    session.say(
        f"认证 {found.verified} 人（其中 {found.resumptions} 人已提交恢复待遇申请），"
        f"已认证过 {found.already} 人，非本地领取待遇人员 {found.not_ours} 个，"
        f"拒绝 {len(found.rejected)} 行",
        f"{found.verified} verified ({found.resumptions} resumptions opened), "
        f"{found.already} already verified, {found.not_ours} not recipients here, "
        f"{len(found.rejected)} rows rejected",
    )


@verification.command(name="list")
@click.argument("region")
@click.argument("month")
@click.option(
    "--list",
    "kind",
    type=click.Choice([k.value for k in ListKind]),
    default=ListKind.DUE.value,
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (.xlsx or .csv).",
)
@pass_session
def list_command(session: Session, region: str, month: str, kind: str, output: Path) -> None:
    """Write REGION's verification list of MONTH (YYYY-MM): who is due, overdue or paused."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise click.BadParameter("xlsx or csv", param_hint="--output")

    async def work(services: Services) -> bytes:
        async with services.db.transaction(session.actor) as db:
            return await list_file(
                db,
                session.actor,
                RegionCode(region),
                Month.parse(month),
                ListKind(kind),
                fmt,  # type: ignore[arg-type]
                session.lang,
            )

    output.write_bytes(session.run(work))
    session.say(f"已写出 {output}", f"Wrote {output}")
