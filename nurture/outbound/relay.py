"""The outbox relay: delivers SignalOutbox rows to journeys, in id order per contact, contacts concurrently.

Runs as a background task in the API process. A pass reads the oldest undelivered rows, signals (or enrolls)
each contact's rows one after another, and marks what was delivered. A row that fails because Temporal is
unreachable stays pending with its contact's later rows behind it, and the relay backs off and retries:
nothing is lost and order per contact holds. A row that can never be delivered (the journey has ended, the
contact may not be enrolled) is marked delivered with the reason in `last_error`.

Delivery is at least once (a crash between signal and mark re-sends): journeys ignore event ids they have
seen, and exits and enrollments are idempotent.

Any number of relays (one per API process) share one database. A pass claims whole contacts: it leases the
oldest pending rows whose contact is not held by another relay's lease or by a row waiting for its retry time
(`next_attempt_at`), so one contact's rows are only ever in one relay's hands and stay in id order. On
PostgreSQL the claim is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` under a transaction
advisory lock that serialises claims (milliseconds; delivery itself runs unlocked); on SQLite, a single writer,
the same conditional update is atomic by itself. A relay that dies holding a lease loses it after `lease`;
backoff lives on the row, not in memory, so a restarted or different relay honours it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError, RPCStatusCode

from nurture import temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.db.tables import SIGNAL_OUTBOX
from nurture.inbound.outbox import ENROLL
from nurture.journey_client import EnrollError, enroll, signal_journey
from nurture.logging import get_logger
from nurture.outbound.claim import Row, claim_rows
from nurture.waiting import woken
from workflows.payloads import EngagementEvent, ExitRequest, PageView, SalesFeedback
from workflows.task_payloads import CallOutcomeReport

log = get_logger(__name__)

TRANSIENT = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.UNKNOWN,
    }
)
MAX_ATTEMPTS = 20  # for errors that are not Temporal being unreachable


class Outcome(Enum):
    DELIVERED = "delivered"
    GAVE_UP = "gave_up"
    RETRY = "retry"  # this row failed: retry it (and keep its contact's later rows behind it)
    UNREACHABLE = "unreachable"  # Temporal is unreachable: retry, and back off the whole relay


@dataclass
class Pass:
    """What one relay pass did."""

    fetched: int = 0
    delivered: list[int] = field(default_factory=list)
    gave_up: dict[int, str] = field(default_factory=dict)
    retry: dict[int, str] = field(default_factory=dict)
    unreachable: bool = False


NEVER_STARTS = (
    temporal_names.SIGNAL_EXIT,
    temporal_names.SIGNAL_SALES_FEEDBACK,
    temporal_names.SIGNAL_CALL_OUTCOME,
    temporal_names.SIGNAL_PREFERENCES,
    temporal_names.SIGNAL_PAUSE_JOURNEY,
    temporal_names.SIGNAL_RESUME_JOURNEY,
)


def signal_arg(signal: str, payload: dict[str, Any]) -> object:
    """The typed signal payload for an outbox row."""
    if signal == temporal_names.SIGNAL_ENGAGEMENT:
        return EngagementEvent(
            event_id=payload["event_id"],
            kind=payload["kind"],
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            item_id=payload.get("item_id"),
            url=payload.get("url"),
        )
    if signal == temporal_names.SIGNAL_PAGE_VIEW:
        return PageView(
            event_id=payload["event_id"],
            url=payload["url"],
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            topic=payload.get("topic"),
        )
    if signal == temporal_names.SIGNAL_EXIT:
        return ExitRequest(reason=payload["reason"], event_id=payload.get("event_id"))
    if signal == temporal_names.SIGNAL_SALES_FEEDBACK:
        return SalesFeedback(
            accepted=bool(payload["accepted"]), reason=payload.get("reason", ""), handoff_id=payload.get("handoff_id")
        )
    if signal == temporal_names.SIGNAL_CALL_OUTCOME:
        return CallOutcomeReport(int(payload["task_id"]), str(payload["outcome"]), str(payload.get("note", "")))
    return payload


def _unreachable(err: BaseException) -> bool:
    if isinstance(err, RPCError):
        return err.status in TRANSIENT
    # a lazily connected client reports a refused connection as RuntimeError("Failed client connect: ...")
    return isinstance(err, RuntimeError) and "connect" in str(err).lower()


class OutboxRelay:
    """Delivers the outbox. `nudge()` after committing rows; `run()` forever (cancel to stop)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        batch_size: int = 2000,
        concurrency: int = 64,
        idle_seconds: float = 2.0,
        max_backoff_seconds: float = 10.0,
        rpc_timeout_seconds: float = 5.0,
        lease: timedelta = timedelta(minutes=2),
        retry_base_seconds: float = 0.5,
    ) -> None:
        self.ctx = ctx
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.rpc_timeout = timedelta(seconds=rpc_timeout_seconds)
        self.lease = lease
        self.retry_base_seconds = retry_base_seconds
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.0
        log.info("outbox.relay_started")
        while True:
            self._wake.clear()
            try:
                done = await self.deliver_pending()
            except SQLAlchemyError as err:
                log.warning("outbox.database_unavailable", error=str(err)[:300])
                done = Pass(unreachable=True)
            if done.unreachable:
                backoff = min(self.max_backoff_seconds, backoff * 2 or 0.25)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            if done.fetched >= self.batch_size:
                continue
            await woken(self._wake, self.idle_seconds)

    def pending(self) -> int:
        with self.ctx.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(SIGNAL_OUTBOX.c.delivered_at.is_(None))).scalar_one())

    async def deliver_pending(self) -> Pass:
        """One pass over the oldest pending rows of contacts no other relay holds."""
        token = uuid.uuid4().hex
        rows = await asyncio.to_thread(self._claim, token)
        done = Pass(fetched=len(rows))
        if not rows:
            return done
        by_contact: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            by_contact[row.contact_id].append(row)
        gate = asyncio.Semaphore(self.concurrency)

        async def contact(queue: list[Row]) -> None:
            async with gate:
                for row in queue:
                    outcome, why = await self._deliver(row)
                    if outcome is Outcome.UNREACHABLE:
                        done.unreachable = True
                    if outcome is Outcome.DELIVERED:
                        done.delivered.append(row.id)
                    elif outcome is Outcome.GAVE_UP:
                        done.gave_up[row.id] = why
                    else:
                        done.retry[row.id] = why
                        return  # keep this contact's order: later rows wait behind this one

        try:
            await asyncio.gather(*(contact(queue) for queue in by_contact.values()))
        finally:  # even when cancelled: what was delivered is recorded and the leases are released
            await asyncio.to_thread(self._mark, done, token, {r.id: r.attempts for r in rows})
        if done.delivered or done.gave_up:
            log.info("outbox.delivered", delivered=len(done.delivered), gave_up=len(done.gave_up))
        if done.retry:
            log.warning(
                "outbox.delivery_failed",
                failed=len(done.retry),
                error=next(iter(done.retry.values())),
                pending=len(rows) - len(done.delivered) - len(done.gave_up),
            )
        return done

    async def _deliver(self, row: Row) -> tuple[Outcome, str]:
        ctx = self.ctx
        try:
            if row.journey is None:
                return Outcome.GAVE_UP, "row names no journey"
            if row.signal == ENROLL:
                scale = float(row.payload.get("time_scale", 1.0))
                await enroll(ctx.client, ctx.engine, ctx.settings, row.contact_id, row.journey, time_scale=scale)
                return Outcome.DELIVERED, ""
            arg = signal_arg(row.signal, row.payload)
            handle = ctx.client.get_workflow_handle(workflow_ids.journey_workflow_id(row.journey, row.contact_id))
            try:
                await handle.signal(row.signal, arg, rpc_timeout=self.rpc_timeout)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                if row.signal in NEVER_STARTS:  # never start a journey for these
                    return Outcome.GAVE_UP, "journey not running"
                # not started yet (enrollment recorded, start lost) or ended: signal-with-start decides
                started = await signal_journey(
                    ctx.client, ctx.engine, ctx.settings, row.contact_id, row.journey, row.signal, arg
                )
                return (Outcome.DELIVERED, "") if started else (Outcome.GAVE_UP, "journey has ended")
            return Outcome.DELIVERED, ""
        except EnrollError as err:
            return Outcome.GAVE_UP, str(err)
        except Exception as err:  # every failure is recorded on the row; nothing escapes the relay
            why = f"{type(err).__name__}: {err}"[:500]
            if _unreachable(err):
                return Outcome.UNREACHABLE, why
            if row.attempts + 1 < MAX_ATTEMPTS:
                return Outcome.RETRY, why
            log.error("outbox.row_abandoned", row_id=row.id, error=why)
            return Outcome.GAVE_UP, why

    def _claim(self, token: str) -> list[Row]:
        """Lease the oldest pending rows of every contact that nobody holds (`nurture.outbound.claim`)."""
        return claim_rows(self.ctx.engine, token, self.batch_size, self.lease)

    def _mark(self, done: Pass, token: str, attempts: dict[int, int]) -> None:
        now = utcnow()
        o = SIGNAL_OUTBOX.c
        mine = o.claimed_by == token  # a lease that expired and was taken over is no longer ours to settle
        with self.ctx.engine.begin() as conn:
            if done.delivered:
                conn.execute(
                    update(SIGNAL_OUTBOX)
                    .where(mine, o.id.in_(done.delivered))
                    .values(delivered_at=now, lease_until=None)
                )
            for row_id, why in done.gave_up.items():
                settled = {"delivered_at": now, "last_error": why, "lease_until": None}
                conn.execute(update(SIGNAL_OUTBOX).where(mine, o.id == row_id).values(**settled))
            for row_id, why in done.retry.items():
                wait = min(self.max_backoff_seconds, self.retry_base_seconds * 2 ** attempts.get(row_id, 0))
                conn.execute(
                    update(SIGNAL_OUTBOX)
                    .where(mine, o.id == row_id)
                    .values(attempts=o.attempts + 1, last_error=why, next_attempt_at=now + timedelta(seconds=wait))
                )
            # rows not reached (behind a failure, or the pass was cancelled) go back to the pool
            conn.execute(update(SIGNAL_OUTBOX).where(mine, o.delivered_at.is_(None)).values(lease_until=None))
