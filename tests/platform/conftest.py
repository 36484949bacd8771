"""Fixtures for the command-line tests."""

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from jubao.platform.cli import main
from tests.conftest import make_settings


@pytest.fixture
def jubao(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `jubao …` against an empty SQLite file; returns the result."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for key, value in make_settings(url).model_dump().items():
        monkeypatch.setenv(f"JUBAO_{key.upper()}", str(value))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    run.url = url  # type: ignore[attr-defined]
    return run
