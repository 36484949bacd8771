"""The log never holds the parameters of a statement (people's data), at any level."""

import logging
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import pytest

from jubao.platform.logs import setup_logging


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def debug_log() -> Iterator[Kept]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    driver_level = logging.getLogger("aiosqlite").level
    setup_logging("debug")
    kept = Kept()
    root.addHandler(kept)
    yield kept
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("aiosqlite").setLevel(driver_level)


async def test_debug_logging_keeps_statement_parameters_out(
    debug_log: Kept, tmp_path: Path
) -> None:
    async with aiosqlite.connect(tmp_path / "x.db") as db:
        await db.execute("CREATE TABLE person (id_number TEXT)")
        await db.execute("INSERT INTO person VALUES (?)", ("41010219600101001X",))
    logging.getLogger("jubao.test").debug("debug records still pass")
    assert "debug records still pass" in debug_log.lines
    assert not any("41010219600101001X" in line for line in debug_log.lines)
