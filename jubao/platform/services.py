"""The long-lived objects one process shares between requests and commands."""

from __future__ import annotations

from dataclasses import dataclass

from jubao.platform.db import Database
from jubao.platform.settings import Settings
from jubao.platform.tokens import Tokens


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    tokens: Tokens

    @classmethod
    def create(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            db=Database(settings.database_url, pool_size=settings.database_pool_size),
            tokens=Tokens(settings),
        )
