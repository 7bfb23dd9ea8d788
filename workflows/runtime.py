"""The durable meaning of every storyboard primitive (`workflows.dsl.Journey`), inside a Temporal workflow.

Continue-as-new without losing the storyboard's place: each primitive appends a `JournalEntry` (what it
returned, and the storyboard-visible state after it). A new run re-enters the storyboard from the top and
fast-forwards through finished entries without side effects, then resumes the unfinished one (a sleep or a
wait keeps its absolute wake time). The journal grows by one small entry per primitive, not per signal.

Only code in a `_live_*` method (or a signal handler) mutates state; storyboard-level code never does, so
fast-forwarding is exact.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from nurture import keys
    from workflows import dsl
    from workflows.calendar import next_window_start
    from workflows.payloads import (
        BroadcastNotice,
        BroadcastOutcomeInput,
        DeferredBroadcast,
        EngagementEvent,
        ExitRequest,
        HandoffInput,
        HandoffResult,
        InboxEvent,
        JournalEntry,
        JourneyCarry,
        JourneyInput,
        JourneyStatus,
        PageView,
        SalesFeedback,
        SalesFeedbackInput,
        ScoreInput,
        ScoreResult,
        SendDropInput,
        SendDropResult,
        StoryView,
    )

INBOX_LIMIT = 200
SEEN_LIMIT = 500
MAX_CONSECUTIVE_FAILURES = 3

SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


class JourneyEnded(Exception):
    """Raised through the storyboard to end the journey at once (exit signal, suppression, acceptance)."""

    def __init__(self, outcome: str, detail: str = "") -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.detail = detail


class JourneyChangedError(RuntimeError):
    """The storyboard took a different path than its journal: the definition changed incompatibly."""


class JourneyRuntime:
    """Implements `dsl.Journey` for one contact; owned by `JourneyWorkflow`."""

    def __init__(self, inp: JourneyInput, spec: dsl.JourneySpec) -> None:
        self.inp = inp
        self.spec = spec
        self.c: JourneyCarry = inp.carry or JourneyCarry()
        if self.c.started_at is None:
            self.c.started_at = workflow.now()
        self._cursor = 0
        self._replay_view: StoryView | None = self._initial_view() if self.c.journal else None
        self.step = "starting"
        self.next_wake_at: datetime | None = None
        self._sa_last: dict[str, Any] = {}
        # The durable timer of the current nap, kept across wake-ups that do not move its deadline (a broadcast,
        # an event the wait does not match), so each wake-up costs no timer cancel and restart.
        self._timer: tuple[datetime, asyncio.Task[None]] | None = None

    # ---- storyboard-visible state ----------------------------------------------------------------------

    @property
    def contact_id(self) -> int:
        return self.inp.contact_id

    @property
    def persona(self) -> str:
        return self.inp.persona

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self.inp.topics)

    @property
    def stage(self) -> str:
        return str(self._view("stage"))

    @property
    def score(self) -> float:
        return float(self._view("score"))

    @property
    def drops_sent(self) -> int:
        return int(self._view("drops_sent"))

    @property
    def catalog_exhausted(self) -> bool:
        return bool(self._view("catalog_exhausted"))

    @property
    def rejection_reason(self) -> str | None:
        value = self._view("rejection_reason")
        return None if value is None else str(value)

    @property
    def now(self) -> datetime:
        if self._replay_view is not None and self._replay_view.now is not None:
            return self._replay_view.now
        return self._clock()

    def _clock(self) -> datetime:
        if self.inp.time_scale == 1.0:
            return workflow.now()
        epoch = self.c.started_at or workflow.info().start_time
        return epoch + (workflow.now() - epoch) * self.inp.time_scale

    def decide(self, decision: str, why: str) -> None:
        if self._replay_view is None:
            self._decide(decision, why)
            self.publish()

    def _view(self, name: str) -> Any:
        return getattr(self._replay_view if self._replay_view is not None else self._truth_view(), name)

    def _truth_view(self) -> StoryView:
        return StoryView(
            stage=self.c.stage,
            score=self.c.score,
            drops_sent=self.c.drops_sent,
            catalog_exhausted=self._next_item() is None,
            rejection_reason=self.c.rejection_reason,
            now=self._clock(),
        )

    def _initial_view(self) -> StoryView:
        fresh = JourneyCarry()
        first = self.spec.catalog.next_item(self.persona, fresh.stage, [])
        return StoryView(stage=fresh.stage, score=fresh.score, catalog_exhausted=first is None, now=self.c.started_at)

    def _next_item(self) -> dsl.ContentItem | None:
        return self.spec.catalog.next_item(self.persona, self.c.stage, self.c.sent_items)

    # ---- the journal ------------------------------------------------------------------------------------

    async def _step(self, op: str, live: Callable[[JournalEntry], Awaitable[str | None]]) -> str | None:
        journal = self.c.journal
        if self._cursor < len(journal):
            entry = journal[self._cursor]
            if entry.op != op:
                raise JourneyChangedError(
                    f"journey {self.spec.key}: step {self._cursor} was {entry.op!r}, storyboard now asks {op!r}"
                )
            if entry.done:
                self._cursor += 1
                self._replay_view = entry.view if self._cursor < len(journal) else None
                return entry.result
        else:
            entry = JournalEntry(op=op)
            journal.append(entry)
        self._replay_view = None
        await self._maybe_continue_as_new()
        result = await live(entry)
        self._end_nap()  # a step that is over owes no timer (answered waits, a wait that ended with a signal)
        entry.result, entry.done, entry.wake_at = result, True, None
        entry.view = self._truth_view()
        self._cursor += 1
        self.publish()
        return result

    # ---- primitives -------------------------------------------------------------------------------------

    async def drop(self, why: str = "", *, topic: str | None = None) -> str | None:
        return await self._step("drop", lambda entry: self._live_drop(why, topic))

    async def sleep(self, duration: timedelta, why: str = "") -> None:
        async def live(entry: JournalEntry) -> None:
            if entry.wake_at is None:
                entry.wake_at = workflow.now() + self._scaled(duration)
            await self._sleep_until(entry, f"sleeping {_human(duration)}" + (f": {why}" if why else ""))

        await self._step("sleep", live)

    async def until_send_window(self) -> None:
        async def live(entry: JournalEntry) -> None:
            window = self.spec.send_window
            if window is None or self.inp.time_scale != 1.0:
                return
            if entry.wake_at is None:
                opens = next_window_start(workflow.now(), window, self.inp.time_zone)
                if opens <= workflow.now():
                    return
                entry.wake_at = opens
            await self._sleep_until(entry, "waiting for the send window")

        await self._step("window", live)

    async def wait_for(self, *what: dsl.Matcher, timeout: timedelta) -> dsl.Happened | None:
        if not what:
            raise ValueError("wait_for needs at least one thing to wait for")
        result = await self._step("wait", lambda entry: self._live_wait(entry, what, timeout))
        return _decode_happened(result)

    async def ready(self, why: str = "") -> bool:
        return await self._step("ready", lambda entry: self._live_ready(why)) == "1"

    async def hand_off(self, why: str = "") -> str:
        await self._step("handoff", lambda entry: self._live_handoff(why))
        verdict = await self._step("feedback", self._live_feedback)
        if verdict == "accepted":
            raise JourneyEnded("customer", "sales accepted the lead")
        await self._step("cooldown", self._live_cooldown)
        return verdict or "rejected"

    # ---- live implementations ---------------------------------------------------------------------------

    async def _live_drop(self, why: str, topic: str | None) -> str | None:
        self._check_exit()
        item = self.spec.catalog.next_item(self.persona, self.c.stage, self.c.sent_items, topic)
        if item is None:
            about = f" about {topic}" if topic else ""
            self._decide("nothing to drop", f"no unsent item{about} for persona {self.persona}")
            return None
        step = f"drop {self.c.drops_sent + 1}"
        self.step = f"sending {item.id}"
        self.publish(flush=True)
        result = await self._send(item.id, step, why or f"scheduled drop ({item.stage})", None, wait_gap=True)
        if result.status in ("sent", "unconfirmed"):
            self._decide(f"sent {item.id}", why or f"next {item.stage} item for {self.persona}")
            return item.id
        return None

    async def _live_wait(self, entry: JournalEntry, what: tuple[dsl.Matcher, ...], timeout: timedelta) -> str | None:
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._scaled(timeout)
        label = "waiting for " + " or ".join(str(m) for m in what)
        while True:
            self._check_exit()
            await self._handle_broadcasts(entry)
            hit = self._match(what)
            if hit is not None:
                self.c.consumed_seq = hit.seq
                self._decide(f"heard {hit.kind}", f"{hit.url or hit.item_id or hit.broadcast_kind or ''}".strip())
                return _encode_happened(hit)
            if workflow.now() >= entry.wake_at:
                self.c.consumed_seq = self.c.inbox_seq
                self._decide("wait timed out", f"{label}: nothing within {_human(timeout)}")
                return None
            seen = self.c.inbox_seq
            await self._nap(entry.wake_at, label, _changed_since(self.c, seen))

    async def _live_ready(self, why: str) -> str:
        self._check_exit()
        self.step = "checking readiness"
        self.publish(flush=True)
        # Scoring is a short read of the contact's events: a local activity, run by this worker inside the
        # workflow task, costs no activity task round trip through the server.
        result: ScoreResult = await workflow.execute_local_activity(
            keys.ACTIVITY_SCORE_CONTACT,
            ScoreInput(self.contact_id, self.spec.key, workflow.now()),
            result_type=ScoreResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"score contact {self.contact_id}",
        )
        self.c.score = result.score
        self.c.stage = self.spec.stage_for(result.score)
        ok = result.score >= self.spec.threshold
        verdict = "ready for sales" if ok else "not ready yet"
        self._decide(verdict, f"{result.explain()} vs threshold {self.spec.threshold:g}" + (f"; {why}" if why else ""))
        return "1" if ok else "0"

    async def _live_handoff(self, why: str) -> str:
        self._check_exit()
        self.step = "handing off to sales"
        self.publish(flush=True)
        self.c.handoffs += 1
        # Feedback left over from an earlier handoff is stale; feedback that arrives while this handoff is
        # in flight (a rep can answer in the CRM before the activity returns) belongs to this one and is kept.
        self.c.sales_feedback.clear()
        result: HandoffResult = await workflow.execute_activity(
            keys.ACTIVITY_HAND_OFF,
            HandoffInput(
                contact_id=self.contact_id,
                journey=self.spec.key,
                workflow_id=workflow.info().workflow_id,
                attempt=self.c.handoffs,
                score=self.c.score,
                reason=why or self.c.last_why,
                now=workflow.now(),
            ),
            result_type=HandoffResult,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=SEND_RETRY,
            summary=f"hand contact {self.contact_id} to sales",
        )
        self.c.handoff_id = result.handoff_id
        self.c.phase = "with_sales"
        self.c.sales_feedback[:] = [
            f for f in self.c.sales_feedback if f.handoff_id is None or f.handoff_id == result.handoff_id
        ]
        self._decide("handed to sales", why or f"score {self.c.score:.1f} >= {self.spec.threshold:g}")
        return str(result.handoff_id)

    async def _live_feedback(self, entry: JournalEntry) -> str:
        timeout = self.spec.sales_feedback_timeout
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._scaled(timeout)
        while not self._answers():
            self._check_exit()
            await self._handle_broadcasts(entry)
            if workflow.now() >= entry.wake_at:
                break
            await self._nap(entry.wake_at, "waiting for sales feedback", lambda: bool(self._answers()))
        self._end_nap()
        answers = self._answers()
        feedback = answers[0] if answers else None
        if feedback is not None:
            self.c.sales_feedback.remove(feedback)
        accepted = None if feedback is None else feedback.accepted
        reason = feedback.reason if feedback else f"no feedback from sales within {_human(timeout)}"
        stored = await workflow.execute_activity(
            keys.ACTIVITY_RECORD_SALES_FEEDBACK,
            SalesFeedbackInput(self.c.handoff_id or 0, accepted, reason, workflow.now()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"record sales feedback for contact {self.contact_id}",
        )
        if feedback is None and isinstance(stored, dict) and stored.get("verdict") in ("accepted", "rejected"):
            # The CRM's verdict reached the handoff row as the wait ended (its signal still on the way): it wins.
            feedback = SalesFeedback(stored["verdict"] == "accepted", str(stored.get("reason") or ""))
            accepted, reason = feedback.accepted, feedback.reason
        if accepted:
            self.c.phase = "customer"
            self._decide("accepted by sales", reason or "accepted")
            return "accepted"
        self.c.rejection_reason = reason or "rejected without a reason"
        self._decide("recycled into nurture", self.c.rejection_reason)
        return "rejected" if feedback else "no_feedback"

    def _answers(self) -> list[SalesFeedback]:
        """Feedback for the current handoff (an answer naming an earlier one is late, and never counts)."""
        current = self.c.handoff_id
        return [f for f in self.c.sales_feedback if f.handoff_id is None or f.handoff_id == current]

    async def _live_cooldown(self, entry: JournalEntry) -> None:
        self.c.phase = "cooling_down"
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._scaled(self.spec.cooldown_after_rejection)
        await self._sleep_until(entry, "cooling down after sales feedback")
        self.c.phase = "nurturing"

    # ---- waiting ----------------------------------------------------------------------------------------

    async def _sleep_until(self, entry: JournalEntry, label: str) -> None:
        while True:
            self._check_exit()
            await self._handle_broadcasts(entry)
            assert entry.wake_at is not None
            if workflow.now() >= entry.wake_at:
                return
            await self._nap(entry.wake_at, label, lambda: False)

    async def _nap(self, until: datetime, label: str, woken: Callable[[], bool]) -> None:
        """Wait until `until`, an exit, a broadcast, `woken()` or a continue-as-new suggestion."""
        self.step, self.next_wake_at = label, until
        self.publish(flush=True)
        deadline = min([until, *(d.due for d in self.c.deferred_broadcasts)])
        timeout = deadline - workflow.now()
        if timeout > timedelta(0):
            timer = self._timer_for(deadline, timeout, label)
            await workflow.wait_condition(
                lambda: (
                    timer.done()
                    or woken()
                    or self.c.exit_reason is not None
                    or bool(self.c.pending_broadcasts)
                    or self._should_continue_as_new()
                )
            )
        await self._maybe_continue_as_new()

    def _end_nap(self) -> None:
        """The step no longer waits: stop its timer if still pending (it would wake the journey for nothing)."""
        if self._timer is not None:
            self._timer[1].cancel()
            self._timer = None

    def _timer_for(self, deadline: datetime, timeout: timedelta, label: str) -> asyncio.Task[None]:
        """The running timer if it ends at `deadline`; otherwise cancel it and start one that does."""
        if self._timer is not None:
            at, task = self._timer
            if at == deadline and not task.done():
                return task
            task.cancel()
        task = asyncio.ensure_future(workflow.sleep(timeout, summary=label[:100]))
        self._timer = (deadline, task)
        return task

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        limit = self.inp.history_limit
        return info.is_continue_as_new_suggested() or (limit > 0 and info.get_current_history_length() > max(limit, 50))

    async def _maybe_continue_as_new(self) -> None:
        if not self._should_continue_as_new():
            return
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.c.runs += 1
        self.c.inbox = [e for e in self.c.inbox if e.seq > self.c.consumed_seq][-INBOX_LIMIT:]
        workflow.continue_as_new(replace(self.inp, carry=self.c))

    def _check_exit(self) -> None:
        if self.c.exit_reason is not None:
            raise JourneyEnded(self.c.exit_reason, "exit signal")

    def _match(self, what: tuple[dsl.Matcher, ...]) -> InboxEvent | None:
        for event in self.c.inbox:
            if event.seq <= self.c.consumed_seq:
                continue
            topic = event.topic
            if any(m.matches(event.kind, event.url, topic, event.broadcast_kind) for m in what):
                return event
        return None

    # ---- sending ----------------------------------------------------------------------------------------

    async def _send(
        self, item_id: str, step: str, reason: str, broadcast_id: str | None, *, wait_gap: bool
    ) -> SendDropResult:
        """Send one item; a scheduled drop waits out the minimum gap, a broadcast returns 'deferred'."""
        while True:
            self._check_exit()
            drop = SendDropInput(
                contact_id=self.contact_id,
                journey=self.spec.key,
                workflow_id=workflow.info().workflow_id,
                item_id=item_id,
                step=step,
                reason=reason,
                now=workflow.now(),
                min_gap_seconds=self.inp.min_gap_seconds / self.inp.time_scale,
                broadcast_id=broadcast_id,
                time_scale=self.inp.time_scale,
            )
            if broadcast_id is None:
                result: SendDropResult = await workflow.execute_activity(
                    keys.ACTIVITY_SEND_DROP,
                    drop,
                    result_type=SendDropResult,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=SEND_RETRY,
                    # No summary: the activity type and its input (item, step, contact id) say what this is, and
                    # a summary on the most frequent command is history bytes and server work per drop.
                )
            else:
                # A broadcast reaches thousands of journeys at once. As a local activity the drop runs in the
                # workflow task the broadcast signal woke, with no activity task round trip through the server;
                # it stays at most once because send_drop claims the touch row before calling the provider.
                result = await workflow.execute_local_activity(
                    keys.ACTIVITY_SEND_DROP,
                    drop,
                    result_type=SendDropResult,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=SEND_RETRY,
                )
            if result.status == "deferred" and wait_gap and result.deferred_until is not None:
                self._decide(f"deferred {item_id}", f"minimum gap between drops: {result.detail}")
                gap_entry = JournalEntry(op="gap", wake_at=result.deferred_until)
                await self._sleep_until(gap_entry, f"deferring {item_id} for the minimum gap")
                continue
            break
        if result.status in ("sent", "unconfirmed"):
            self.c.sent_items.append(item_id)
            self.c.drops_sent += 1
            self.c.failures = 0
        elif result.status == "suppressed":
            raise JourneyEnded("suppressed", result.detail)
        elif result.status == "duplicate":
            self.c.sent_items.append(item_id)  # the contact has it already: move on to the next item
            self._decide(f"skipped {item_id}", result.detail)
        elif result.status == "failed":
            self.c.sent_items.append(item_id)  # never retry an item the provider refused
            self.c.failures += 1
            self._decide(f"drop {item_id} failed", result.detail)
            if self.c.failures >= MAX_CONSECUTIVE_FAILURES:
                raise JourneyEnded("undeliverable", result.detail)
        return result

    # ---- broadcasts -------------------------------------------------------------------------------------

    async def _handle_broadcasts(self, entry: JournalEntry) -> None:
        now = workflow.now()
        due = [d for d in self.c.deferred_broadcasts if d.due <= now]
        self.c.deferred_broadcasts = [d for d in self.c.deferred_broadcasts if d.due > now]
        offers = [d.notice for d in due]
        while self.c.pending_broadcasts:
            notice = self.c.pending_broadcasts.pop(0)
            if notice.broadcast_id not in self.c.handled_broadcasts:
                self.c.handled_broadcasts.append(notice.broadcast_id)
                offers.append(notice)
        for notice in offers:
            try:
                outcome, reason = await self._offer(notice, entry)
            except JourneyEnded as ended:  # suppressed meanwhile: the broadcast still learns what happened
                await self._record_offer(notice, "skipped", f"journey ended: {ended.outcome}", now)
                raise

            self._decide(f"broadcast {notice.broadcast_id}: {outcome}", reason)
            await self._record_offer(notice, outcome, reason, now)

    async def settle_broadcasts(self, outcome: str) -> None:
        """The journey ended: broadcasts it had not acted on yet are reported as skipped, so none waits for it."""
        unsettled = [*self.c.pending_broadcasts, *(d.notice for d in self.c.deferred_broadcasts)]
        self.c.pending_broadcasts, self.c.deferred_broadcasts = [], []
        for notice in unsettled:
            await self._record_offer(notice, "skipped", f"journey ended: {outcome}", workflow.now())

    async def _record_offer(self, notice: BroadcastNotice, outcome: str, reason: str, now: datetime) -> None:
        # One idempotent row write, in the same workflow task as the offer: a local activity.
        await workflow.execute_local_activity(
            keys.ACTIVITY_RECORD_BROADCAST_OUTCOME,
            BroadcastOutcomeInput(
                notice.broadcast_id, workflow.info().workflow_id, self.contact_id, outcome, reason, now
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"broadcast {notice.broadcast_id} {outcome} for contact {self.contact_id}",
        )

    async def _offer(self, notice: BroadcastNotice, entry: JournalEntry) -> tuple[str, str]:
        if self.c.phase != "nurturing":
            return "skipped", f"contact is {self.c.phase.replace('_', ' ')}"
        item = dsl.find_item(notice.item_id)
        if item is None:
            return "skipped", f"unknown item {notice.item_id}"
        if item.id in self.c.sent_items:
            return "skipped", f"{item.id} already sent"
        skip = self.spec.relevance(self, dsl.Offer(notice.broadcast_id, notice.kind, item))
        if skip is not None:
            return "skipped", skip
        result = await self._send(
            item.id,
            f"broadcast {notice.broadcast_id}",
            f"{notice.kind} broadcast",
            notice.broadcast_id,
            wait_gap=False,
        )
        if result.status == "deferred" and result.deferred_until is not None:
            self.c.deferred_broadcasts.append(DeferredBroadcast(notice, result.deferred_until))
            return "deferred", f"minimum gap: due {result.deferred_until.isoformat()}"
        if result.status == "duplicate":
            return "skipped", result.detail
        if result.status in ("sent", "unconfirmed"):
            if self.spec.broadcast_pushes_schedule and entry.wake_at is not None:
                gap = timedelta(seconds=self.inp.min_gap_seconds / self.inp.time_scale)
                entry.wake_at = max(entry.wake_at, workflow.now() + gap)
            return "dropped", f"sent {item.id}"
        return "failed", result.detail

    # ---- signal handlers (called by the workflow class) -----------------------------------------------

    def _remember(self, event_id: str | None) -> bool:
        """False if this event id was seen already (at-least-once delivery upstream)."""
        if event_id is not None:
            if event_id in self.c.seen_event_ids:
                return False
            self.c.seen_event_ids.append(event_id)
            del self.c.seen_event_ids[:-SEEN_LIMIT]
        self.c.signals_received += 1
        return True

    def _push(self, **fields: Any) -> None:
        self.c.inbox_seq += 1
        self.c.inbox.append(InboxEvent(seq=self.c.inbox_seq, **fields))
        if len(self.c.inbox) > INBOX_LIMIT:
            del self.c.inbox[: len(self.c.inbox) - INBOX_LIMIT]

    def on_engagement(self, event: EngagementEvent) -> None:
        if self._remember(event.event_id):
            self._push(
                kind=event.kind,
                at=event.occurred_at,
                event_id=event.event_id,
                url=event.url,
                item_id=event.item_id,
            )

    def on_page_view(self, view: PageView) -> None:
        if self._remember(view.event_id):
            self._push(kind="page_view", at=view.occurred_at, event_id=view.event_id, url=view.url, topic=view.topic)

    def on_broadcast(self, notice: BroadcastNotice) -> None:
        pending = {n.broadcast_id for n in self.c.pending_broadcasts}
        if notice.broadcast_id in self.c.handled_broadcasts or notice.broadcast_id in pending:
            return
        self.c.pending_broadcasts.append(notice)
        self._push(
            kind="broadcast",
            at=workflow.now(),
            item_id=notice.item_id,
            topic=notice.topics[0] if notice.topics else None,
            broadcast_kind=notice.kind,
        )

    def on_exit(self, request: ExitRequest) -> None:
        if self.c.exit_reason is None:
            self.c.exit_reason = request.reason

    def on_sales_feedback(self, feedback: SalesFeedback) -> None:
        self.c.sales_feedback.append(feedback)

    # ---- visibility -------------------------------------------------------------------------------------

    def _decide(self, decision: str, why: str) -> None:
        self.c.last_decision, self.c.last_why = decision, why

    def _scaled(self, duration: timedelta) -> timedelta:
        return duration / self.inp.time_scale

    def status(self) -> JourneyStatus:
        return JourneyStatus(
            journey=self.spec.key,
            contact_id=self.contact_id,
            phase=self.c.phase,
            step=self.step,
            stage=self.c.stage,
            lead_score=self.c.score,
            next_wake_at=self.next_wake_at,
            drops_sent=self.c.drops_sent,
            items_sent=list(self.c.sent_items),
            last_decision=self.c.last_decision,
            why=self.c.last_why,
            pending_broadcasts=len(self.c.pending_broadcasts) + len(self.c.deferred_broadcasts),
            handled_broadcasts=list(self.c.handled_broadcasts),
            run=self.c.runs,
            signals_received=self.c.signals_received,
        )

    def publish(self, *, flush: bool = False, closing: bool = False) -> None:
        """Current details for the UI; with `flush`, search attributes for ops (only those that changed).

        Flushing only where the workflow is about to block coalesces a step's changes into one upsert. When the
        journey is `closing`, phase and next wake-up are left as they were: the closed execution's status and
        result say how it ended, and an upsert that only restates that is a history event for nothing.
        """
        if self._replay_view is not None:
            return
        workflow.set_current_details(self._details())
        if flush:
            self._flush_search_attributes(closing=closing)

    def _flush_search_attributes(self, *, closing: bool = False) -> None:
        wanted: dict[str, Any] = {
            keys.SA_STAGE.name: self.c.stage,
            keys.SA_LEAD_SCORE.name: round(self.c.score, 2),
            keys.SA_DROPS_SENT.name: self.c.drops_sent,
        }
        if not closing:
            wanted[keys.SA_PHASE.name] = self.c.phase
            wanted[keys.SA_NEXT_DROP_AT.name] = self.next_wake_at
        if not self._sa_last:
            self._sa_last = _current_search_attributes()
        changed = {k: v for k, v in wanted.items() if self._sa_last.get(k) != v}
        if not changed.keys() - {keys.SA_NEXT_DROP_AT.name} and not self._wakes_earlier(changed):
            # A later next wake-up rides along with the next change ops filter on (stage, score, drops, phase):
            # every upsert is a history event and server work, and the rests and send-window naps between two
            # drops would otherwise cost one each. So NurtureNextDropAt is a lower bound: the journey does
            # nothing scheduled before it. An earlier wake-up (an event brought the next drop forward) is
            # upserted at once, to keep it one.
            return
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in (
            keys.SA_STAGE,
            keys.SA_LEAD_SCORE,
            keys.SA_DROPS_SENT,
            keys.SA_PHASE,
            keys.SA_NEXT_DROP_AT,
        ):
            if key.name in changed:
                value = changed[key.name]
                updates.append(key.value_unset() if value is None else key.value_set(value))
        workflow.upsert_search_attributes(updates)
        self._sa_last.update(changed)

    def _wakes_earlier(self, changed: dict[str, Any]) -> bool:
        name = keys.SA_NEXT_DROP_AT.name
        if name not in changed or changed[name] is None:
            return False
        recorded = self._sa_last.get(name)
        return recorded is None or bool(changed[name] < recorded)

    def _details(self) -> str:
        wake = self.next_wake_at.isoformat(timespec="minutes") if self.next_wake_at else "-"
        return "\n".join(
            [
                f"**{self.spec.key}** for contact `{self.contact_id}` ({self.persona})",
                f"- phase: {self.c.phase}; step: {self.step}",
                f"- stage: {self.c.stage}; lead score: {self.c.score:.1f} (threshold {self.spec.threshold:g})",
                f"- drops sent: {self.c.drops_sent} ({', '.join(self.c.sent_items[-5:]) or 'none yet'})",
                f"- next wake-up: {wake}",
                f"- last decision: {self.c.last_decision or '-'}: {self.c.last_why or '-'}",
            ]
        )


def _changed_since(carry: JourneyCarry, seen: int) -> Callable[[], bool]:
    return lambda: carry.inbox_seq != seen


def _current_search_attributes() -> dict[str, Any]:
    current = workflow.info().typed_search_attributes
    found: dict[str, Any] = {}
    for key in (keys.SA_STAGE, keys.SA_LEAD_SCORE, keys.SA_DROPS_SENT, keys.SA_PHASE, keys.SA_NEXT_DROP_AT):
        value = current.get(key)
        found[key.name] = value
    return found


def _encode_happened(event: InboxEvent) -> str:
    return json.dumps(
        {
            "kind": event.kind,
            "at": event.at.isoformat(),
            "url": event.url,
            "item_id": event.item_id,
            "topic": event.topic,
            "broadcast_kind": event.broadcast_kind,
        }
    )


def _decode_happened(raw: str | None) -> dsl.Happened | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return dsl.Happened(
        kind=data["kind"],
        at=datetime.fromisoformat(data["at"]),
        url=data["url"],
        item_id=data["item_id"],
        topic=data["topic"],
        broadcast_id=None,
    )


def _human(duration: timedelta) -> str:
    """Compact and readable: 2w, 3d, 4d 6h, 90m, 12s."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "0s"
    for unit, size in (("w", 604800), ("d", 86400)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and len(parts) < 2:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts)
