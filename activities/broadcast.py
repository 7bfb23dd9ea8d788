"""Broadcast activities (issue 4 fills this in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from nurture.config import Settings


def broadcast_activities(settings: Settings, engine: Engine) -> list[Callable[..., Any]]:
    return []
