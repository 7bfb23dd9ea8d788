"""The public opt-in's real work, done after the answer: a stranger cannot time it.

A public `POST /contacts` for a new address creates a contact, records consent and writes a confirmation email;
for a known address it does little or nothing. Done before answering, the difference shows in the response time
and tells a stranger which addresses are known. So the public door only hands the opt-in to `PublicSignups`
(no database work at all) and answers; one consumer task per API process then runs it through the one writer,
`nurture.inbound.contacts.upsert_contact`, and offers the confirmation email.

Held in process memory: an API process killed between the answer and the work (normally milliseconds) loses
that opt-in, and the person signs up again. A database outage loses nothing: the opt-in in hand is retried with
backoff (a warning each time) and the rest wait behind it, up to `MAX_PENDING`, past which the door says "retry".
A graceful shutdown works the queue off first, for at most `SHUTDOWN_GRACE` seconds while the database is down
(then it logs how many opt-ins it could not store).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from nurture.context import AppContext
from nurture.inbound.confirmation import offer_confirmation
from nurture.inbound.contacts import Caller, ContactIn, upsert_contact
from nurture.logging import get_logger

log = get_logger(__name__)
MAX_PENDING = 5000  # a flood of opt-ins must not grow memory without end: past this, the door says "retry"
RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds between tries while the database is unreachable (doubling)
SHUTDOWN_GRACE = 15.0  # seconds a shutdown waits for the queue while the database is down
# PEP 249's classes for trouble with the database's operation (a lost connection, a refused one, a locked file),
# not with the opt-in: worth another try. Anything else is this opt-in's own problem and is logged.
UNAVAILABLE = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Signup:
    inp: ContactIn
    received_at: datetime
    time_scale: float


class PublicSignups:
    """A queue of public opt-ins and the task that works it; `accept` never touches the database."""

    def __init__(
        self,
        context: Callable[[], AppContext],
        nudge: Callable[[bool], None],
        max_pending: int = MAX_PENDING,
        retry_first: float = RETRY_FIRST,
    ) -> None:
        self.max_pending = max_pending
        self._retry_first = retry_first
        self._context = context  # read when a job runs: the context arrives at startup
        self._nudge = nudge  # after a commit: the relay, and the mailer when a confirmation was written
        self._queue: asyncio.Queue[Signup] = asyncio.Queue()
        self._open = asyncio.Event()
        self._open.set()
        self._task: asyncio.Task[None] | None = None
        self.pending = 0  # accepted, not yet stored

    def accept(self, signup: Signup) -> bool:
        """Queue the opt-in (the same few instructions for every address); False when the queue is full."""
        if self.pending >= self.max_pending:
            log.warning("signup.queue_full", pending=self.pending)
            return False
        self._queue.put_nowait(signup)
        self.pending += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._work(), name="public-signups")
        return True

    async def settled(self) -> None:
        """Wait until every accepted opt-in is stored (at once while paused: nothing will move)."""
        if self._open.is_set():
            await self._queue.join()

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Accept but do not work the queue (to look at what the door did before answering)."""
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()

    async def close(self) -> None:
        """Work off what is queued, then stop (the app's shutdown)."""
        try:
            await asyncio.wait_for(self.settled(), timeout=SHUTDOWN_GRACE)
        except TimeoutError:
            log.error("signup.unstored_at_shutdown", pending=self.pending)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _work(self) -> None:
        while True:
            signup = await self._queue.get()
            try:
                await self._open.wait()
                sent = await self._stored(signup)
                self._nudge(sent)
            except Exception as err:  # one bad opt-in must not stop the others
                # the class and first line only: a traceback's locals would carry the address into the logs
                log.error("signup.failed", error=type(err).__name__, detail=str(err).splitlines()[0][:200])
            finally:
                self.pending -= 1
                self._queue.task_done()

    async def _stored(self, signup: Signup) -> bool:
        """Store the opt-in, trying again while the database is unavailable (the queue waits behind it)."""
        delay = self._retry_first
        while True:
            try:
                return await run_in_threadpool(self._store, signup)
            except UNAVAILABLE as err:
                log.warning(
                    "signup.database_unavailable",
                    error=type(err.orig or err).__name__,
                    retry_in_seconds=delay,
                    pending=self.pending,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _store(self, signup: Signup) -> bool:
        ctx = self._context()
        with ctx.engine.begin() as conn:
            outcome = upsert_contact(
                conn,
                signup.inp,
                signup.received_at,
                time_scale=signup.time_scale,
                caller=Caller.PUBLIC,
                redactor=ctx.settings.url_redactor,
            )
            return outcome.needs_confirmation and offer_confirmation(
                conn, ctx.settings, outcome.contact_id, signup.received_at
            )
