"""`jubao payroll`: preparing runs across a province, the bank's files, reconciliation."""

import asyncio
import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jubao.pension.benefits.payroll import PayrollRun
from jubao.platform.cli import main
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, PROVINCE
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, JANUARY, awarded, release, review
from tests.pension.support import SYSTEM


@pytest.fixture
def jubao(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`jubao …` on the test's own database, in English, with the clock in January 2027."""
    for key, value in services.settings.model_dump().items():
        monkeypatch.setenv(f"JUBAO_{key.upper()}", str(value))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("jubao.platform.services.LocalClock.today", lambda self: JANUARY.first_day)
    runner = CliRunner()

    async def run(*args: str) -> Result:
        # (in a thread: the command runs its own event loop)
        return await asyncio.to_thread(
            runner.invoke, main, ["--lang", "en", *args], catch_exceptions=False
        )

    return run


async def test_prepare_export_import_reconcile(
    services: Services, rules: None, acting: ActorFor, jubao, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    await awarded(services, acting, 41, bank_account=ACCOUNT)
    prepared = await jubao("payroll", "prepare", PROVINCE.code, "2027-01")
    assert prepared.exit_code == 0, prepared.output
    found = re.search(rf"{COUNTY_A.code} run (\d+): 1 lines, 268.43 yuan, 0 held", prepared.output)
    assert found is not None, prepared.output
    number = found[1]
    assert "Nobody in 410102000000 is due a pension for 2027-01" in prepared.output
    again = await jubao("payroll", "prepare", COUNTY_A.code, "2027-01")
    assert again.exit_code == 1 and f"already prepared as run {number}" in again.output

    async with services.db.session(SYSTEM) as session:
        run = await session.get(PayrollRun, int(number))
    assert run is not None
    unreleased = await jubao("payroll", "export", number, "daifa.csv")
    assert unreleased.exit_code == 1 and "not released" in unreleased.output
    assert not (tmp_path / "daifa.csv").exists()
    await review(acting, run)
    await release(acting, run)

    exported = await jubao("payroll", "export", number, "daifa.csv")
    assert exported.exit_code == 0, exported.output
    assert "1 lines, 268.43 yuan (csv, utf-8)" in exported.output
    rows = list(csv.reader((tmp_path / "daifa.csv").open(encoding="utf-8")))
    with (tmp_path / "huipan.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*rows[0], "发放结果"])
        writer.writerow([*rows[1], "成功"])
    imported = await jubao("payroll", "import", number, "huipan.csv")
    assert imported.exit_code == 0, imported.output
    assert "1 paid, 0 failed, 0 recorded before, 0 not recorded" in imported.output

    reconciled = await jubao("payroll", "reconcile", number)
    assert reconciled.exit_code == 0, reconciled.output
    assert "✓ account pension spending: lines 60.43, ledger 60.43 yuan" in reconciled.output
    assert "✗" not in reconciled.output
