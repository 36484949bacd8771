"""The long-lived objects one process shares between requests and commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Protocol

from jubao.platform.authn import AuthCache
from jubao.platform.db import Database
from jubao.platform.settings import Settings
from jubao.platform.tokens import Tokens
from jubao.platform.worker import InProcess


class Clock(Protocol):
    def today(self) -> date:
        """The business date where the scheme is run."""


@dataclass(frozen=True)
class LocalClock:
    """Today's date at a fixed UTC offset (China keeps UTC+8 all year): a server running on
    UTC would otherwise date everything between midnight and 08:00 to the day before."""

    offset_hours: int = 8

    def today(self) -> date:
        return datetime.now(UTC).astimezone(timezone(timedelta(hours=self.offset_hours))).date()


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    tokens: Tokens
    auth_cache: AuthCache
    jobs: InProcess
    clock: Clock = field(default_factory=LocalClock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Services:
        db = Database(settings.database_url, pool_size=settings.database_pool_size)
        return cls(
            settings=settings,
            db=db,
            tokens=Tokens(settings),
            auth_cache=AuthCache(settings.auth_cache_seconds),
            jobs=InProcess(db),
            clock=clock or LocalClock(settings.utc_offset_hours),
        )
