"""The `jubao` command."""

from __future__ import annotations

import json
import socket
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import uvicorn
from sqlalchemy import select

from jubao.authz import grants as grant_rules
from jubao.authz.operators import create_operator, find_by_username
from jubao.authz.policy import grants_of
from jubao.authz.roles import ROLES
from jubao.errors import DomainError, Lang
from jubao.pension.accounts.bank import Export, export_collection, import_results, write_owing
from jubao.pension.accounts.interest import post_interest
from jubao.pension.accounts.ledger import LedgerError, check_ledger
from jubao.pension.accounts.money import format_yuan
from jubao.pension.accounts.statements import statement_file
from jubao.pension.exports import format_of
from jubao.pension.people.crosscheck import import_employees
from jubao.pension.people.id_check import IdCheckError, IdFinding, non_canonical_id_numbers
from jubao.pension.people.idnumber import IdNumber
from jubao.pension.people.imports import ImportReport, PersonImportError, import_persons
from jubao.pension.people.persons import Person, PersonError, abolish_region
from jubao.pension.policy.params import describe_policy, policy_for, read_policy_file, save_policy
from jubao.platform.cli_jobs import jobs, worker
from jubao.platform.cli_payroll import payroll
from jubao.platform.cli_session import Rerun, Session, pass_session, report_lines
from jubao.platform.cli_termination import deaths
from jubao.platform.cli_verification import verification
from jubao.platform.demo import DEMO_PASSWORD, load_demo
from jubao.platform.demo_people import seed_people
from jubao.platform.migrate import SchemaOutOfDateError, check_schema_current, migrate
from jubao.platform.services import Services
from jubao.platform.settings import InsecureConfigurationError
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.demo import DEMO_LIMITS
from jubao.tenants.importer import RegionImportError, import_regions, read_regions
from jubao.tenants.models import Region


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    envvar="JUBAO_LANG",
    default="zh",
    show_default=True,
    help="Language of messages.",
)
@click.pass_context
def main(ctx: click.Context, lang: str) -> None:
    """居保 jubao — urban and rural residents' basic pension insurance."""
    ctx.obj = Session(Lang(lang))


main.add_command(payroll)
main.add_command(worker)
main.add_command(jobs)
main.add_command(verification)
main.add_command(deaths)


# --- service -------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@pass_session
def serve(session: Session, host: str, port: int, workers: int) -> None:
    """Serve the GraphQL API (uvicorn)."""
    try:
        session.settings.check_safe_for_production()
    except InsecureConfigurationError as error:
        raise click.ClickException(str(error)) from None
    _check_port_free(session, host, port)

    async def ready(services: Services) -> None:
        try:
            await check_schema_current(services.db)
        except SchemaOutOfDateError as error:
            raise click.ClickException(str(error)) from None

    session.run(ready)
    _run_server(host, port, workers)


def _check_port_free(session: Session, host: str, port: int) -> None:
    """Say so before any work if the address is taken (uvicorn would log a traceback and
    stop after the demo had announced itself ready)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            zh = f"地址 {host}:{port} 已被占用（另一个程序正在使用）；请用 --port 选择其他端口"
            en = f"{host}:{port} is in use by another program; choose another with --port"
            example = (
                f"（如 --port {port + 1}）" if session.lang is Lang.ZH else f" (--port {port + 1})"
            )
            raise click.ClickException((zh if session.lang is Lang.ZH else en) + example) from None


def _run_server(host: str, port: int, workers: int = 1) -> None:
    # jubao's own middleware logs each request with its id; uvicorn's access log would repeat it
    uvicorn.run(
        "jubao.platform.app:serve_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,  # no banner naming the server software to probes
    )


@main.command(name="migrate")
@pass_session
def migrate_command(session: Session) -> None:
    """Bring the database schema and the role table up to date."""
    added, removed = session.run(lambda services: migrate(services.db), Rerun.RESUMES)
    session.say(
        f"数据库已更新到最新版本；角色权限新增 {added} 条、删除 {removed} 条",
        f"Database is up to date; role permissions: {added} added, {removed} removed",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--size", default="3,3,3,4", show_default=True, help="cities,counties,townships,villages"
)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and stop.")
@click.option("--empty", is_flag=True, help="Only the region tree and the logins: no people.")
@pass_session
def demo(session: Session, host: str, port: int, size: str, no_serve: bool, empty: bool) -> None:
    """Migrate, create a demo province with one operator per role and a few hundred people
    with years of contributions and interest (unless --empty), then serve."""
    if session.settings.production:
        raise click.ClickException("jubao demo refuses to run with JUBAO_ENV=production")
    try:
        shape = tuple(int(n) for n in size.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or not all(
        1 <= n <= most for n, most in zip(shape, DEMO_LIMITS, strict=True)
    ):
        ranges = zip(("cities", "counties", "townships", "villages"), DEMO_LIMITS, strict=True)
        raise click.BadParameter(
            "four numbers: " + ", ".join(f"{name} (1–{most})" for name, most in ranges),
            param_hint="--size",
        )

    if not no_serve:
        _check_port_free(session, host, port)

    async def work(services: Services) -> tuple[list[Any], int]:
        await migrate(services.db)
        async with services.db.transaction(session.actor) as db:
            logins = await load_demo(db, services.settings.passwords, size=shape)
        people = 0
        if not empty:
            village = next(login.region for login in logins if login.region.level is Level.VILLAGE)
            people = await seed_people(
                services.db, session.actor, today=services.clock.today(), waiting_in=village
            )
        return logins, people

    if not empty:
        session.say(
            "正在准备演示省（参保人、历年缴费和利息，约需半分钟）…",
            "Preparing the demo province (people, years of contributions and interest; about "
            "half a minute)…",
        )
    logins, people = session.run(work, Rerun.RESUMES)
    url = f"http://{host}:{port}/graphql"
    if people:
        session.say(
            f"已生成 {people} 名演示参保人及其缴费、利息和几件待审核的申请",
            f"{people} demo people enrolled, with their contributions, interest and a few "
            "applications waiting for review",
        )
    session.say(f"\n演示省已就绪。GraphQL：{url}", f"\nDemo province ready. GraphQL: {url}")
    session.say(
        f"所有演示账号的密码：{DEMO_PASSWORD}", f"Password of every demo login: {DEMO_PASSWORD}"
    )
    for login in logins:
        click.echo(
            f"  {login.username:<20} {login.role:<20} {login.region.code} {login.region_name}"
        )
    if not no_serve:
        click.echo()
        _run_server(host, port)


# --- regions -------------------------------------------------------------------------------


@main.group()
def regions() -> None:
    """Region code tables."""


@regions.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid rows even if some are rejected."
)
@click.option(
    "--valid-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date the new codes take effect (default: today).",
)
@pass_session
def regions_import(session: Session, file: Path, skip_invalid: bool, valid_from: Any) -> None:
    """Import a CSV of codes: code,name[,urban_rural_class]."""

    async def work(services: Services) -> Any:
        async with services.db.transaction(session.actor) as db:
            return await import_regions(
                db,
                session.actor,
                read_regions(file),
                skip_invalid=skip_invalid,
                valid_from=valid_from.date() if valid_from else services.clock.today(),
            )

    report = session.run(work)
    for rejection in report.rejected:
        click.echo(f"{file}:{rejection.describe(session.lang)}", err=True)
    if report.rejected and not skip_invalid:
        raise click.ClickException(
            RegionImportError.REJECTED.message(session.lang, count=len(report.rejected))
        )
    session.say(
        f"新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}，"
        f"拒绝 {len(report.rejected)}",
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"rejected {len(report.rejected)}",
    )


@regions.command(name="abolish")
@click.argument("code")
@click.option("--reason", required=True, help="Why, e.g. the notice that merged it.")
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day of the region (default: today).",
)
@pass_session
def regions_abolish(session: Session, code: str, reason: str, on: Any) -> None:
    """Abolish a region and everything below it (撤销): kept, never deleted, but closed."""

    async def work(services: Services) -> int:
        async with services.db.transaction(session.actor) as db:
            return await abolish_region(
                db,
                session.actor,
                RegionCode(code),
                on=on.date() if on else services.clock.today(),
                reason=reason,
            )

    ended = session.run(work)
    session.say(f"已撤销 {ended} 个区划", f"{ended} regions abolished")


# --- users and roles -------------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@main.group()
def users() -> None:
    """Operators."""


@users.command(name="create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name (姓名).")
@click.option("--region", required=True, help="Home region code (12 digits).")
@click.option(
    "--superuser", is_flag=True, help="Also grant province_admin at --region (a province)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_session
def users_create(
    session: Session,
    username: str,
    display_name: str,
    region: str,
    superuser: bool,
    password_stdin: bool,
) -> None:
    """Create an operator (the first province administrator with --superuser)."""
    password = _read_password(password_stdin)

    async def work(services: Services) -> int:
        code = RegionCode(region)
        async with services.db.transaction(session.actor) as db:
            operator = await create_operator(
                db,
                session.actor,
                services.settings.passwords,
                username=username,
                display_name=display_name,
                region=code,
                password=password,
                # the first administrator types their own; anyone else's is temporary
                password_expired=not superuser,
            )
            if superuser:
                await grant_rules.grant_role(
                    db,
                    session.actor,
                    user_id=operator.id,
                    role_name="province_admin",
                    region=code,
                    reason="jubao users create --superuser",
                )
            return operator.id

    operator_id = session.run(work)
    session.say(
        f"已创建操作员 {username}（ID {operator_id}）",
        f"Created operator {username} (id {operator_id})",
    )


@main.group()
def roles() -> None:
    """The role catalogue and grants."""


@roles.command(name="list")
@click.option("--user", "username", help="Show this operator's grants instead of the catalogue.")
@pass_session
def roles_list(session: Session, username: str | None) -> None:
    """List the role catalogue, or one operator's grants."""
    if username is None:
        for role in ROLES:
            title = role.zh if session.lang is Lang.ZH else role.en
            levels = f"{role.min_level.name.lower()}..{role.max_level.name.lower()}"
            click.echo(f"{role.name:<20} {title:<12} {levels}")
            for obj, act in sorted(role.permissions):
                click.echo(f"    {act.value:<8} {obj.value}")
        return

    async def work(services: Services) -> list[Any]:
        async with services.db.session(session.actor) as db:
            operator = await _operator(db, username)
            return await grants_of(db, operator.id)

    for grant in session.run(work):
        click.echo(f"{grant.id:>6} {grant.role:<20} {RegionCode.from_prefix(grant.prefix).code}")


async def _operator(db: Any, username: str) -> Any:
    operator = await find_by_username(db, username)
    if operator is None:
        raise click.ClickException(f"no such operator: {username}")
    return operator


@roles.command(name="grant")
@click.argument("username")
@click.argument("role", type=click.Choice([r.name.value for r in ROLES]))
@click.argument("region")
@click.option("--reason", required=True, help="Why (recorded in the audit trail).")
@pass_session
def roles_grant(session: Session, username: str, role: str, region: str, reason: str) -> None:
    """Grant ROLE over REGION (and its subtree) to USERNAME."""

    async def work(services: Services) -> int:
        async with services.db.transaction(session.actor) as db:
            operator = await _operator(db, username)
            grant = await grant_rules.grant_role(
                db,
                session.actor,
                user_id=operator.id,
                role_name=role,
                region=RegionCode(region),
                reason=reason,
                separation_of_duties=services.settings.separation_of_duties,
            )
            return grant.id

    grant_id = session.run(work)
    session.say(f"已授权（授权 ID {grant_id}）", f"Granted (grant id {grant_id})")


@roles.command(name="revoke")
@click.argument("username")
@click.argument("role", type=click.Choice([r.name.value for r in ROLES]))
@click.argument("region")
@click.option("--reason", required=True, help="Why (recorded in the audit trail).")
@pass_session
def roles_revoke(session: Session, username: str, role: str, region: str, reason: str) -> None:
    """Revoke USERNAME's grant of ROLE over REGION."""

    async def work(services: Services) -> None:
        code = RegionCode(region)
        async with services.db.transaction(session.actor) as db:
            operator = await _operator(db, username)
            held = [
                g
                for g in await grants_of(db, operator.id)
                if (g.role, g.prefix) == (role, code.prefix)
            ]
            if not held:
                raise DomainError(grant_rules.GrantError.GRANT_NOT_FOUND)
            await grant_rules.revoke_grant(db, session.actor, grant_id=held[0].id, reason=reason)

    session.run(work)
    session.say("已撤销授权", "Revoked")


# --- pension ---------------------------------------------------------------------------------


@main.group()
def policy() -> None:
    """Policy parameters (effective-dated, per region)."""


@policy.command(name="load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_session
def policy_load(session: Session, file: Path) -> None:
    """Load (or replace) a parameter set from a TOML file."""

    text = file.read_text(encoding="utf-8")

    async def work(services: Services) -> Any:
        policy_file = read_policy_file(text)
        async with services.db.transaction(session.actor) as db:
            return await save_policy(db, session.actor, policy_file, reason=file.name)

    saved = session.run(work)
    where = saved.region_prefix or "national"
    session.say(
        f"已载入政策参数（{where}，{saved.effective_year} 年起，编号 {saved.id}）",
        f"Loaded parameters for {where} from {saved.effective_year} (set {saved.id})",
    )


@policy.command(name="show")
@click.argument("region")
@click.argument("year", type=int)
@pass_session
def policy_show(session: Session, region: str, year: int) -> None:
    """Print the rules in force for REGION in YEAR (JSON, amounts in yuan)."""

    async def work(services: Services) -> dict[str, Any]:
        async with services.db.session(session.actor) as db:
            return describe_policy(await policy_for(db, RegionCode(region), year))

    click.echo(json.dumps(session.run(work), ensure_ascii=False, indent=2))


@main.group()
def crosscheck() -> None:
    """Lists from other schemes that enrolment is checked against."""


@crosscheck.command(name="import")
@click.argument("kind", type=click.Choice(["employees"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_session
def crosscheck_import(session: Session, kind: str, file: Path) -> None:
    """Replace the employees'-scheme list (CSV/Excel with an ID-number column)."""

    async def work(services: Services) -> Any:
        async with services.db.transaction(session.actor) as db:
            return await import_employees(db, session.actor, file, today=services.clock.today())

    report = session.run(work)
    report_lines(report.describe(session.lang), None, file)
    session.say(
        f"已导入 {report.imported} 人，拒绝 {len(report.rejected)} 行",
        f"{report.imported} people imported, {len(report.rejected)} rows rejected",
    )


@main.group(name="import")
def import_group() -> None:
    """Bulk imports of historical data."""


@import_group.command(name="persons")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-or-nothing", is_flag=True, help="Import nothing if any row is rejected.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rejected rows (default: FILE.rejected.txt).",
)
@pass_session
def import_persons_command(
    session: Session, file: Path, all_or_nothing: bool, report: Path | None
) -> None:
    """Import enrolled people from CSV or Excel, checking every row."""
    report = report or file.with_name(file.name + ".rejected.txt")
    # Written as the refused rows come (in line order) and put in place once the run is
    # through, so that an interrupted run leaves no half report behind.
    partial = report.with_name(report.name + ".part")

    async def work(services: Services) -> ImportReport:
        with ExitStack() as stack:
            out = stack.enter_context(partial.open("w", encoding="utf-8"))
            bars: list[Any] = []

            def progress(done: int, total: int) -> None:
                if not bars:  # the importer counts the rows (reading the file to its end) first
                    bar = click.progressbar(length=total, label="导入 / importing", file=sys.stderr)
                    bars.append(stack.enter_context(bar))
                bars[0].update(done - bars[0].pos)

            async with services.db.one_connection(session.actor) as units:
                return await import_persons(
                    units,
                    session.actor,
                    file,
                    all_or_nothing=all_or_nothing,
                    today=services.clock.today(),
                    progress=progress,
                    rejected=lambda row: out.write(row.describe(session.lang) + "\n"),
                )

    try:
        result = session.run(work, Rerun.RESUMES)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(report)
    session.say(
        f"导入 {result.imported} 人，此前已导入 {result.already_done} 人，"
        f"拒绝 {result.rejected} 行（见 {report}）",
        f"{result.imported} imported, {result.already_done} imported before, "
        f"{result.rejected} rejected (see {report})",
    )
    if result.batch_id is not None:
        session.say(
            f"本文件累计导入 {result.file_imported} 人（导入批次 {result.batch_id}）",
            f"{result.file_imported} imported from this file in all (import batch "
            f"{result.batch_id})",
        )
    if all_or_nothing and result.rejected:
        raise click.ClickException(
            PersonImportError.REJECTED.message(session.lang, count=result.rejected)
        )


@main.group()
def interest() -> None:
    """Annual interest on individual accounts."""


@interest.command(name="post")
@click.argument("year", type=int)
@click.option("--region", default=None, help="Only this region (default: every province).")
@click.option(
    "--parallel",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Chunks of accounts posted at once (PostgreSQL; SQLite runs one at a time).",
)
@pass_session
def interest_post(session: Session, year: int, region: str | None, parallel: int) -> None:
    """Post YEAR's interest, in chunks; safe to run again after an interruption."""

    async def work(services: Services) -> list[Any]:
        async with services.db.session(session.actor) as db:
            regions = [RegionCode(region)] if region else await _provinces(db)
        return [
            await post_interest(
                lambda: services.db.transaction(session.actor),
                session.actor,
                where,
                year,
                today=services.clock.today(),
                parallel=1 if services.db.is_sqlite else parallel,
            )
            for where in regions
        ]

    results = session.run(work, Rerun.RESUMES)
    accounts, total = sum(r.accounts for r in results), sum(r.total for r in results)
    session.say(
        f"{year} 年结息：{accounts} 个账户，合计 {format_yuan(total)} 元",
        f"Interest for {year}: {accounts} accounts, {format_yuan(total)} yuan",
    )


async def _provinces(db: Any) -> list[RegionCode]:
    codes = await db.scalars(select(Region.code).where(Region.level == 1).order_by(Region.code))
    return [RegionCode(code) for code in codes]


@main.group()
def ledger() -> None:
    """Individual-account ledger."""


@ledger.command(name="check")
@pass_session
def ledger_check(session: Session) -> None:
    """Verify that every transaction balances and every balance equals the sum of its legs."""

    async def work(services: Services) -> Any:
        async with services.db.session(session.actor) as db:
            return await check_ledger(db)

    problems = session.run(work)
    for problem in problems:
        click.echo(problem.describe(session.lang), err=True)
    if problems:
        raise click.ClickException(LedgerError.PROBLEMS.message(session.lang, count=len(problems)))
    session.say(
        "每笔交易借贷平衡，所有余额与明细一致",
        "Every transaction balances and every balance equals the sum of its legs",
    )


@ledger.command(name="statement")
@click.argument("id_number")
@click.argument("year", type=int)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A .csv or .xlsx file.",
)
@pass_session
def ledger_statement(session: Session, id_number: str, year: int, output: Path) -> None:
    """Write a person's account statement (对账单) for YEAR."""
    try:
        fmt = format_of(output)
    except ValueError:
        raise click.BadParameter("the output must end in .csv or .xlsx") from None

    async def work(services: Services) -> bytes:
        async with services.db.transaction(session.actor) as db:
            person = await db.scalar(
                select(Person).where(Person.id_number == IdNumber.read(id_number).value)
            )
            if person is None:
                raise DomainError(PersonError.NOT_FOUND)
            return await statement_file(db, session.actor, person, year, fmt, session.lang)

    output.write_bytes(session.run(work))
    session.say(f"已写入 {output}", f"Wrote {output}")


@main.group()
def persons() -> None:
    """Insured people."""


@persons.command(name="check-ids")
@pass_session
def persons_check_ids(session: Session) -> None:
    """Report stored ID numbers not in the canonical form (ASCII digits and X)."""

    async def work(services: Services) -> list[IdFinding]:
        async with services.db.session(session.actor) as db:
            return await non_canonical_id_numbers(db)

    findings = session.run(work)
    for finding in findings:
        click.echo(finding.describe(session.lang), err=True)
    if findings:
        raise click.ClickException(IdCheckError.FOUND.message(session.lang, count=len(findings)))
    session.say("所有身份证号码均为标准形式", "Every stored ID number is in canonical form")


@main.group()
def contributions() -> None:
    """Contribution collection through the bank."""


@contributions.command(name="bank-export")
@click.argument("region")
@click.argument("year", type=int)
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@pass_session
def bank_export(session: Session, region: str, year: int, output: Path) -> None:
    """Store a collection batch for REGION (e.g. a township) and YEAR and write it to OUTPUT
    (.csv or .xlsx); people without a bank account go to OUTPUT.no-account.csv."""
    if output.suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter("the output must end in .csv or .xlsx", param_hint="OUTPUT")

    # Written aside and put in place once the batch is stored: a file is never left naming a
    # batch that does not exist.
    draft = output.with_name(f".{output.name}.part{output.suffix}")

    async def work(services: Services) -> Export:
        async with services.db.transaction(session.actor) as db:
            return await export_collection(db, session.actor, RegionCode(region), year, draft)

    try:
        result = session.run(work)
    except click.ClickException:
        draft.unlink(missing_ok=True)
        raise
    draft.replace(output)
    for owing in result.skipped:
        click.echo(
            f"{owing.region_code} {owing.person_id}: {owing.reason.message(session.lang)}",
            err=True,
        )
    apart = output.with_name(output.name + ".no-account.csv")
    if result.without_account:
        write_owing(apart, result.without_account, session.lang)
    session.say(
        f"批次 {result.batch_id}：已写入 {result.written} 人，合计 {format_yuan(result.total)} 元；"
        f"无银行账号 {len(result.without_account)} 人"
        + (f"（见 {apart}）" if result.without_account else "")
        + f"，不能扣款 {len(result.skipped)} 人",
        f"Batch {result.batch_id}: {result.written} people, {format_yuan(result.total)} yuan; "
        f"{len(result.without_account)} without a bank account"
        + (f" (see {apart})" if result.without_account else "")
        + f", {len(result.skipped)} that cannot be debited",
    )


@contributions.command(name="bank-import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to list the rows not posted (default: FILE.refused.txt).",
)
@pass_session
def bank_import(session: Session, file: Path, report: Path | None) -> None:
    """Post the successful debits of the bank's result file; list the rest."""

    async def work(services: Services) -> Any:
        async with services.db.transaction(session.actor) as db:
            return await import_results(db, session.actor, file, today=services.clock.today())

    result = session.run(work)
    report = report or file.with_name(file.name + ".refused.txt")
    report_lines(result.describe(session.lang), report, file)
    session.say(
        f"入账 {result.posted} 笔，此前已入账 {result.already_posted} 笔，"
        f"未入账 {len(result.refused)} 笔（见 {report}）",
        f"{result.posted} posted, {result.already_posted} posted before, "
        f"{len(result.refused)} not posted (see {report})",
    )


# --- schema --------------------------------------------------------------------------------


@main.group()
def schema() -> None:
    """The GraphQL schema (SDL)."""


@schema.command(name="export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schema.graphql"),
    show_default=True,
)
@click.option(
    "--check", is_flag=True, help="Fail if the file differs from the code instead of writing it."
)
def schema_export(output: Path, check: bool) -> None:
    """Write the SDL to schema.graphql (or check that it is current)."""
    from jubao.platform.api.schema import schema_sdl

    sdl = schema_sdl()
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != sdl:
            raise click.ClickException(f"{output} is stale; run `jubao schema export`")
        return
    output.write_text(sdl, encoding="utf-8")


if __name__ == "__main__":
    main()
