"""The token-signing secret: set, or in development generated once per data folder."""

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jubao.authz.operators import Operator
from jubao.platform.secret import secret_file, signing_secret
from jubao.platform.settings import InsecureConfigurationError, Settings
from jubao.platform.tokens import Tokens
from tests.conftest import make_settings


def development(url: str) -> Settings:
    return make_settings(url, env="development", secret_key=None)


def test_a_set_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'jubao.db'}", env="development")
    assert signing_secret(settings) == settings.secret_key
    assert list(tmp_path.iterdir()) == []


def test_development_generates_one_secret_per_data_folder_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = signing_secret(development(f"sqlite+aiosqlite:///{tmp_path / 'a' / 'jubao.db'}"))
    kept = tmp_path / "a" / "jubao.secret"
    assert kept.read_text().strip() == first and len(first) >= 48
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner only
    # the next start reads it; another data folder gets a key of its own
    assert signing_secret(development(f"sqlite+aiosqlite:///{tmp_path / 'a' / 'jubao.db'}")) == (
        first
    )
    other = signing_secret(development(f"sqlite+aiosqlite:///{tmp_path / 'b' / 'jubao.db'}"))
    assert other != first
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["jubao.secret"]  # no leftovers


def test_workers_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    settings = development(f"sqlite+aiosqlite:///{tmp_path / 'jubao.db'}")
    start = threading.Barrier(8)

    def worker() -> str:
        start.wait()
        return signing_secret(settings)

    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = {f.result() for f in [pool.submit(worker) for _ in range(8)]}
    assert len(secrets) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["jubao.secret"]


def test_where_the_secret_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert secret_file("sqlite+aiosqlite:///./data/jubao.db") == Path("data/jubao.secret")
    assert secret_file("sqlite+aiosqlite:///:memory:") is None
    assert secret_file("sqlite+aiosqlite://") is None
    # a database server has no folder of ours: the working directory
    monkeypatch.chdir(tmp_path)
    url = "postgresql+asyncpg://jubao@db.example/jubao"
    assert secret_file(url) == Path("jubao.secret")
    assert signing_secret(development(url)) == (tmp_path / "jubao.secret").read_text().strip()


def test_an_in_memory_database_gets_a_secret_for_the_process_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tokens = Tokens(development("sqlite+aiosqlite://"))
    assert len(tokens.signing_key()) >= 48 and tokens.signing_key() == tokens.signing_key()
    assert list(tmp_path.iterdir()) == []


def test_tokens_signed_before_a_restart_still_verify(tmp_path: Path) -> None:
    settings = development(f"sqlite+aiosqlite:///{tmp_path / 'jubao.db'}")
    before = Tokens(settings)
    token, _ = before.access_token(Operator(id=7, username="u", token_version=2), "f" * 32)
    after = Tokens(settings)  # the next start of the server
    assert after.decode_access(token).operator_id == 7


def test_a_damaged_secret_file_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "jubao.secret").write_text("\n")
    with pytest.raises(InsecureConfigurationError, match="delete it"):
        signing_secret(development(f"sqlite+aiosqlite:///{tmp_path / 'jubao.db'}"))
    assert (tmp_path / "jubao.secret").read_text() == "\n"


def test_production_never_generates_one(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'jubao.db'}", env="production", secret_key=None
    )
    with pytest.raises(InsecureConfigurationError, match="JUBAO_SECRET_KEY"):
        signing_secret(settings)
    assert list(tmp_path.iterdir()) == []
