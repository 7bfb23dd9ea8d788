"""Start-up that waits: a process started while PostgreSQL or Temporal is down says so and retries.

Containers start in any order and dependencies restart under them; exiting at once only makes the orchestrator
restart the process in a loop with no useful message. `start_process` is the one way the long-running processes
(`nurture api`, `nurture worker`, `python -m workers.journey_worker`) start: settings unfit for production are
refused before anything is touched (the same checks for every process, so they cannot drift apart), then the
database and Temporal are awaited. `nurture migrate` waits for the database only. Each attempt that fails is
logged (`startup.waiting`) with what is awaited and why, and the wait gives up
(raising `StartupTimeoutError`) after `timeout_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
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


class TemporalWait(Enum):
    LAZY = "lazy"  # the API: accept events while Temporal is down, the relay retries until it answers
    WAIT = "wait"  # the worker: nothing to do without Temporal, so wait for it (with a message)


@dataclass(frozen=True)
class Started:
    engine: Engine
    client: Client


async def start_process(
    settings: Settings,
    temporal: TemporalWait,
    *,
    before_connect: Callable[[], object] = lambda: None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Started:
    """Refuse unsafe settings (`Settings.refuse_unsafe`: the published tracking secret, a SendGrid key without
    its webhook key), then wait for the database (migrated) and connect to Temporal. `before_connect` runs
    between the two (the worker's metrics runtime must exist before its client). The caller disposes the
    engine."""
    settings.refuse_unsafe()  # first: an unfit process touches nothing, not even its home
    settings.home.mkdir(parents=True, exist_ok=True)  # the embedded SQLite database lives there
    before_connect()
    engine = await wait_for_database(settings, timeout_seconds=timeout_seconds)
    try:
        if temporal is TemporalWait.LAZY:
            address, namespace = settings.effective_temporal_address, settings.temporal_namespace
            client = await Client.connect(address, namespace=namespace, lazy=True)
        else:
            client = await wait_for_temporal(settings, timeout_seconds=timeout_seconds)
    except BaseException:
        engine.dispose()
        raise
    return Started(engine, client)
