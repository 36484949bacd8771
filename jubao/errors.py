"""Typed, translatable business errors.

Every layer raises :class:`DomainError` with a member of an :class:`ErrorCode` enum. The member
names the error for machines (it becomes a GraphQL enum value and a CLI exit message) and
carries the Chinese and English message templates, so that one definition serves the API, the
command line and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"

    @classmethod
    def from_accept_language(cls, header: str | None) -> Lang:
        """Chinese unless the client's first preference is English."""
        if not header:
            return cls.ZH
        first = header.split(",", 1)[0].split(";", 1)[0].strip().lower()
        return cls.EN if first.startswith("en") else cls.ZH


@dataclass(frozen=True, slots=True)
class Text:
    """A message parameter that itself differs by language (a role's or a level's name)."""

    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


class ErrorCode(Enum):
    """Base class of error-code enums; each member's value is ``(zh, en)`` message templates."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en

    def message(self, lang: Lang = Lang.ZH, **params: Any) -> str:
        template = self.zh if lang is Lang.ZH else self.en
        return template.format(
            **{k: v(lang) if isinstance(v, Text) else v for k, v in params.items()}
        )


class DomainError(Exception):
    """A business rule refused the request; nothing was changed."""

    def __init__(self, code: ErrorCode, /, *, field: str | None = None, **params: Any) -> None:
        self.code = code
        self.field = field
        self.params = params
        super().__init__(code.message(Lang.EN, **params))

    def message(self, lang: Lang = Lang.ZH) -> str:
        return self.code.message(lang, **self.params)
