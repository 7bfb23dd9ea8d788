"""What entry points share: settings, a migrated database engine, a Temporal client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from temporalio.client import Client

from nurture.config import Settings
from nurture.db.engine import make_engine, migrate
from nurture.temporal import connect


class TemporalUnavailableError(RuntimeError):
    pass


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    client: Client


def open_engine(settings: Settings) -> Engine:
    """Migrate (idempotent) and return an engine for the configured database."""
    url = settings.effective_database_url
    migrate(url)
    return make_engine(url)


@contextlib.asynccontextmanager
async def app_context(settings: Settings) -> AsyncIterator[AppContext]:
    """Engine + client for CLI commands and services. With no Temporal address configured this expects the
    embedded dev server that `nurture dev` runs."""
    engine = open_engine(settings)
    try:
        client = await connect(settings)
    except RuntimeError as err:
        hint = "start `nurture dev` first" if settings.embedded_temporal else "check NURTURE_TEMPORAL_ADDRESS"
        raise TemporalUnavailableError(
            f"cannot reach Temporal at {settings.effective_temporal_address} ({err}); {hint}"
        ) from err
    try:
        yield AppContext(settings, engine, client)
    finally:
        engine.dispose()
