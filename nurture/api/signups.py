"""The public opt-in's real work, done after the answer: a stranger cannot time it, and a crash cannot lose it.

A public `POST /contacts` for a new address creates a contact, records consent and writes a confirmation email;
for a known address it does little or nothing. Done before answering, the difference shows in the response time
and tells a stranger which addresses are known. So the public door only holds the opt-in in the signup inbox
(`nurture.inbound.signup_inbox.hold`: one INSERT, the same for every address) and answers; a worker task per API
process then takes held opt-ins one by one and runs each, in the transaction that took it, through the one
writer `nurture.inbound.contacts.upsert_contact`, and offers the confirmation email.

Durable: an API process killed between the answer and the work leaves the opt-in in the inbox, and the next
worker takes it (every API process works the inbox when it starts, when nudged, and every `POLL_SECONDS`; on
PostgreSQL several take from it at once without taking the same row). While the database is down the door cannot
hold it there: it keeps the opt-in in process memory instead (up to `max_pending`, past which the door says
"retry"), and the worker stores those with backoff (a warning each time) once the database is back. Only those
are lost if the process dies before then; a graceful shutdown tries them for `SHUTDOWN_GRACE` seconds and logs
how many it could not store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable

from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from nurture.api.signup import Signup
from nurture.context import AppContext
from nurture.inbound import signup_inbox
from nurture.inbound.confirmation import offer_confirmation
from nurture.inbound.contacts import Caller, upsert_contact
from nurture.logging import get_logger
from nurture.waiting import woken

log = get_logger(__name__)
MAX_PENDING = 5000  # a flood of opt-ins must not grow the backlog without end: past this, the door says "retry"
RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds between tries while the database is unreachable (doubling)
SHUTDOWN_GRACE = 15.0  # seconds a shutdown waits for the backlog while the database is down
POLL_SECONDS = 5.0  # how often an idle worker looks for opt-ins another process held and did not work
GIVE_UP_AFTER = 5  # failed tries before a held opt-in is set aside (deleted and logged): it cannot block the rest
# PEP 249's classes for trouble with the database's operation (a lost connection, a refused one, a locked file),
# not with the opt-in: worth another try. Anything else is this opt-in's own problem and is logged.
UNAVAILABLE = (OperationalError, InterfaceError)


class PublicSignups:
    """The door's hand-off (`accept`) and the worker that stores held opt-ins (`start`, `settled`, `close`)."""

    def __init__(
        self,
        context: Callable[[], AppContext],
        nudge: Callable[[bool], None],
        max_pending: int = MAX_PENDING,
        retry_first: float = RETRY_FIRST,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.max_pending = max_pending
        self._retry_first = retry_first
        self._poll = poll_seconds
        self._context = context  # read when a job runs: the context arrives at startup
        self._nudge = nudge  # after a commit: the relay, and the mailer when a confirmation was written
        self._unheld: deque[Signup] = deque()  # accepted while the database was down
        self._open = asyncio.Event()
        self._open.set()
        self._wake = asyncio.Event()
        self._hurry = asyncio.Event()  # cuts a backoff short: someone waits for the backlog (settled, close)
        self._idle = asyncio.Event()  # set while the worker is not in a pass
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._accepted = 0  # opt-ins this process accepted, ever
        self._passes = 0  # passes begun
        self._cleared = 0  # the number of the last pass that ended with nothing left
        self._worked_up_to = 0  # `_accepted` as it was when that pass began
        self._passed = asyncio.Condition()
        self.pending = 0  # the backlog as this process knows it: accepted here, not yet stored (the door's bound)

    async def accept(self, signup: Signup) -> bool:
        """Hold the opt-in (the same instructions for every address); False when the backlog is full.

        Returns no sooner than the settings' public answer floor after it was called: on SQLite the insert can
        wait on the write lock the worker holds while it stores an earlier opt-in, and that wait is longer when
        the earlier one was a new address, so a stranger's probe could time it. Under the floor, it cannot."""
        if self.pending >= self.max_pending:
            log.warning("signup.backlog_full", pending=self.pending)
            return False
        ctx = self._context()
        answer_at = asyncio.get_running_loop().time() + ctx.settings.public_answer_floor(ctx.engine.dialect.name)
        self.pending += 1
        try:
            await run_in_threadpool(self._hold, signup)
        except UNAVAILABLE as err:
            self._unheld.append(signup)
            log.warning("signup.held_in_memory", error=type(err.orig or err).__name__, unheld=len(self._unheld))
        except BaseException:
            self.pending -= 1  # not held anywhere: the door answers an error, and the bound gives the slot back
            raise
        self._accepted += 1  # counted once held (in the inbox or here): a pass that begins after sees it
        self.start()
        self._wake.set()
        await asyncio.sleep(max(0.0, answer_at - asyncio.get_running_loop().time()))
        return True

    def start(self) -> None:
        """Run the worker (at the app's start: it takes what an earlier process left in the inbox)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._work(), name="public-signups")

    async def settled(self, *, inbox: bool = False) -> None:
        """Wait until every opt-in this process accepted so far is stored; with `inbox`, until a pass that began
        after this call found nothing left (opt-ins other processes held too). At once while paused: nothing
        will move."""
        if not self._open.is_set():
            return
        accepted, passes = self._accepted, self._passes + 1
        if not inbox and self._worked_up_to >= accepted:
            return

        def done() -> bool:
            if not self._open.is_set():
                return True
            return self._cleared >= passes if inbox else self._worked_up_to >= accepted

        self.start()
        self._wake.set()
        self._hurry.set()
        async with self._passed:
            await self._passed.wait_for(done)

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Accept but do not work the backlog (to look at what the door did before answering). A pass under way
        finishes its opt-in first."""
        self._open.clear()
        async with self._passed:
            self._passed.notify_all()  # a settled() already waiting returns: nothing will move
        await self._idle.wait()
        try:
            yield
        finally:
            self._open.set()
            self._wake.set()

    async def close(self) -> None:
        """Work off the backlog, then stop (the app's shutdown). Opt-ins held in the inbox outlive the process."""
        try:
            await asyncio.wait_for(self.settled(), timeout=SHUTDOWN_GRACE)
        except TimeoutError:
            log.error("signup.unstored_at_shutdown", lost=len(self._unheld), pending=self.pending)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _work(self) -> None:
        delay = self._retry_first
        while True:
            await self._open.wait()
            self._wake.clear()
            began = self._accepted
            self._passes += 1
            number = self._passes
            self._idle.clear()
            try:
                finished = await self._pass()
            except Exception as err:  # the database is down (or worse): the backlog waits, nothing is dropped
                if isinstance(err, UNAVAILABLE):
                    log.warning(
                        "signup.database_unavailable",
                        error=type(err.orig or err).__name__,
                        retry_in_seconds=delay,
                        pending=self.pending,
                    )
                elif not isinstance(err, _TryFailed):
                    self._failed(err, "signup.worker_failed")
                self._idle.set()
                self._hurry.clear()
                await woken(self._hurry, delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            self._idle.set()
            delay = self._retry_first
            if not finished:  # paused mid-way
                continue
            async with self._passed:
                self._cleared = number
                self._worked_up_to = began  # passes run one after another: `began` only grows
                self._passed.notify_all()
            await woken(self._wake, self._poll)

    async def _pass(self) -> bool:
        """Hold what the database could not take at the door, then store every opt-in held when the pass began,
        until none is left (True) or the worker is paused (False)."""
        if self._unheld:  # cheap inserts first: durable before the real work
            unheld = list(self._unheld)
            await run_in_threadpool(self._hold_all, unheld)
            for _ in unheld:
                self._unheld.popleft()
        up_to = await run_in_threadpool(self._newest)
        while self._open.is_set():
            taken = await run_in_threadpool(self._store_held, up_to)
            if taken is None:
                self.pending = await run_in_threadpool(self._backlog)
                return True
            self._stored_one(taken)
        return False

    def _stored_one(self, confirmation_written: bool) -> None:
        self.pending = max(0, self.pending - 1)  # (one another process held counts here too: reset after a pass)
        self._nudge(confirmation_written)

    def _hold(self, signup: Signup) -> None:
        self._hold_all([signup])

    def _hold_all(self, signups: list[Signup]) -> None:
        with self._context().engine.begin() as conn:
            for signup in signups:
                signup_inbox.hold(conn, signup.held())

    def _newest(self) -> int:
        with self._context().engine.connect() as conn:
            return signup_inbox.newest(conn)

    def _backlog(self) -> int:
        with self._context().engine.connect() as conn:
            return signup_inbox.held(conn) + len(self._unheld)

    def _store_held(self, up_to: int) -> bool | None:
        """Take one held opt-in and store it in the same transaction. None: nothing left up to `up_to`. Returns
        whether a confirmation was written. A failed try is counted on the row (the pass then backs off); after
        GIVE_UP_AFTER the row is set aside, so one opt-in that always fails cannot block the others."""
        engine = self._context().engine
        held: signup_inbox.Held | None = None
        try:
            with engine.begin() as conn:
                held = signup_inbox.take(conn, up_to)
                if held is None:
                    return None
                try:
                    signup = Signup.from_held(held)
                except (KeyError, TypeError, ValueError) as err:  # dropped with the claim: it can never be stored
                    self._failed(err, "signup.unreadable")
                    return False
                return self._upsert(conn, signup)
        except Exception as err:
            if held is None:
                raise  # the claim itself failed: nothing to count
            with engine.begin() as conn:  # its claim rolled back with the failed try: count it on the row
                set_aside = signup_inbox.failed(conn, held, GIVE_UP_AFTER)
            if set_aside:
                self._failed(err, "signup.set_aside")
                return False
            if isinstance(err, UNAVAILABLE):
                raise
            self._failed(err)
            raise _TryFailed from err

    def _upsert(self, conn: Connection, signup: Signup) -> bool:
        ctx = self._context()
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

    @staticmethod
    def _failed(err: BaseException, event: str = "signup.failed") -> None:
        # the class and first line only: a traceback's locals would carry the address into the logs
        log.error(event, error=type(err).__name__, detail=(str(err).splitlines() or [""])[0][:200])


class _TryFailed(Exception):
    """A held opt-in's try failed for its own reasons (counted and logged): the pass backs off, fresh rows first."""
