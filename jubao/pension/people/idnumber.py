"""公民身份号码 (GB 11643-1999): parsing, the MOD 11-2 check, and what the number says.

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence (odd male, even
female), check character. A 15-digit legacy number is upgraded by inserting "19" before the
year and computing the check character.

Every way a number comes in (the API, changes, imports, the employees'-scheme list, bank files,
the command line) passes :func:`canonical_id_number`, and only its canonical form — ASCII
digits and a capital ``X`` — is stored and compared: otherwise "４１０１…" typed on a
full-width keyboard would be a second citizen beside "4101…".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from jubao.errors import DomainError, ErrorCode, Text

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII only: ``\d`` would also take Arabic-Indic and other Unicode digits, which int() reads.
_EIGHTEEN = re.compile(r"[0-9]{17}[0-9X]")
_FIFTEEN = re.compile(r"[0-9]{15}")
EARLIEST_BIRTH = date(1880, 1, 1)


class Sex(IntEnum):
    """aac004: 1 男, 2 女."""

    MALE = 1
    FEMALE = 2

    @property
    def text(self) -> Text:
        return Text("男" if self is Sex.MALE else "女", self.name.lower())


class IdNumberError(ErrorCode):
    MALFORMED = (
        "身份证号码应为 18 位数字（最后一位可为 X），或 15 位数字的旧号码",
        "An ID number is 18 digits (the last may be X), or 15 digits for an old one",
    )
    CHECK_DIGIT = (
        "身份证号码校验位不正确（应为 {expected}）",
        "The ID number's check character is wrong (it should be {expected})",
    )
    BIRTH_DATE = (
        "身份证号码中的出生日期 {digits} 不是有效日期",
        "The birth date {digits} in the ID number is not a real date",
    )
    FUTURE_BIRTH = (
        "身份证号码中的出生日期 {birth} 晚于今天",
        "The birth date {birth} in the ID number is in the future",
    )
    SEX_MISMATCH = (
        "性别与身份证号码不符：号码表明为{expected}",
        "The sex does not match the ID number, which says {expected}",
    )
    BIRTH_MISMATCH = (
        "出生日期与身份证号码不符：号码表明为 {expected}",
        "The birth date does not match the ID number, which says {expected}",
    )


def canonical_id_number(text: str, *, field: str = "idNumber") -> str:
    """The one stored form of a number as typed: NFKC first (full-width "４" and "Ｘ" become
    "4" and "X"), surrounding blanks dropped, "x" upper-cased, a 15-digit number upgraded;
    anything that is then not 17 ASCII digits and a digit or X is refused. The check character
    is not verified here (`IdNumber.read` does)."""
    raw = unicodedata.normalize("NFKC", text or "").strip().upper()
    if _FIFTEEN.fullmatch(raw):
        body = raw[:6] + "19" + raw[6:]
        raw = body + check_character(body)
    if not _EIGHTEEN.fullmatch(raw):
        raise DomainError(IdNumberError.MALFORMED, field=field)
    return raw


def is_canonical(value: str) -> bool:
    """Whether a stored number is in the canonical form with a right check character."""
    return bool(_EIGHTEEN.fullmatch(value)) and value[17] == check_character(value[:17])


def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day`` (someone born on 29 February comes of age on 1 March)."""
    years = day.year - birth.year
    return years - ((day.month, day.day) < (birth.month, birth.day))


def check_character(body: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class IdNumber:
    value: str
    birth_date: date
    sex: Sex

    @classmethod
    def parse(cls, text: str, *, today: date, field: str = "idNumber") -> IdNumber:
        """A number given for a person: everything `read` checks, and a birth date that is
        not after ``today``."""
        identity = cls.read(text, field=field)
        if identity.birth_date > today:
            raise DomainError(
                IdNumberError.FUTURE_BIRTH, field=field, birth=identity.birth_date.isoformat()
            )
        return identity

    @classmethod
    def read(cls, text: str, *, field: str = "idNumber") -> IdNumber:
        """A well-formed number (canonical form, check character, a real birth date): enough
        to look someone up by."""
        raw = canonical_id_number(text, field=field)
        expected = check_character(raw[:17])
        if raw[17] != expected:
            raise DomainError(IdNumberError.CHECK_DIGIT, field=field, expected=expected)
        digits = raw[6:14]
        try:
            birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            raise DomainError(IdNumberError.BIRTH_DATE, field=field, digits=digits) from None
        if birth < EARLIEST_BIRTH:
            raise DomainError(IdNumberError.BIRTH_DATE, field=field, digits=digits)
        sex = Sex.MALE if int(raw[16]) % 2 else Sex.FEMALE
        return cls(raw, birth, sex)

    def check_matches(self, *, sex: Sex | None, birth_date: date | None) -> None:
        """Cross-check what was entered on the form against what the number says."""
        if sex is not None and sex is not self.sex:
            raise DomainError(IdNumberError.SEX_MISMATCH, field="sex", expected=self.sex.text)
        if birth_date is not None and birth_date != self.birth_date:
            raise DomainError(
                IdNumberError.BIRTH_MISMATCH,
                field="birthDate",
                expected=self.birth_date.isoformat(),
            )

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)

    def __str__(self) -> str:
        return self.value


def mask_id_number(value: str) -> str:
    """``410102********123X``: the address code and the last four stay readable."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
