"""BroadcastWorkflow: pages through a broadcast's audience and signals every journey in it, durably.

Phases: count the audience (the progress bar's total); page through it (visibility query, page token in
state), signalling each page in short chunks with bounded concurrency and rate; sweep once for journeys whose
current run started after the newest one listed (enrolled, or continued-as-new, while we paged: visibility
lists newest runs first, so such a run sorts before the page cursor); then settle: wait a bounded time for
every signalled journey to report its outcome. Pause, resume and cancel are signals that take effect at the next chunk
boundary (a chunk lasts at most `chunk_seconds`). Journeys dedupe broadcast ids, so a chunk retried after a
worker crash re-signals harmlessly; its heartbeat keeps that to the last second or so.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import broadcast_visibility as shown
    from workflows.broadcast_payloads import (
        COUNT_PACE,
        FINAL_STATES,
        AudiencePage,
        AudiencePageInput,
        BroadcastCarry,
        BroadcastInput,
        BroadcastProgress,
        BroadcastProgressInput,
        BroadcastProgressResult,
        SignalJourneysInput,
        SignalJourneysResult,
    )
    from workflows.metrics import count_broadcast_signalled

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
LIST_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), non_retryable_error_types=["InvalidAudience"])
HISTORY_LIMIT = 2000  # continue-as-new well before the server's suggestion: each chunk adds ~10 events
SETTLE_POLL = timedelta(seconds=2)
RECORD_EVERY = timedelta(seconds=5)


def _sweep_query(query: str, newest_start_ns: int) -> str:
    """Runs that started after `newest_start_ns` (RFC 3339 with nanoseconds, so the newest one is excluded)."""
    seconds, nanos = divmod(newest_start_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{query} AND StartTime > '{stamp}.{nanos:09d}Z'"


@workflow.defn(name=temporal_names.BROADCAST_WORKFLOW)
class BroadcastWorkflow:
    """Delivers one broadcast (`BroadcastInput.notice`) to every journey matching `BroadcastInput.query`."""

    @workflow.init
    def __init__(self, inp: BroadcastInput) -> None:
        self.inp = inp
        self.carry: BroadcastCarry = inp.carry or BroadcastCarry()
        self._sa_last: dict[str, Any] = {}
        self._settle_until: datetime | None = None
        self._sending = False
        self._recorded_at: datetime | None = None
        self._recount_after: datetime | None = None

    @workflow.run
    async def run(self, inp: BroadcastInput) -> BroadcastProgress:
        c = self.carry
        self._publish()
        try:
            if c.phase == "counting":
                c.total = await self._count()
                c.started_at = workflow.now()
                c.phase = "paging"
                await self._record()
            while c.phase in ("paging", "sweeping") and c.state != "cancelled":
                await self._wait_while_paused()
                if c.state == "cancelled":
                    break
                if c.pending:
                    await self._signal_chunk()
                    await self._record(unless_within=RECORD_EVERY)
                elif c.listed_all:
                    c.phase = "sweeping" if c.phase == "paging" else "settling"
                    if c.phase == "settling":
                        c.unreported = {}  # nothing more to signal: the window has done its work
                    c.page_token, c.listed_all = "", False
                else:
                    await self._list_page()
                self._maybe_continue_as_new()
            if c.phase == "settling" and c.state != "cancelled":
                await self._settle()
        except ActivityError as err:
            c.state, c.phase = "failed", "done"
            await self._record(finished=True)
            raise ApplicationError(f"broadcast {inp.broadcast_id} failed: {err.cause or err}") from err
        if c.state != "cancelled":
            c.state = "completed"
        c.phase = "done"
        await self._record(finished=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    # ---- steps ------------------------------------------------------------------------------------------

    async def _count(self) -> int:
        return int(
            await workflow.execute_activity(
                temporal_names.ACTIVITY_COUNT_AUDIENCE,
                self.inp.query,
                result_type=int,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=LIST_RETRY,
                summary="count the audience",
            )
        )

    async def _list_page(self) -> None:
        c = self.carry
        query = self.inp.query
        if c.phase == "sweeping":
            assert c.started_at is not None
            since = c.newest_start_ns or int(c.started_at.timestamp()) * 1_000_000_000
            query = _sweep_query(query, since)
        page: AudiencePage = await workflow.execute_activity(
            temporal_names.ACTIVITY_LIST_AUDIENCE_PAGE,
            AudiencePageInput(query, c.page_token, self.inp.page_size),
            result_type=AudiencePage,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=LIST_RETRY,
            summary=f"list {c.phase} page {c.pages + 1}",
        )
        c.pages += 1
        c.pending = list(page.workflow_ids)
        c.page_token, c.listed_all = page.next_page_token, not page.next_page_token
        if c.phase == "paging":
            c.newest_start_ns = max(c.newest_start_ns, page.newest_start_ns)
        self._publish()

    async def _signal_chunk(self) -> None:
        c, inp = self.carry, self.inp
        # No more ids than the chunk can pace through: keeps each activity input (and the history) small.
        chunk = c.pending[: int(inp.rate_per_second * inp.chunk_seconds) + inp.concurrency]
        self._sending = True
        try:
            result: SignalJourneysResult = await workflow.execute_activity(
                temporal_names.ACTIVITY_SIGNAL_JOURNEYS,
                SignalJourneysInput(
                    notice=inp.notice,
                    workflow_ids=chunk,
                    rate_per_second=inp.rate_per_second,
                    concurrency=inp.concurrency,
                    max_seconds=inp.chunk_seconds,
                    max_unreported=inp.max_unreported,
                    unreported=c.unreported,
                ),
                result_type=SignalJourneysResult,
                start_to_close_timeout=timedelta(seconds=inp.chunk_seconds + 120),
                heartbeat_timeout=timedelta(seconds=5),
                retry_policy=RETRY,
                summary=f"signal up to {len(chunk)} journeys ({c.phase})",
            )
        finally:
            self._sending = False
        del c.pending[: result.done]
        c.unreported = dict(result.unreported)
        count_broadcast_signalled(inp.broadcast_id, result.signalled)
        if c.phase == "sweeping":
            c.late += result.signalled
        else:
            c.signalled += result.signalled
        c.suppressed += result.suppressed
        c.failed += result.failed
        for reason, n in result.failures.items():
            c.failures[reason] = c.failures.get(reason, 0) + n

    async def _wait_while_paused(self) -> None:
        if self.carry.state != "paused":
            return
        await self._record()
        await workflow.wait_condition(lambda: self.carry.state != "paused")
        await self._record()

    async def _settle(self) -> None:
        """Wait (bounded) until every signalled journey has reported; cancel ends the wait."""
        if self._settle_until is None:
            self._settle_until = workflow.now() + timedelta(seconds=self.inp.settle_seconds)
        while self.carry.state != "cancelled":
            await self._record()
            if (
                shown.heard(self.carry) >= self.carry.signalled + self.carry.suppressed
                or workflow.now() >= self._settle_until
            ):
                return
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self.carry.state == "cancelled", timeout=SETTLE_POLL)

    async def _record(self, *, finished: bool = False, unless_within: timedelta | None = None) -> None:
        """Persist progress on the Broadcast row; read back what journeys reported.

        With `unless_within`, skip it if the last record is that recent (the search attributes and details
        still show the new counts): between chunks, the audit row need not be written every two seconds.
        """
        c = self.carry
        now = workflow.now()
        if unless_within is not None and self._recorded_at is not None and now - self._recorded_at < unless_within:
            self._publish()
            return
        self._recorded_at = now
        # Counting the reports reads every row of the broadcast (~0.2 s at 1M rows, seconds at 10M): count again
        # only after COUNT_PACE times the last count's duration, so counting takes at most a tenth of a
        # database core whatever the audience. The final record always counts.
        recount = finished or self._recount_after is None or now >= self._recount_after
        counts = {
            "total": c.total,
            "signalled": c.signalled,
            "late": c.late,
            "suppressed": c.suppressed,
            "signal_failed": c.failed,
            "pages": c.pages,
        }
        counts.update({f"signal_failed:{reason}": n for reason, n in c.failures.items()})
        result: BroadcastProgressResult = await workflow.execute_activity(
            temporal_names.ACTIVITY_RECORD_PROGRESS,
            BroadcastProgressInput(self.inp.broadcast_id, c.state, counts, now, finished, recount=recount),
            result_type=BroadcastProgressResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
            summary=f"record progress: {c.state}, {c.signalled} signalled",
        )
        c.outcomes = dict(result.outcomes)
        if recount:
            self._recount_after = now + timedelta(seconds=COUNT_PACE * result.count_seconds)
        self._publish()

    def _maybe_continue_as_new(self) -> None:
        info = workflow.info()
        if info.get_current_history_length() < HISTORY_LIMIT and not info.is_continue_as_new_suggested():
            return
        if not workflow.all_handlers_finished():
            return  # signal handlers are synchronous: this only defers by one step
        self.carry.runs += 1
        workflow.continue_as_new(replace(self.inp, carry=self.carry))

    # ---- control ----------------------------------------------------------------------------------------

    @workflow.signal(name=temporal_names.SIGNAL_PAUSE)
    def pause(self) -> None:
        if self.carry.state == "running" and self.carry.phase in ("counting", "paging", "sweeping"):
            self.carry.state = "paused"
            self._publish()

    @workflow.signal(name=temporal_names.SIGNAL_RESUME)
    def resume(self) -> None:
        if self.carry.state == "paused":
            self.carry.state = "running"
            self._publish()

    @workflow.signal(name=temporal_names.SIGNAL_CANCEL)
    def cancel(self) -> None:
        if self.carry.state not in FINAL_STATES:
            self.carry.state = "cancelled"
            self._publish()

    @workflow.query(name=temporal_names.QUERY_PROGRESS)
    def progress(self) -> BroadcastProgress:
        return shown.progress(self.inp, self.carry, sending=self._sending)

    def _publish(self) -> None:
        shown.publish(self.inp, self.carry, self._sa_last)
