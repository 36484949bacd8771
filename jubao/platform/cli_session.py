"""What every command shares: its settings, language and actor, and a way to run async work
that fails with one clear line."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from jubao.authz.actor import Actor
from jubao.errors import DomainError, Lang
from jubao.platform.db import database_unavailable, outage
from jubao.platform.logs import log_to_file
from jubao.platform.services import Services
from jubao.platform.settings import Settings

T = TypeVar("T")
log = logging.getLogger("jubao.cli")


class Rerun(Enum):
    """What a command that failed half-way has left, for the message that says so."""

    NOTHING = ("没有做任何更改，可以重新运行", "nothing was changed; it is safe to run it again")
    RESUMES = (
        "已完成的部分已经保存，重新运行会接着完成，不会重复",
        "what was done is kept; running it again completes the rest without doing anything twice",
    )


class Session:
    """What every command needs: settings, language, and a way to run async work."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        try:
            self.settings = Settings()
        except ValidationError as error:
            names = ", ".join(f"JUBAO_{str(e['loc'][0]).upper()}" for e in error.errors())
            raise click.ClickException(
                f"环境变量的值无效：{names}" if lang is Lang.ZH else f"Invalid settings: {names}"
            ) from None
        self.actor = Actor.system(f"cli:{getpass.getuser()}")

    def run(self, work: Callable[[Services], Awaitable[T]], rerun: Rerun = Rerun.NOTHING) -> T:
        """Run ``work``; whatever goes wrong, one message says what failed and whether it can
        be run again — never a traceback, never the data being worked on (the detail goes to
        the log file)."""

        async def main() -> T:
            services = Services.create(self.settings)
            try:
                return await work(services)
            finally:
                await services.db.dispose()

        zh = self.lang is Lang.ZH
        try:
            return asyncio.run(main())
        except DomainError as error:
            raise click.ClickException(error.message(self.lang)) from None
        except click.ClickException:
            raise  # already said clearly
        except KeyboardInterrupt:
            raise click.ClickException(
                ("已中断；" if zh else "Interrupted; ") + rerun.value[0 if zh else 1]
            ) from None
        except Exception as error:  # anything else: one line, details to the log
            log_file = log_to_file(self.settings.cli_log)
            if database_unavailable(error):
                log.error("database unavailable: %s", outage(error))
                what = "无法连接数据库" if zh else "The database cannot be reached"
            else:
                log.error("command failed", exc_info=error)
                what = "内部错误" if zh else "Internal error"
            detail = f"详情已写入 {log_file}" if zh else f"details are in {log_file}"
            hint = rerun.value[0 if zh else 1]
            separator = "；" if zh else "; "
            raise click.ClickException(separator.join((what, hint, detail))) from None

    def text(self, zh: str, en: str) -> str:
        return zh if self.lang is Lang.ZH else en

    def say(self, zh: str, en: str) -> None:
        click.echo(self.text(zh, en))


pass_session = click.make_pass_decorator(Session)


def report_lines(lines: list[str], report: Path | None, source: Path) -> None:
    """Rejected rows: to the report file if one was named, else to standard error."""
    if report is not None:
        report.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        return
    for line in lines:
        click.echo(f"{source}:{line}", err=True)
