"""Secrets for `nurture dev`: random, generated once into its home and reused, so links stay valid across restarts.

Only `nurture dev` uses this; `nurture api` and `nurture worker` refuse the published default tracking secret
(`Settings.refuse_unsafe`).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from nurture.config import DEV_TRACKING_SECRET, Settings
from nurture.console.passwords import hash_password, verify

FILE = "dev-secrets.json"


KEYS = ("tracking_secret", "api_token", "console_password")
DEV_CONSOLE_USER = "dev"  # `nurture dev`'s console user, when no console user is configured


def _fresh() -> dict[str, str]:
    return {
        "tracking_secret": secrets.token_urlsafe(32),
        "api_token": secrets.token_urlsafe(24),
        "console_password": secrets.token_urlsafe(12),
    }


def _load_or_create(path: Path) -> dict[str, str]:
    """The home's secrets; any missing (a home from before one was added) is generated and kept with the rest."""
    stored: dict[str, str] = {}
    try:
        loaded = json.loads(path.read_text())
        if isinstance(loaded, dict):
            stored = {k: str(v) for k, v in loaded.items() if k in KEYS and isinstance(v, str)}
    except (OSError, ValueError):
        pass
    if all(k in stored for k in KEYS):
        return stored
    fresh = _fresh() | stored  # what was kept stays: links signed with it stay valid
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(fd, "w") as out:
        json.dump(fresh, out)
    os.replace(staged, path)  # whole or not at all: a crash mid-write never loses the kept tracking secret
    return fresh


def with_dev_secrets(settings: Settings) -> Settings:
    """The settings with the home's dev secrets wherever none was configured (configured ones win): the tracking
    secret, the API token, and a console user `dev` when no console user is configured."""
    stored = _load_or_create(settings.home / FILE)
    updates: dict[str, object] = {}
    if settings.tracking_secret.get_secret_value() == DEV_TRACKING_SECRET:
        updates["tracking_secret"] = SecretStr(stored["tracking_secret"])
    if settings.api_token is None:
        updates["api_token"] = SecretStr(stored["api_token"])
    if not settings.console_users:
        updates["console_users"] = {DEV_CONSOLE_USER: hash_password(stored["console_password"])}
    return settings.model_copy(update=updates)


def dev_console_password(settings: Settings) -> str | None:
    """The dev console user's password, for `nurture dev` to print (None: console users are configured)."""
    password = _load_or_create(settings.home / FILE)["console_password"]
    return password if verify(settings.console_users.get(DEV_CONSOLE_USER), password) else None
