"""Settings from the environment (prefix NURTURE_) or a `.env` file.

Nothing is built at import time: call `Settings()` (or `get_settings()`) in an entry point and pass it down.
Unset Temporal address, database URL and SendGrid key mean the embedded defaults: a Temporal dev server
started by nurture, SQLite under `.nurture/`, and the dev outbox sender.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "todo"}


class Settings(BaseSettings):
    """Every knob nurture reads. See README for the embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="NURTURE_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".nurture"), description="Local state: SQLite DB, dev server DB, logs.")

    # Temporal
    temporal_address: str | None = Field(default=None, description="host:port; unset = embedded dev server")
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    temporal_dev_port: int = 7233
    task_queue: str = "nurture-journeys"
    worker_max_cached_workflows: int = Field(
        default=10_000, description="Journeys kept in worker memory; below the running count, tasks replay history"
    )
    worker_metrics_address: str | None = Field(
        default=None,
        description="host:port for the worker's Prometheus /metrics (Temporal SDK + nurture series); unset = off",
    )

    # Database
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; unset = SQLite in home")

    # Email
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_timeout_seconds: float = 10.0
    from_email: str = "hello@nurture.example"
    from_name: str = "nurture"
    min_gap_between_drops: timedelta = Field(default=timedelta(days=3))

    # Public URLs rendered into emails (tracking, unsubscribe)
    public_base_url: str = "http://127.0.0.1:8000"
    tracking_secret: SecretStr = SecretStr("dev-only-tracking-secret-change-in-production")

    # Event webhook
    sendgrid_webhook_public_key: str | None = Field(
        default=None, description="Base64 ECDSA P-256 public key from SendGrid's Signed Event Webhook page."
    )
    sendgrid_webhook_max_age_seconds: int = 600
    webhook_max_body_bytes: int = 8 * 1024 * 1024

    # CRM handoff
    crm_webhook_url: str | None = None
    crm_webhook_secret: SecretStr | None = None
    crm_timeout_seconds: float = 10.0

    # HTTP service
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token: SecretStr | None = Field(default=None, description="Bearer token; unset = admin API closed")

    # Browser console (/console)
    console_users: dict[str, str] = Field(
        default_factory=dict,
        description='Users from configuration: JSON {"name": "<argon2 hash>"} (`nurture console hash-password`)',
    )
    console_session_hours: float = 12.0
    temporal_ui_url: str | None = Field(default=None, description="Temporal UI base URL; unset = the dev server's")

    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="None = JSON unless stderr is a TTY")

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        for name in ("sendgrid_api_key", "crm_webhook_secret", "api_token"):
            value = getattr(self, name)
            if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDERS:
                raise ValueError(f"NURTURE_{name.upper()} is a placeholder; set a real secret or unset it")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or SQLite in `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'nurture.db').resolve()}"

    @property
    def embedded_temporal(self) -> bool:
        """True when nurture should start its own Temporal dev server."""
        return self.temporal_address is None

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_dev_port}"
