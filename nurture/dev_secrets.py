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

FILE = "dev-secrets.json"


def _load_or_create(path: Path) -> dict[str, str]:
    try:
        stored = json.loads(path.read_text())
        if isinstance(stored, dict) and all(isinstance(stored.get(k), str) for k in ("tracking_secret", "api_token")):
            return {k: str(v) for k, v in stored.items()}
    except (OSError, ValueError):
        pass
    fresh = {"tracking_secret": secrets.token_urlsafe(32), "api_token": secrets.token_urlsafe(24)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(fd, "w") as out:
        json.dump(fresh, out)
    return fresh


def with_dev_secrets(settings: Settings) -> Settings:
    """The settings with the home's dev secrets wherever none was configured (configured ones win)."""
    stored = _load_or_create(settings.home / FILE)
    updates: dict[str, SecretStr] = {}
    if settings.tracking_secret.get_secret_value() == DEV_TRACKING_SECRET:
        updates["tracking_secret"] = SecretStr(stored["tracking_secret"])
    if settings.api_token is None:
        updates["api_token"] = SecretStr(stored["api_token"])
    return settings.model_copy(update=updates)
