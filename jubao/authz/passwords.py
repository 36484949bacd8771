"""Password hashing (argon2id) and the password rules operators must follow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jubao.errors import DomainError, ErrorCode


class PasswordError(ErrorCode):
    TOO_SHORT = ("密码至少需要 {min} 个字符", "A password needs at least {min} characters")
    TOO_LONG = ("密码不能超过 {max} 个字符", "A password can have at most {max} characters")
    CONTAINS_USERNAME = ("密码不能包含用户名", "A password must not contain the username")
    TOO_SIMPLE = (
        "密码至少要包含字母和数字两类字符",
        "A password needs both letters and digits",
    )
    UNCHANGED = ("新密码不能与原密码相同", "The new password must differ from the current one")


MAX_PASSWORD_LENGTH = 128  # argon2 accepts more; the bound keeps hashing cost predictable


@dataclass(frozen=True)
class Passwords:
    """Hashes and checks passwords. Defaults are argon2-cffi's RFC 9106 low-memory profile."""

    min_length: int = 10
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def check_rules(self, password: str, username: str, *, field_name: str = "password") -> None:
        if len(password) < self.min_length:
            raise DomainError(PasswordError.TOO_SHORT, field=field_name, min=self.min_length)
        if len(password) > MAX_PASSWORD_LENGTH:
            raise DomainError(PasswordError.TOO_LONG, field=field_name, max=MAX_PASSWORD_LENGTH)
        if username and username.lower() in password.lower():
            raise DomainError(PasswordError.CONTAINS_USERNAME, field=field_name)
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise DomainError(PasswordError.TOO_SIMPLE, field=field_name)

    # argon2 takes tens of milliseconds of CPU by design; it runs in a worker thread (the C
    # code releases the GIL) so that the event loop keeps serving other requests meanwhile.

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; an unknown user (``stored_hash`` None) costs the same and fails."""
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            matches = self.hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and stored_hash is not None

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash("jubao: the hash checked for unknown usernames")

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)
