"""A real server for the tests that need one: `jubao demo --no-serve` (a migrated SQLite file
and the demo logins), or only `jubao migrate`, then `jubao serve` on a free port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

JUBAO = [sys.executable, "-m", "jubao.platform.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(workdir: Path, *, workers: int = 1, demo: bool = True, **env: str) -> Iterator[str]:
    """The demo province (or, without ``demo``, an empty migrated database) served from
    ``workdir``; yields the base URL. ``env``: more ``JUBAO_…`` settings."""
    env = {
        **os.environ,
        "JUBAO_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'jubao.db'}",
        "JUBAO_ARGON2_MEMORY_KIB": "1024",
        "JUBAO_ARGON2_TIME_COST": "1",
        **env,
    }
    setup = ["demo", "--no-serve", "--empty"] if demo else ["migrate"]
    subprocess.run([*JUBAO, *setup], env=env, cwd=workdir, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*JUBAO, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            process.kill()
            raise AssertionError(process.stdout.read().decode() if process.stdout else "no output")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
