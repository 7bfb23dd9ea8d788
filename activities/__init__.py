"""Every side effect: email, database, scoring, CRM handoff. Classes with injected clients; idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from nurture.config import Settings


def build_activities(settings: Settings, engine: Engine) -> list[Callable[..., Any]]:
    """Every activity the worker registers, with real clients built from settings."""
    from activities.broadcast import broadcast_activities
    from activities.journey import journey_activities

    return [*journey_activities(settings, engine), *broadcast_activities(settings, engine)]
