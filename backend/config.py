"""Settings from the environment and `.env` (pydantic-settings).

A bad setting fails at start-up with one clear line (`SettingsError`), never deep inside a request.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "please-change", "your-secret-key"}


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message is one line a person can act on."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Everything configurable about one Switchboard process."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./data")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    access_token_expire_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=14, ge=1, le=365)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    llm_model: str = ""
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_timeout_s: float = Field(default=60.0, gt=0, le=600)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    offline_token_delay_ms: float = Field(default=0.0, ge=0, le=2000)
    demo_mode: bool = False
    # Who may create an account (the first account on an empty database always may, as the admin).
    # Unset: `approval` when ENVIRONMENT=production, `open` otherwise (development, `make run`'s demo).
    registration: Literal["open", "approval", "invite", "closed"] | None = None
    outbound_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    hl7_listen_host: str = "127.0.0.1"
    hl7_listen_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    # Platform (backend/platform): rate limits as "<count>/<second|minute|hour|day>", webhook delivery,
    # and the Redis namespace for shared limits and the event channel.
    rate_limit_default: str = "60/minute"
    rate_limit_auth: str = "5/minute"
    rate_limit_chat: str = "30/minute"
    # Failed sign-ins (login passwords, refresh tokens): per account and per client IP, with back-off.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_ip: int = Field(default=20, ge=1, le=100_000)
    login_failure_window_s: float = Field(default=900.0, gt=0, le=86400)
    login_lockout_base_s: float = Field(default=30.0, gt=0, le=86400)
    login_lockout_max_s: float = Field(default=900.0, gt=0, le=86400)
    # Resource limits (backend/limits): request heads and bodies, WebSocket frames, sockets.
    max_request_body_bytes: int = Field(default=512 * 1024, ge=1024, le=1 << 30)
    max_hl7_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=1 << 30)
    request_body_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    http_request_head_timeout_s: float = Field(default=10.0, gt=0, le=3600)
    http_max_head_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    http_keep_alive_timeout_s: int = Field(default=5, ge=1, le=3600)
    ws_max_message_bytes: int = Field(default=128 * 1024, ge=1024, le=64 * 1024 * 1024)
    ws_max_per_user: int = Field(default=20, ge=1, le=100_000)
    ws_max_per_ip: int = Field(default=200, ge=1, le=1_000_000)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs); none by default.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redis_prefix: str = Field(default="switchboard", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_base_s: float = Field(default=10.0, gt=0, le=3600)
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0, le=86400)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    # Integration health (backend/integrations/health.py): how often what calls taught us is written
    # to the database, and how often an integration nobody used for that long is tested (0: never;
    # unset: every 10 minutes in development, never in production).
    health_flush_interval_s: float = Field(default=5.0, gt=0, le=3600)
    health_check_interval_s: float | None = Field(default=None, ge=0, le=7 * 86400)

    @field_validator("rate_limit_default", "rate_limit_auth", "rate_limit_chat")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError("must look like 60/minute") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR") from None
        return value

    @field_validator("cors_origins", "outbound_allowlist", "encryption_keys", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the URLs people paste (postgres://, postgresql://) and map them to the async driver.
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+asyncpg://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + value[len("sqlite://") :]
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.environment == "production":
            if self.secret_key is None:
                raise ValueError("SECRET_KEY is required when ENVIRONMENT=production")
            if self.demo_mode:
                raise ValueError("DEMO_MODE cannot be on when ENVIRONMENT=production")
        if self.secret_key is not None:
            raw = self.secret_key.get_secret_value()
            if raw.lower() in _PLACEHOLDER_SECRETS or len(raw) < 32:
                raise ValueError("SECRET_KEY must be a random string of at least 32 characters")
        return self

    # ------------------------------------------------------------------ derived values

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'switchboard.db').resolve()}"

    @cached_property
    def jwt_secret(self) -> str:
        """SECRET_KEY, or in development a key generated once into the data dir (0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key

    @property
    def effective_llm_model(self) -> str:
        """`LLM_MODEL`, defaulting to the offline model when no API key is configured."""
        if self.llm_model:
            return self.llm_model
        return "openai:gpt-4.1-mini" if self.openai_api_key else "offline"

    @property
    def registration_policy(self) -> Literal["open", "approval", "invite", "closed"]:
        """REGISTRATION, or its default for the environment."""
        if self.registration is not None:
            return self.registration
        return "approval" if self.environment == "production" else "open"

    @property
    def effective_health_check_interval_s(self) -> float:
        """Seconds between idle-integration checks; 0 turns them off."""
        if self.health_check_interval_s is not None:
            return self.health_check_interval_s
        return 0.0 if self.environment == "production" else 600.0

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.environment == "production"
        return self.log_format == "json"


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `SettingsError` with one readable line on any problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"Invalid setting {where}: {message}") from None
