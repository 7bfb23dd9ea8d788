"""Broadcast offers: a journey acts on each broadcast once, whatever it is doing (sleeping, waiting, with sales).

Relevant offers are sent at once, or deferred until the rule that blocked them (gap, cap, quiet time) allows;
every offer's outcome is recorded so the broadcast learns what each journey did with it, including journeys
that end before acting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.dsl.content import written_stand_in
    from workflows.ending import JourneyEnded
    from workflows.offer_outcome import sent_offer_outcome
    from workflows.payloads import (
        BroadcastNotice,
        BroadcastOutcomeInput,
        DeferredBroadcast,
        JournalEntry,
        JourneyCarry,
        JourneyInput,
    )
    from workflows.retry import QUICK_RETRY
    from workflows.sending import Sender
    from workflows.visibility import Visibility


class Offers:
    def __init__(
        self,
        inp: JourneyInput,
        spec: dsl.JourneySpec,
        carry: JourneyCarry,
        shown: Visibility,
        sender: Sender,
        view: dsl.JourneyView,
    ) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry
        self._shown = shown
        self._sender = sender
        self._view = view

    async def handle(self, entry: JournalEntry) -> None:
        """Act on broadcasts that arrived, and on deferred ones now due; `entry` is the step being waited in."""
        carry = self._carry
        now = workflow.now()
        due = [d for d in carry.deferred_broadcasts if d.due <= now]
        carry.deferred_broadcasts = [d for d in carry.deferred_broadcasts if d.due > now]
        offers = [d.notice for d in due]
        while carry.pending_broadcasts:
            notice = carry.pending_broadcasts.pop(0)
            if notice.broadcast_id not in carry.handled_broadcasts:
                carry.handled_broadcasts.append(notice.broadcast_id)
                offers.append(notice)
        for notice in offers:
            try:
                outcome, reason, recorded = await self._offer(notice, entry)
            except JourneyEnded as ended:  # suppressed meanwhile: the broadcast still learns what happened
                await self._record(notice, "skipped", f"journey ended: {ended.outcome}", now)
                raise

            self._shown.decide(f"broadcast {notice.broadcast_id}: {outcome}", reason)
            if not recorded:
                await self._record(notice, outcome, reason, now)

    async def settle(self, outcome: str) -> None:
        """The journey ended: broadcasts it had not acted on yet are reported as skipped, so none waits for it."""
        carry = self._carry
        unsettled = [*carry.pending_broadcasts, *(d.notice for d in carry.deferred_broadcasts)]
        carry.pending_broadcasts, carry.deferred_broadcasts = [], []
        for notice in unsettled:
            await self._record(notice, "skipped", f"journey ended: {outcome}", workflow.now())

    async def _record(self, notice: BroadcastNotice, outcome: str, reason: str, now: datetime) -> None:
        # One idempotent row write, in the same workflow task as the offer: a local activity.
        contact_id = self._inp.contact_id
        await workflow.execute_local_activity(
            temporal_names.ACTIVITY_RECORD_BROADCAST_OUTCOME,
            BroadcastOutcomeInput(notice.broadcast_id, workflow.info().workflow_id, contact_id, outcome, reason, now),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"broadcast {notice.broadcast_id} {outcome} for contact {contact_id}",
        )

    async def _offer(self, notice: BroadcastNotice, entry: JournalEntry) -> tuple[str, str, bool]:
        """(outcome, reason, whether the drop's own local activity recorded them already)."""
        carry = self._carry
        if carry.phase != "nurturing":
            return "skipped", f"contact is {carry.phase.replace('_', ' ')}", False
        item = dsl.find_item(notice.item_id) or written_stand_in(notice.item_id, notice.kind, notice.topics)
        if item is None:
            return "skipped", f"unknown item {notice.item_id}", False
        if item.id in carry.offered_items:
            return "skipped", f"{item.id} already sent", False
        skip = self._spec.relevance(self._view, dsl.Offer(notice.broadcast_id, notice.kind, item))
        if skip is not None:
            return "skipped", skip, False
        result = await self._sender.send(
            item.id,
            f"broadcast {notice.broadcast_id}",
            f"{notice.kind} broadcast",
            notice.broadcast_id,
            wait_gap=False,
        )
        if result.status == "deferred" and result.deferred_until is not None:
            carry.deferred_broadcasts.append(DeferredBroadcast(notice, result.deferred_until))
        sent = result.status in ("sent", "unconfirmed")
        if result.status in ("sent", "unconfirmed", "held_out"):  # counted in drops_sent (`Sender.send`)
            self._shown.broadcast_dropped()
        if sent and self._spec.broadcast_pushes_schedule and entry.wake_at is not None:
            gap = timedelta(seconds=self._inp.min_gap_seconds / self._inp.time_scale)
            entry.wake_at = max(entry.wake_at, workflow.now() + gap)
        learnt = sent_offer_outcome(result, item.id)
        assert learnt is not None  # a suppressed contact's send raised JourneyEnded
        return (*learnt, self._sender.records_broadcasts)
