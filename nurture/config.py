"""Settings from the environment (prefix NURTURE_) or a `.env` file.

Nothing is built at import time: call `Settings()` (or `get_settings()`) in an entry point and pass it down.
Unset Temporal address, database URL and SendGrid key mean the embedded defaults: a Temporal dev server
started by nurture, SQLite under `.nurture/`, and the dev outbox sender.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nurture import redaction
from nurture.redaction import Redactor

PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "todo"}
DEV_TRACKING_SECRET = "dev-only-tracking-secret-change-in-production"  # published: fine for `nurture dev` only
# Well past the signup worker's store of one opt-in on SQLite (milliseconds) and the mailer's writes that follow a
# new address's confirmation, with room for SQLite's busy handler, which retries a locked insert in steps of up to
# 100 ms (a 0.15 s lock ends the wait at ~0.19 s).
SQLITE_PUBLIC_ANSWER_SECONDS = 0.5
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def blank(text: str) -> bool:
    """True for an empty string or one made only of whitespace or invisible characters (zero-width space, BOM,
    word joiner, ...): such a secret is no secret."""
    return all(ch.isspace() or unicodedata.category(ch) in _INVISIBLE for ch in text)


class UnsafeSettingsError(ValueError):
    """Settings fit for `nurture dev` only, given to a process meant for production."""


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
    # Sized from bench/worker_memory.py (docs/scale.md, M7): once the cache has turned over, a slot costs a worker
    # ~112 KB of RSS (a cached journey's ~100 KB, plus its share of the one-off step the first evictions leave: the
    # allocator's freed-and-held memory and garbage awaiting the collector, ~13 KB a slot), and the budget for the
    # cache is 512 MB of a 1 GiB worker (a warm worker is ~170 MB; the rest is headroom for 64 activity threads and
    # bursts): 512 MB / 111.7 KB is about 4,700, rounded down. Past the bound a journey is evicted and costs nothing
    # until it wakes (then one replay).
    worker_max_cached_workflows: int = Field(
        default=4_500,
        description="Journeys kept in worker memory (~112 KB each once the cache has turned over); past it the"
        " least recent is evicted and its next task replays its history",
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
    send_evidence_window: timedelta = Field(
        default=timedelta(minutes=2),
        description="How long a send of unknown outcome waits for the provider's events before it may go once more",
    )
    from_email: str = "hello@nurture.example"
    from_name: str = "nurture"
    min_gap_between_drops: timedelta = Field(default=timedelta(days=3))
    drop_caps: str = Field(
        default="", description="Caps across journeys, N per D local days: '1/3d,2/7d,4/30d' (nurture.caps)"
    )
    closure_dates: list[date] = Field(default_factory=list, description="Company closure days: no drops (JSON list)")
    deferred_drop_ttl: timedelta = Field(default=timedelta(days=14), description="A deferred drop expires after")

    public_answer_seconds: float | None = Field(
        default=None,
        ge=0,
        le=5,
        description="The public opt-in answers no sooner than this after it arrives; unset = 0.5 s on SQLite (its"
        " one insert can wait on the write lock the signup worker holds while it stores an earlier opt-in, longer"
        " for a new address than a known one), 0 on PostgreSQL (the insert waits on no lock)",
    )

    # Public URLs rendered into emails (tracking, unsubscribe); unset = this machine's API port (dev)
    public_base_url: str = "http://127.0.0.1:8000"
    tracking_secret: SecretStr = SecretStr(DEV_TRACKING_SECRET)
    pii_url_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes redacted from URL paths before page views reach Temporal (emails always are)",
    )

    # Event webhook
    sendgrid_webhook_public_key: str | None = Field(
        default=None, description="Base64 ECDSA P-256 public key from SendGrid's Signed Event Webhook page."
    )
    sendgrid_webhook_max_age_seconds: int = 600
    webhook_max_body_bytes: int = 8 * 1024 * 1024
    import_max_body_bytes: int = Field(
        default=20 * 1024 * 1024,
        gt=0,
        description="Largest CSV a CRM sync may POST to /imports/* (API token only; others get the 64 KB limit)",
    )

    # CRM handoff
    crm_webhook_url: str | None = None
    crm_webhook_secret: SecretStr | None = None
    crm_timeout_seconds: float = 10.0

    # HTTP service
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_allowed_origins: list[str] = Field(
        default_factory=list, description="Origins whose pages may call /track and /identify; none by default"
    )
    api_token: SecretStr | None = Field(default=None, description="Bearer token; unset = admin API closed")
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token for GET /metrics (the API token works too); neither set = closed"
    )

    # Browser console (/console)
    console_users: dict[str, str] = Field(
        default_factory=dict,
        description='Users from configuration: JSON {"name": "<argon2 hash>"} (`nurture console hash-password`)',
    )
    console_session_hours: float = 12.0
    temporal_ui_url: str | None = Field(default=None, description="Temporal UI base URL; unset = the dev server's")

    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="None = JSON unless stderr is a TTY")

    @field_validator("api_token", "sendgrid_api_key", "crm_webhook_secret", "sendgrid_webhook_public_key")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | str | None) -> SecretStr | str | None:
        """`${NURTURE_API_TOKEN:-}` gives an empty value: that means unset (a closed door), never an open one."""
        if value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if blank(text) else value

    def production_problems(self) -> list[str]:
        """Why these settings must not serve the internet (empty when they may)."""
        problems = []
        secret = self.tracking_secret.get_secret_value()
        if secret == DEV_TRACKING_SECRET or blank(secret) or len(secret) < 16:
            problems.append(
                "NURTURE_TRACKING_SECRET is the published development default (or shorter than 16 characters): "
                "anyone could forge unsubscribe and contact links. Set a long random secret, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if self.sendgrid_api_key is not None and not self.sendgrid_webhook_public_key:
            problems.append(
                "NURTURE_SENDGRID_API_KEY is set but NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY is not: unsubscribes, "
                "bounces and spam reports from SendGrid would be refused. Copy the public key from SendGrid's "
                "Signed Event Webhook settings"
            )
        return problems

    def refuse_unsafe(self) -> None:
        """Raise UnsafeSettingsError unless fit for production (the API and worker call it; `nurture dev` not)."""
        problems = self.production_problems()
        if problems:
            raise UnsafeSettingsError("refusing to start: " + "; ".join(problems))

    @property
    def url_redactor(self) -> Redactor:
        """The one redactor for URLs on their way to Temporal: emails and `pii_url_patterns` taken out."""
        return redaction.configured(tuple(self.pii_url_patterns))

    @field_validator("pii_url_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"NURTURE_PII_URL_PATTERNS: {pattern!r} is not a regular expression: {err}") from err
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        for name in ("sendgrid_api_key", "crm_webhook_secret", "api_token"):
            value = getattr(self, name)
            if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDERS:
                raise ValueError(f"NURTURE_{name.upper()} is a placeholder; set a real secret or unset it")
        return self

    @model_validator(mode="after")
    def _public_url_follows_the_api(self) -> Self:
        """Unset, links point at this machine's API (host and port as configured): `NURTURE_API_PORT=8100` moves
        the demo's tracking and unsubscribe links too. Set it explicitly in production (the public address)."""
        if "public_base_url" not in self.model_fields_set:
            host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::", "") else self.api_host
            host = f"[{host}]" if ":" in host else host
            self.public_base_url = f"http://{host}:{self.api_port}"
        return self

    def public_answer_floor(self, dialect: str) -> float:
        """Seconds the public opt-in's answer waits for at least (`public_answer_seconds`, by database)."""
        if self.public_answer_seconds is not None:
            return self.public_answer_seconds
        return SQLITE_PUBLIC_ANSWER_SECONDS if dialect == "sqlite" else 0.0

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
