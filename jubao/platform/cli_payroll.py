"""`jubao payroll`: the monthly payroll from the command line (preparing runs, the bank's
files, reconciliation). Reviewing and releasing a run are for two other people, through the
API: the command line acts as the system, which is nobody's second pair of eyes."""

from __future__ import annotations

from pathlib import Path

import click

from jubao.errors import DomainError
from jubao.pension.accounts.money import format_yuan
from jubao.pension.benefits import payroll as rules
from jubao.pension.benefits.bank_files import Written, export_run, import_results
from jubao.pension.benefits.reconciliation import Check, reconcile
from jubao.pension.benefits.settlement import Settlement
from jubao.pension.month import Month
from jubao.pension.termination.payouts import prepare_payouts
from jubao.platform.cli_session import Session, pass_session, report_lines
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode


@click.group()
def payroll() -> None:
    """Monthly pension payroll (待遇发放)."""


@payroll.command(name="prepare")
@click.argument("region")
@click.argument("month")
@click.option(
    "--supplementary",
    is_flag=True,
    help="Pay again the failed and held lines (MONTH is then this month).",
)
@pass_session
def prepare(session: Session, region: str, month: str, supplementary: bool) -> None:
    """Prepare the run of MONTH (YYYY-MM) for the county REGION, or for every county under
    REGION (each on its own; one that fails does not stop the others)."""

    async def work(services: Services) -> list[tuple[RegionCode, str, bool]]:
        period = Month.parse(month)
        today = services.clock.today()
        async with services.db.session(session.actor) as db:
            counties = await rules.counties_under(db, RegionCode(region))
        outcomes = []
        for county in counties:
            try:
                async with services.db.transaction(session.actor) as db:
                    if supplementary:
                        run = await rules.prepare_supplementary(
                            db, session.actor, county, today=today
                        )
                    else:
                        run = await rules.prepare(db, session.actor, county, period, today=today)
                    outcomes.append((county, _prepared(session, run), True))
            except DomainError as error:
                # a county with nobody to pay is no failure of a province-wide start
                quiet = error.code is rules.PayrollError.NOBODY and len(counties) > 1
                outcomes.append((county, error.message(session.lang), quiet))
        return outcomes

    outcomes = session.run(work)
    for county, message, _ in outcomes:
        click.echo(f"{county.code} {message}")
    if not outcomes:
        raise click.ClickException(
            session.text("该区划下没有县级区划", "There is no county in the region")
        )
    if not all(ok for _, _, ok in outcomes):
        raise click.ClickException(
            session.text("部分县未能生成发放批次", "Some counties could not be prepared")
        )


def _prepared(session: Session, run: rules.PayrollRun) -> str:
    return session.text(
        f"批次 {run.id}：{run.lines} 笔，合计 {format_yuan(run.total)} 元，"
        f"待补录账户 {run.held} 笔",
        f"run {run.id}: {run.lines} lines, {format_yuan(run.total)} yuan, {run.held} held",
    )


@payroll.command(name="payouts")
@click.argument("region")
@pass_session
def payouts(session: Session, region: str) -> None:
    """Prepare the county REGION's one-off run (一次性支付): what ended insurance pays out
    (heirs' payments, refunds, funeral grants) not yet in a run."""

    async def work(services: Services) -> rules.PayrollRun:
        async with services.db.transaction(session.actor) as db:
            return await prepare_payouts(
                db, session.actor, RegionCode(region), today=services.clock.today()
            )

    click.echo(_prepared(session, session.run(work)))


@payroll.command(name="export")
@click.argument("run", type=int)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@pass_session
def export(session: Session, run: int, output: Path) -> None:
    """Write released RUN as its bank's file (the layout is the county's policy)."""
    # written aside and put in place once the export is recorded
    draft = output.with_name(f".{output.name}.part")

    async def work(services: Services) -> Written:
        async with services.db.transaction(session.actor) as db:
            return await export_run(db, session.actor, run, draft)

    try:
        written = session.run(work)
    except click.ClickException:
        draft.unlink(missing_ok=True)
        raise
    draft.replace(output)
    session.say(
        f"已写入 {written.lines} 笔，合计 {format_yuan(written.total)} 元"
        f"（{written.rules.format.value}，{written.rules.encoding}）",
        f"{written.lines} lines, {format_yuan(written.total)} yuan "
        f"({written.rules.format.value}, {written.rules.encoding})",
    )


@payroll.command(name="import")
@click.argument("run", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to list the rows not recorded (default: FILE.refused.txt).",
)
@pass_session
def import_(session: Session, run: int, file: Path, report: Path | None) -> None:
    """Record the bank's result FILE for RUN: each line paid or failed, once."""

    async def work(services: Services) -> Settlement:
        async with services.db.transaction(session.actor) as db:
            return await import_results(db, session.actor, run, file, today=services.clock.today())

    result = session.run(work)
    report = report or file.with_name(file.name + ".refused.txt")
    report_lines(result.describe(session.lang), report, file)
    session.say(
        f"发放成功 {result.paid} 笔，失败 {result.failed} 笔，此前已登记 {result.already} 笔，"
        f"未登记 {len(result.refused)} 笔（见 {report}）",
        f"{result.paid} paid, {result.failed} failed, {result.already} recorded before, "
        f"{len(result.refused)} not recorded (see {report})",
    )


@payroll.command(name="reconcile")
@click.argument("run", type=int)
@pass_session
def reconcile_(session: Session, run: int) -> None:
    """Reckon RUN's figures from its lines and from the ledger (账账相符)."""

    async def work(services: Services) -> list[Check]:
        async with services.db.session(session.actor) as db:
            return await reconcile(db, run)

    checks = session.run(work)
    for check in checks:
        mark = "✓" if check.ok else "✗"
        click.echo(
            f"{mark} {check.name(session.lang)}: "
            + session.text(
                f"明细 {format_yuan(check.lines)} 元，账务 {format_yuan(check.ledger)} 元",
                f"lines {format_yuan(check.lines)}, ledger {format_yuan(check.ledger)} yuan",
            )
        )
    if not all(check.ok for check in checks):
        raise click.ClickException(
            session.text("发放批次与账务不符", "The run and the ledger disagree")
        )
