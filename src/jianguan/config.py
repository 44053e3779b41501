"""Settings, read once from the environment (prefix ``JIANGUAN_``).

Every setting is documented in docs/operations.md; a test checks that the two agree.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIANGUAN_", env_file=None, extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    home: Path = Field(default=Path("./var"), description="Data folder: SQLite file, evidence, logs.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite under home.")
    secret_key: str = DEFAULT_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"

    # Security
    session_max_age_seconds: int = 8 * 3600
    session_cookie_secure: bool = False
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    audit_hash: Literal["sha256", "sm3"] = "sha256"
    field_cipher: Literal["aes-gcm", "sm4"] = "aes-gcm"
    field_keys: str = Field(
        default="",
        description="Comma-separated 'key_id:base64(32 bytes)'; the first encrypts, all decrypt.",
    )
    lookup_key: str = Field(default="", description="base64 key for the keyed lookup hashes.")

    # Evidence
    evidence_max_bytes: int = 50 * 1024 * 1024
    evidence_types: str = "image/jpeg,image/png,image/webp,application/pdf,video/mp4,audio/mpeg,text/plain"

    # Imports
    import_max_bytes: int = Field(default=2 * 1024**3, description="Largest import file accepted by upload.")
    import_freshness_days: str = Field(
        default="default=7,market_registration=1,licensing=1,credit_platform=30",
        description="Agreed freshness per source system, 'source=days,…'; older batches are flagged.",
    )

    # OIDC sign-in (a government identity platform); disabled when issuer is empty.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid profile"
    oidc_label: str = "统一身份认证"

    # Worker
    worker_overdue_cron: str = "*/15 * * * *"
    publication_working_days: int = Field(
        default=10, ge=1, le=60,
        description="Working days to publish an inspection's result (this programme: 10; the national "
                    "double-random rule allows 20).")

    # Notifications beyond the app (docs/notifications.md). No SMTP host: e-mail waits in the outbox.
    smtp_host: str = Field(default="", description="SMTP server for e-mail notifications; empty = not configured.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (port 587).")
    smtp_ssl: bool = Field(default=False, description="Connect over TLS from the start (port 465).")
    smtp_from: str = Field(default="", description="From address; empty = the SMTP user, else jianguan@localhost.")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    sms_gateway: str = Field(
        default="",
        description="'package.module:Class' delivering SMS (or a government messaging platform); empty = none.")

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key in ("", DEFAULT_SECRET_KEY):
            raise ValueError(
                "JIANGUAN_SECRET_KEY must be set to a long random value in production "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.env == "production" and not self.field_keys:
            raise ValueError("JIANGUAN_FIELD_KEYS must be set in production (see docs/operations.md)")
        return self

    @model_validator(mode="after")
    def _one_way_to_encrypt_smtp(self) -> Settings:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("set JIANGUAN_SMTP_SSL (port 465) or JIANGUAN_SMTP_STARTTLS (port 587), not both")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'jianguan.db').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.sqlalchemy_url.startswith("postgresql")

    @property
    def import_freshness(self) -> dict[str, int]:
        agreed: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in self.import_freshness_days.split(","))):
            source, _, days = part.partition("=")
            if days.strip().isdigit():
                agreed[source.strip()] = int(days)
        return agreed

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
