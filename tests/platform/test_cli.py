"""The `jubao` command, run in-process with click's runner against a fresh database."""

import asyncio
import socket
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from jubao.authz.actor import Actor
from jubao.authz.operators import Operator
from jubao.authz.policy import grants_of
from jubao.pension.accounts.ledger import FundEntry, LedgerTxn
from jubao.pension.people.persons import Person
from jubao.platform.services import Services
from jubao.tenants.models import Region
from tests.conftest import make_settings, run_aside

REGIONS = "code,name\n410000000000,中原省\n410100000000,白水市\n410121000000,乐平县\n"


def query(url: str, statement, *, commit: bool = False, rows: bool = False):  # type: ignore[no-untyped-def]
    """The first value ``statement`` reads (every row with ``rows``); with ``commit``, a
    change made and committed."""

    async def work():  # type: ignore[no-untyped-def]
        services = Services.create(make_settings(url))
        try:
            if commit:
                async with services.db.transaction(Actor.system("t")) as session:
                    await session.execute(statement)
                return None
            async with services.db.session(Actor.system("t")) as session:
                if rows:
                    return (await session.execute(statement)).all()
                return await session.scalar(statement)
        finally:
            await services.db.dispose()

    return run_aside(work())


def test_migrate_import_create_grant_list_revoke(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert jubao("migrate").exit_code == 0
    (tmp_path / "regions.csv").write_text(REGIONS, encoding="utf-8")
    imported = jubao("regions", "import", "regions.csv")
    assert imported.exit_code == 0, imported.output
    assert "新增 3" in imported.output

    created = jubao(
        "users",
        "create",
        "root",
        "--name",
        "省管理员",
        "--region",
        "410000000000",
        "--superuser",
        "--password-stdin",
        input="first-admin-password-1\n",
    )
    assert created.exit_code == 0, created.output
    user_id = query(jubao.url, select(Operator.id).where(Operator.username == "root"))

    li = jubao(
        "users",
        "create",
        "li.si",
        "--name",
        "李四",
        "--region",
        "410121000000",
        "--password-stdin",
        input="li-password-123\n",
    )
    assert li.exit_code == 0, li.output
    # the first administrator typed their own password; li.si's was typed for them
    expired = select(Operator.username, Operator.password_expired).order_by(Operator.username)
    assert [tuple(row) for row in query(jubao.url, expired, rows=True)] == [
        ("li.si", True),
        ("root", False),
    ]
    granted = jubao(
        "roles", "grant", "li.si", "agency_reviewer", "410121000000", "--reason", "任命"
    )
    assert granted.exit_code == 0, granted.output
    conflict = jubao(
        "roles", "grant", "li.si", "agency_processor", "410121000000", "--reason", "兼任"
    )
    assert conflict.exit_code == 1
    assert "职责分离" in conflict.output

    listed = jubao("roles", "list", "--user", "li.si")
    assert "agency_reviewer" in listed.output
    assert "410121000000" in listed.output
    assert "agency_reviewer" in jubao("--lang", "en", "roles", "list").output

    assert (
        jubao(
            "roles", "revoke", "li.si", "agency_reviewer", "410121000000", "--reason", "调离"
        ).exit_code
        == 0
    )
    assert "agency_reviewer" not in jubao("roles", "list", "--user", "li.si").output
    missing = jubao(
        "--lang",
        "en",
        "roles",
        "revoke",
        "li.si",
        "agency_reviewer",
        "410121000000",
        "--reason",
        "x",
    )
    assert missing.exit_code == 1
    assert "No such grant" in missing.output

    async def superuser_grants():  # type: ignore[no-untyped-def]
        services = Services.create(make_settings(jubao.url))
        async with services.db.session(Actor.system("t")) as session:
            held = await grants_of(session, user_id)
        await services.db.dispose()
        return [(g.role, g.prefix) for g in held]

    assert run_aside(superuser_grants()) == [("province_admin", "41")]


def test_region_import_reports_rejected_lines_and_imports_nothing(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jubao("migrate")
    (tmp_path / "bad.csv").write_text(
        REGIONS + "4101210010,坏代码\n410299000000,孤县\n", encoding="utf-8"
    )
    result = jubao("regions", "import", "bad.csv")
    assert result.exit_code == 1
    assert "bad.csv:5: 4101210010: 区划代码必须是 12 位数字" in result.output
    assert "bad.csv:6: 410299000000: 上级区划 410200000000 不在文件中" in result.output
    assert "2 行被拒绝，未导入任何数据" in result.output
    assert query(jubao.url, select(func.count()).select_from(Region)) == 0
    skipped = jubao(
        "--lang",
        "en",
        "regions",
        "import",
        "bad.csv",
        "--skip-invalid",
        "--valid-from",
        "2000-01-01",
    )
    assert skipped.exit_code == 0
    assert "added 3" in skipped.output
    assert "rejected 2" in skipped.output
    assert query(jubao.url, select(func.count()).select_from(Region)) == 3
    # a county abolished with what is below it: kept, closed
    abolished = jubao(
        "regions", "abolish", "410121000000", "--reason", "撤县设区", "--on", "2026-06-30"
    )
    assert abolished.exit_code == 0 and "已撤销 1 个区划" in abolished.output
    assert query(jubao.url, select(Region.valid_to).where(Region.code == "410121000000")) == date(
        2026, 6, 30
    )
    twice = jubao("--lang", "en", "regions", "abolish", "410121000000", "--reason", "x")
    assert twice.exit_code == 1 and "was abolished on 2026-06-30" in twice.output
    malformed = jubao("regions", "abolish", "4101", "--reason", "x")
    assert malformed.exit_code == 1 and "12 位数字" in malformed.output


def test_users_create_refuses_bad_input(jubao) -> None:  # type: ignore[no-untyped-def]
    jubao("migrate")
    result = jubao(
        "users",
        "create",
        "x",
        "--name",
        "某",
        "--region",
        "410000000000",
        "--password-stdin",
        input="pw\n",
    )
    assert result.exit_code == 1
    assert "用户名须为" in result.output
    region = jubao(
        "users",
        "create",
        "someone",
        "--name",
        "某",
        "--region",
        "41",
        "--password-stdin",
        input="pw\n",
    )
    assert region.exit_code == 1
    assert "区划代码必须是 12 位数字" in region.output


def test_demo_sets_up_a_province_and_logins(jubao) -> None:  # type: ignore[no-untyped-def]
    result = jubao("demo", "--no-serve", "--size", "1,2,1,2")
    assert result.exit_code == 0, result.output
    assert "province.admin" in result.output
    assert "village.assistant" in result.output
    people = query(jubao.url, select(func.count()).select_from(Person))
    assert people >= 8 and f"已生成 {people} 名演示参保人" in result.output
    again = jubao("demo", "--no-serve", "--size", "1,2,1,2")  # idempotent
    assert again.exit_code == 0 and "名演示参保人" not in again.output
    assert query(jubao.url, select(func.count()).select_from(Operator)) == 10
    assert query(jubao.url, select(func.count()).select_from(Person)) == people


def test_demo_can_be_empty(jubao) -> None:  # type: ignore[no-untyped-def]
    result = jubao("demo", "--no-serve", "--size", "2,2,2,3", "--empty")
    assert result.exit_code == 0, result.output
    assert query(jubao.url, select(func.count()).select_from(Region)) == 39
    assert query(jubao.url, select(func.count()).select_from(Person)) == 0


def test_a_busy_port_is_said_before_anything_is_done(jubao) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in (["demo", "--empty"], ["serve"]):
            result = jubao(*command, "--port", port)
            assert result.exit_code == 1, result.output
            assert f"127.0.0.1:{port} 已被占用" in result.output and "--port" in result.output
            assert "演示省已就绪" not in result.output


def test_serve_on_an_unmigrated_database_says_so(jubao) -> None:  # type: ignore[no-untyped-def]
    result = jubao("serve", "--port", "0")
    assert result.exit_code == 1
    assert "jubao migrate" in result.output and "Traceback" not in result.output


def test_schema_export_and_check(jubao, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert jubao("schema", "export", "--output", "s.graphql").exit_code == 0
    assert jubao("schema", "export", "--output", "s.graphql", "--check").exit_code == 0
    (tmp_path / "s.graphql").write_text("type Query { stale: Int }\n", encoding="utf-8")
    stale = jubao("schema", "export", "--output", "s.graphql", "--check")
    assert stale.exit_code == 1
    assert "stale" in stale.output


def test_demo_refuses_production(jubao, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JUBAO_ENV", "production")
    monkeypatch.delenv("JUBAO_SECRET_KEY")
    result = jubao("demo", "--no-serve")
    assert result.exit_code == 1
    # and serve refuses to run without a secret, with a message, not a traceback
    served = jubao("serve")
    assert served.exit_code == 1 and "JUBAO_SECRET_KEY" in served.output
    assert served.exception is None or isinstance(served.exception, SystemExit)


@pytest.mark.parametrize("size", ["2,2,2,500", "2,2,2", "a,b,c,d", "0,1,1,1"])
def test_demo_sizes_out_of_range(jubao, size: str) -> None:  # type: ignore[no-untyped-def]
    result = jubao("demo", "--no-serve", "--size", size)
    assert result.exit_code == 2 and "villages (1–199)" in result.output


__all__ = ["asyncio"]


def test_a_lost_database_is_one_line_without_personal_data(
    jubao, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Item 35: no traceback, none of the file's rows; what failed, and whether to run again."""
    number = "410121197001010012"
    (tmp_path / "people.csv").write_text(
        "身份证号码,姓名,民族,户籍性质,区划代码,户籍地址,缴费档次,参保日期,联系电话\n"
        f"{number},王秘密,01,农业,410121101201,某村,500,2020-01-01,13912345678\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("JUBAO_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = jubao("import", "persons", "people.csv")
    assert result.exit_code == 1
    assert "无法连接数据库" in result.output and "重新运行" in result.output
    assert "Traceback" not in result.output
    for secret in (number, "王秘密", "13912345678"):
        assert secret not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # the progress bar's label, the message


def test_an_unexpected_failure_goes_to_the_log_not_the_terminal(
    jubao, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    assert jubao("migrate").exit_code == 0

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret 410121197001010012")

    monkeypatch.setattr("jubao.platform.cli.check_ledger", broken)
    result = jubao("--lang", "en", "ledger", "check")
    assert result.exit_code == 1
    assert "Internal error; nothing was changed; it is safe to run it again" in result.output
    assert "410121197001010012" not in result.output and "Traceback" not in result.output
    logged = (tmp_path / "jubao-cli.log").read_text(encoding="utf-8")
    assert "RuntimeError" in logged and "Traceback" in logged


def test_the_ledger_check_names_a_transaction_that_does_not_balance(jubao) -> None:  # type: ignore[no-untyped-def]
    assert jubao("migrate").exit_code == 0
    passed = jubao("--lang", "en", "ledger", "check")
    assert passed.exit_code == 0, passed.output
    assert "Every transaction balances" in passed.output
    when = {"value_date": date(2024, 3, 1), "year": 2024}
    query(
        jubao.url,
        insert(LedgerTxn).values(id=7, kind="contribution", region_code="410121101201", **when),
        commit=True,
    )
    query(
        jubao.url,
        insert(FundEntry).values(
            txn_id=7, region_code="410121101201", account="income.personal", amount=-5, **when
        ),
        commit=True,
    )
    failed = jubao("ledger", "check")
    assert failed.exit_code == 1
    assert "记账交易 7 不平：各分录合计 -0.05 元，应为 0" in failed.output
    assert "账务检查发现 1 处不符" in failed.output
