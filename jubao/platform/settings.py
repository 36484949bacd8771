"""Configuration from ``JUBAO_*`` environment variables, with safe development defaults."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import cached_property

from argon2 import PasswordHasher
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jubao.authz.passwords import Passwords
from jubao.authz.throttle import Throttle
from jubao.platform.client_address import Network, parse_networks

MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InsecureConfigurationError(RuntimeError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUBAO_", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./jubao.db"
    database_pool_size: int = Field(default=10, ge=1)
    # unset in development: a random key generated once per data folder (jubao.platform.secret)
    secret_key: str | None = None
    jwt_issuer: str = "jubao"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    # a used refresh token presented again within this time is a retry, not a theft
    refresh_reuse_grace_seconds: int = Field(default=30, ge=0, le=300)
    # how long a caller's operator row and grants are reused without reading them again; a
    # change made in another process (a revoked grant) takes effect within this time
    auth_cache_seconds: float = Field(default=1.0, ge=0, le=5)

    # Login throttling (jubao.authz.throttle): waits double from 1 s after the free failures.
    login_free_failures: int = Field(default=3, ge=1, le=20)  # per username and address
    login_max_delay_minutes: int = Field(default=15, ge=1, le=60)
    login_username_free_failures: int = Field(default=10, ge=1, le=100)  # from any address
    login_username_max_delay_seconds: int = Field(default=60, ge=1, le=900)
    login_address_free_failures: int = Field(default=20, ge=1, le=1000)  # any username
    login_window_minutes: int = Field(default=60, ge=2, le=24 * 60)
    login_trusted_days: int = Field(default=30, ge=0, le=365)
    # proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed
    trusted_proxies: str = ""
    password_min_length: int = Field(default=10, ge=8, le=64)
    # argon2id cost; the defaults are RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes).
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_parallelism: int = Field(default=4, ge=1)

    separation_of_duties: bool = True
    # business dates (enrolment, payments, which year is over) are taken at this UTC offset
    utc_offset_hours: int = Field(default=8, ge=-12, le=14)

    max_query_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=15, ge=0)
    max_query_tokens: int = Field(default=2000, ge=50)
    max_body_bytes: int = Field(default=100_000, ge=1_000)
    # a file sent to an upload route (a bank's result file), streamed to disk as it comes
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1_000)

    log_level: str = "INFO"
    # how long an Idempotency-Key's answer is kept (a repeat within it is answered, not run)
    idempotency_hours: int = Field(default=24, ge=1, le=168)
    # where the command line writes the detail of a failure (the terminal gets one line)
    cli_log: str = "jubao-cli.log"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _window_outlasts_the_waits(self) -> Settings:
        longest = max(self.login_max_delay_minutes * 60, self.login_username_max_delay_seconds)
        if self.login_window_minutes * 60 <= longest:
            raise ValueError(
                "JUBAO_LOGIN_WINDOW_MINUTES must be longer than the longest login wait "
                "(JUBAO_LOGIN_MAX_DELAY_MINUTES, JUBAO_LOGIN_USERNAME_MAX_DELAY_SECONDS): "
                "failures forgotten before the wait ends would never slow anyone down"
            )
        return self

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def idempotency_window(self) -> timedelta:
        return timedelta(hours=self.idempotency_hours)

    @property
    def access_token_ttl(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_ttl(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @cached_property
    def passwords(self) -> Passwords:
        hasher = PasswordHasher(
            time_cost=self.argon2_time_cost,
            memory_cost=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )
        return Passwords(min_length=self.password_min_length, hasher=hasher)

    @property
    def throttle(self) -> Throttle:
        return Throttle(
            free_failures=self.login_free_failures,
            max_delay=timedelta(minutes=self.login_max_delay_minutes),
            username_free_failures=self.login_username_free_failures,
            username_max_delay=timedelta(seconds=self.login_username_max_delay_seconds),
            address_free_failures=self.login_address_free_failures,
            window=timedelta(minutes=self.login_window_minutes),
            trusted=timedelta(days=self.login_trusted_days),
        )

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    def check_safe_for_production(self) -> None:
        """Refuse to run a production service without a strong secret of its own."""
        if not self.production:
            return
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise InsecureConfigurationError(
                f"JUBAO_ENV=production needs JUBAO_SECRET_KEY set to a random value of at "
                f"least {MIN_SECRET_LENGTH} characters "
                f"(生产环境必须设置至少 {MIN_SECRET_LENGTH} 个字符的随机 JUBAO_SECRET_KEY)"
            )
