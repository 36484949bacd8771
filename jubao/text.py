"""The one rule for free text that people type: names, addresses, reasons, comments, titles,
search prefixes, the text cells of files.

Text is stored and shown NFC-normalised; it must be valid Unicode (no lone surrogates: they
cannot be encoded, so they would fail in the database or the JSON encoder long after they were
accepted), hold no control or format characters (NUL, C0/C1, the bidi overrides and isolates
that make text display in another order than it is stored, zero-width characters), not consist
of blanks alone, and fit its field's length. Private-use and not-yet-assigned code points are
allowed: rare characters in Chinese names (生僻字) are written with them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from jubao.errors import DomainError, ErrorCode, Text

# Letters and symbols that print as nothing (Hangul fillers, braille blank).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class TextError(ErrorCode):
    REQUIRED = ("{label}不能为空", "{label} must not be empty")
    TOO_LONG = (
        "{label}不能超过 {max} 个字符（现为 {length} 个）",
        "{label} is at most {max} characters (this has {length})",
    )
    CHARACTER = (
        "{label}含有不允许的字符 {char}（控制字符、格式字符或无效编码）",
        "{label} contains a character that is not allowed, {char} (a control or format "
        "character, or invalid encoding)",
    )


@dataclass(frozen=True)
class TextField:
    """A free-text input: its name in the API (camelCase, as ``userErrors.field`` shows it),
    its label in messages, and its limits."""

    field: str
    label: Text
    max_length: int
    multiline: bool = False  # line breaks allowed (comments, reasons)
    # in a form, blank input where the field is optional means "not given" (a comment left
    # empty); otherwise given text must have something in it
    blank_is_none: bool = False

    def or_blank(self) -> TextField:
        return replace(self, blank_is_none=True)

    def clean(self, value: str | None, *, field: str | None = None) -> str:
        """``value`` as it is stored, or `DomainError` naming the field (``field`` overrides
        the name, e.g. "changes.name" inside a nested input)."""
        text = self.optional(value, field=field)
        if text is None:
            raise DomainError(TextError.REQUIRED, field=field or self.field, label=self.label)
        return text

    def optional(self, value: str | None, *, field: str | None = None) -> str | None:
        """As `clean`, but empty (or blank) input is None."""
        name = field or self.field
        if value is None:
            return None
        if self.multiline:  # a text area's line breaks, as browsers and Windows send them
            value = value.replace("\r\n", "\n").replace("\t", " ")
        for char in value:
            if unicodedata.category(char) in _REFUSED_CATEGORIES and not (
                self.multiline and char == "\n"
            ):
                raise DomainError(
                    TextError.CHARACTER, field=name, label=self.label, char=f"U+{ord(char):04X}"
                )
        text = unicodedata.normalize("NFC", value)
        if self.multiline:
            text = "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))
        else:
            text = " ".join(text.split())
        if all(char.isspace() or char in _BLANK_LETTERS or _is_mark(char) for char in text):
            return None
        if len(text) > self.max_length:
            raise DomainError(
                TextError.TOO_LONG,
                field=name,
                label=self.label,
                max=self.max_length,
                length=len(text),
            )
        return text


def quoted(value: str, limit: int = 20) -> str:
    """Refused input quoted back in a message: short, and only characters that print (a
    message must itself be safe to encode and to show)."""
    text = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in value[:limit])
    return text + ("…" if len(value) > limit else "")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


# The free-text fields of the system, one definition each.
PERSON_NAME = TextField("name", Text("姓名", "The name"), 50)
ADDRESS = TextField("address", Text("户籍地址", "The address"), 200)
REASON = TextField("reason", Text("原因", "The reason"), 500, multiline=True)
COMMENT = TextField("comment", Text("审核意见", "The comment"), 500, multiline=True)
TITLE = TextField("title", Text("标题", "The title"), 200)
DISPLAY_NAME = TextField("displayName", Text("姓名", "The display name"), 100)
REGION_NAME = TextField("name", Text("区划名称", "The region name"), 100)
GROUP_NAME = TextField("name", Text("群体名称", "The group name"), 50)
NAME_PREFIX = TextField("where.namePrefix", Text("姓名开头", "The name prefix"), 50)
