"""Work the console's pages start but never do inside a request: the funnel rollup, the uplift panel's
snapshots and bulk operations.

All run as tasks in the API's lifespan (`nurture.api.app`), so a GET only reads and a POST only records:
- `fold_rollup` folds new touches and events into the funnel counters (`nurture.measure.rollup.refresh`) every
  `fold_every` seconds; the journey page reads the counters as of the last fold (a few seconds old at most).
- `run_uplift` computes the uplift panel (`nurture.measure.panel.console_panel`, seconds at 50k enrollments)
  for the questions pages asked for and every journey's default one, into the `uplift_snapshot` table
  (`nurture.console.uplift_snapshots`); the page shows the figures with their "as of" time.
- `run_bulk` processes every running bulk operation one batch at a time (`nurture.inbound.bulk.process_batch`,
  its cursor in the database), each batch its own transaction, so the operation's page shows progress as it
  happens. A POST wakes it (`nudge`); an operation a crash interrupted is picked up again at the next start.
Several API processes may run these at once: the rollup moves its watermark by compare-and-set, a batch locks
its operation row, and each uplift question is claimed by one process before it is computed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.console.uplift_snapshots import MAX_AGE, UpliftSnapshots
from nurture.db import BulkState
from nurture.db.tables import BULK_OPERATION
from nurture.inbound import bulk
from nurture.measure import rollup
from nurture.measure.panel import console_panel
from nurture.waiting import woken

T = TypeVar("T")

log = structlog.get_logger(__name__)


class ConsoleBackground:
    """The rollup folder, the uplift panel's computer and the bulk runner of one API process."""

    def __init__(
        self,
        engine: Engine,
        *,
        fold_every: float = 2.0,
        bulk_poll: float = 5.0,
        bulk_batch: int = 200,
        bulk_pause: float = 0.0,
        uplift_poll: float = 30.0,
        uplift_max_age: timedelta = MAX_AGE,
    ) -> None:
        self._engine = engine
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.fold_every = fold_every
        self.bulk_poll = bulk_poll  # how often to look for interrupted operations when nobody nudges
        self.bulk_batch = bulk_batch
        self.bulk_pause = bulk_pause  # seconds between batches (spreads a big operation's signals out)
        self._wake = asyncio.Event()
        self.uplift_poll = uplift_poll  # how often to look for stale default questions when no page asks
        self.uplift = UpliftSnapshots(engine, uplift_max_age)
        self._uplift_wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.uplift.on_ask = self._ask  # a page asked (from a request's worker thread)

    def _ask(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._uplift_wake.set)

    def nudge(self) -> None:
        """A bulk operation was recorded: start on it now."""
        self._wake.set()

    async def _in_thread(self, work: Callable[[], T]) -> T:
        """Run `work` in a thread, kept track of: a cancelled task cannot stop its thread, so `drain` waits for
        it (a thread still inside a transaction when the engine is disposed leaves its connection open)."""
        future = asyncio.ensure_future(asyncio.to_thread(work))
        self._in_flight.add(future)
        future.add_done_callback(self._in_flight.discard)
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """After the tasks are cancelled: wait for the thread work they started."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def fold_rollup(self) -> None:
        while True:
            try:
                await self._in_thread(self.fold_once)
            except Exception:  # a database hiccup: the next fold catches up (the watermark did not move)
                log.exception("console.rollup_failed")
            await asyncio.sleep(self.fold_every)

    async def run_uplift(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            self._uplift_wake.clear()
            try:
                await self._in_thread(self.uplift_once)
            except Exception:
                log.exception("console.uplift_failed")
            await woken(self._uplift_wake, self.uplift_poll)

    async def run_bulk(self) -> None:
        while True:
            try:
                worked = await self._in_thread(self.bulk_round)
            except Exception:
                log.exception("console.bulk_failed")
                worked = False
            if worked and self.bulk_pause <= 0:
                continue
            await woken(self._wake, self.bulk_pause if worked else self.bulk_poll)
            self._wake.clear()

    def bulk_round(self) -> bool:
        """One batch of each running operation; whether any was running."""
        with self._engine.connect() as conn:
            running = list(
                conn.execute(
                    select(BULK_OPERATION.c.id)
                    .where(BULK_OPERATION.c.state == BulkState.RUNNING.value)
                    .order_by(BULK_OPERATION.c.id)
                ).scalars()
            )
        for operation_id in running:
            with self._engine.begin() as conn:
                done = bulk.process_batch(conn, int(operation_id), utcnow(), batch=self.bulk_batch)
            log.info("console.bulk_batch", operation_id=operation_id, done=done.done, total=done.total)
        return bool(running)

    def fold_once(self) -> None:
        """One round of the rollup folder."""
        with self._engine.begin() as conn:
            rollup.refresh(conn, utcnow())

    def uplift_once(self) -> int:
        """Compute every question due (asked for, or a default gone stale) that this process could claim; how many
        it stored (a question another process holds is left to it, and one that fails does not stop the rest)."""
        done = 0
        for question in self.uplift.due(utcnow()):
            claim = self.uplift.claim(question, utcnow())
            if claim is None:
                continue
            as_of = utcnow()
            try:
                with self._engine.begin() as conn:  # a read (begin: the panel's SET LOCAL needs a transaction)
                    entries = console_panel(conn, question.journey, question.outcome, question.window_days)
                done += int(self.uplift.put(claim, entries, as_of))
            except Exception:
                log.exception("console.uplift_question_failed", journey=question.journey)
                with contextlib.suppress(Exception):  # the database may be what failed: the claim runs out then
                    self.uplift.forget(claim)
        return done
