"""The key that signs access tokens: ``JUBAO_SECRET_KEY``, or in development one generated on
first use and kept beside the data.

Production refuses to run without a set, strong key (``Settings.check_safe_for_production``).
In development a key written in the source would let anyone who read it sign tokens for any
database that trusts it; instead each data folder gets its own random key, in a file readable
by its owner only: ``jubao.secret`` beside the SQLite file ``jubao.db``, or in the working
directory when the database is a server (PostgreSQL) that has no folder of ours. Several
workers started together may race to create it; the file is written under a temporary name
and linked into place, which never replaces an existing file, so the first one wins and every
worker reads that one.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from jubao.platform.settings import MIN_SECRET_LENGTH, InsecureConfigurationError, Settings

log = logging.getLogger("jubao")

FILE_NAME = "jubao.secret"


def secret_file(database_url: str) -> Path | None:
    """Where the development key of this database lives; None for an in-memory database,
    whose data (and so whose tokens) end with the process."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return Path(FILE_NAME)
    database = url.database or ""
    if database in {"", ":memory:"} or url.query.get("mode") == "memory":
        return None
    return Path(database).with_suffix(".secret")


def signing_secret(settings: Settings) -> str:
    """The key to sign tokens with (see the module's description)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.production:
        settings.check_safe_for_production()  # raises: production needs a key set
    path = secret_file(settings.database_url)
    if path is None:
        return secrets.token_urlsafe(48)
    if not path.exists():
        _create(path)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise InsecureConfigurationError(
            f"{path} holds no usable secret (under {MIN_SECRET_LENGTH} characters): delete it "
            f"to have a new one generated, or set JUBAO_SECRET_KEY "
            f"（{path} 中的密钥不可用：删除该文件以重新生成，或设置 JUBAO_SECRET_KEY）"
        )
    return secret


def _create(path: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jubao-secret-")  # 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another worker was first: its key is the one
        log.info("generated a token-signing secret in %s", path)
    finally:
        os.unlink(temporary)
