"""Start-up that waits: a process started while PostgreSQL or Temporal is down says so and retries.

Containers start in any order and dependencies restart under them; exiting at once only makes the orchestrator
restart the process in a loop with no useful message. The worker, the API and `nurture migrate` call these
before anything else. Each attempt that fails is logged (`startup.waiting`) with what is awaited and why, and
the wait gives up (raising `StartupTimeoutError`) after `timeout_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.service import RPCError

from nurture.config import Settings
from nurture.context import open_engine
from nurture.db.engine import make_engine, normalise_url
from nurture.logging import get_logger
from nurture.temporal import connect

log = get_logger(__name__)

T = TypeVar("T")
DEFAULT_TIMEOUT_SECONDS = 300.0
MAX_INTERVAL_SECONDS = 5.0


class StartupTimeoutError(RuntimeError):
    """What a process waited for did not answer within the start-up timeout."""


async def _retry(what: str, where: str, attempt: Callable[[], Awaitable[T]], timeout_seconds: float) -> T:
    deadline = time.monotonic() + timeout_seconds
    interval = 0.25
    tries = 0
    while True:
        tries += 1
        try:
            found = await attempt()
        except (OperationalError, RPCError, RuntimeError, OSError) as err:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupTimeoutError(
                    f"{what} at {where} did not answer in {timeout_seconds:.0f} s: {err}"
                ) from err
            log.warning("startup.waiting", waiting_for=what, at=where, attempt=tries, error=str(err)[:300])
            await asyncio.sleep(min(interval, left))
            interval = min(MAX_INTERVAL_SECONDS, interval * 2)
            continue
        if tries > 1:
            log.info("startup.ready", ready=what, at=where, attempts=tries)
        return found


def _database_where(settings: Settings) -> str:
    return make_url(normalise_url(settings.effective_database_url)).render_as_string(hide_password=True)


async def wait_for_database(settings: Settings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Engine:
    """An engine for the configured database once it answers, migrated to the newest schema."""

    async def attempt() -> Engine:
        def check() -> Engine:
            engine = make_engine(settings.effective_database_url)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
            return open_engine(settings)

        return await asyncio.to_thread(check)

    return await _retry("database", _database_where(settings), attempt, timeout_seconds)


async def wait_for_temporal(settings: Settings, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Client:
    """A connected client (search attributes registered) once the Temporal frontend answers."""
    return await _retry("temporal", settings.effective_temporal_address, lambda: connect(settings), timeout_seconds)
