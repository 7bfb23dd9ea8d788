"""Sending one item to the contact: scheduled drops (which wait out the minimum gap) and broadcast drops."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.ending import JourneyEnded, check_exit
    from workflows.metrics import count_drop
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput, SendDropInput, SendDropResult
    from workflows.retry import HEARTBEAT_TIMEOUT, SEND_RETRY, SEND_TIMEOUT
    from workflows.step_results import encode_drop
    from workflows.timers import Timers
    from workflows.visibility import Visibility

MAX_CONSECUTIVE_FAILURES = 3


class Sender:
    def __init__(
        self, inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry, shown: Visibility, timers: Timers
    ) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry
        self._shown = shown
        self._timers = timers
        self.held_out = False  # set by `JourneyRuntime.begin`: the holdout applies only to journeys begun under it
        # From runtime version 2 a broadcast drop records the broadcast's outcome row in the same local activity
        # (`drop_broadcast`): one marker, one dispatch and one database round of work fewer per journey acting.
        self.records_broadcasts = inp.runtime_version >= 2

    async def drop(
        self, why: str, topic: str | None, item_id: str | None, wait_out_gap: bool, priority: int | None = None
    ) -> str:
        """The `drop` primitive: send the named item, or the next unsent one for persona and stage (about `topic`).

        Returns the journal encoding of a `dsl.DropResult`.
        """
        carry = self._carry
        check_exit(carry)
        if item_id is not None:
            item: dsl.ContentItem | None = self._spec.catalog.get(item_id)
            if item_id in carry.offered_items:
                self._shown.decide(f"skipped {item_id}", "already sent or refused by the provider in this journey")
                return encode_drop(dsl.DropResult(dsl.DropOutcome.ALREADY_SENT, item_id, "already sent"))
        else:
            item = self._spec.catalog.next_item(self._inp.persona, carry.stage, carry.offered_items, topic)
        if item is None:
            about = f" about {topic}" if topic else ""
            self._shown.decide("nothing to drop", f"no unsent item{about} for persona {self._inp.persona}")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.EXHAUSTED, detail=f"no unsent item{about}"))
        step = f"drop {carry.drops_sent + 1}"
        self._shown.step = f"sending {item.id}"
        self._shown.publish(flush=True)
        reason = why or f"scheduled drop ({item.stage})"
        result = await self.send(item.id, step, reason, None, wait_gap=wait_out_gap, priority=priority)
        if result.status == "held_out":  # the storyboard goes on as if sent: arms stay comparable
            self._shown.decide(f"held out {item.id}", f"in the {self._spec.key} holdout: recorded, not sent")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.SENT, item.id, "held out"))
        if result.status in ("sent", "unconfirmed"):
            self._shown.decide(f"sent {item.id}", why or f"next {item.stage} item for {self._inp.persona}")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.SENT, item.id))
        if result.status == "deferred":
            self._shown.decide(f"deferred {item.id}", result.detail)  # the claim names the rule: gap, cap, ...
            return encode_drop(
                dsl.DropResult(dsl.DropOutcome.DEFERRED, item.id, result.detail, until=result.deferred_until)
            )
        outcome = {
            "duplicate": dsl.DropOutcome.ALREADY_SENT,
            "expired": dsl.DropOutcome.EXPIRED,
            "declined": dsl.DropOutcome.DECLINED,
        }.get(result.status, dsl.DropOutcome.REFUSED)
        return encode_drop(dsl.DropResult(outcome, item.id, result.detail))

    async def send(
        self,
        item_id: str,
        step: str,
        reason: str,
        broadcast_id: str | None,
        *,
        wait_gap: bool,
        priority: int | None = None,
    ) -> SendDropResult:
        """Send one item; a scheduled drop waits out the minimum gap, a broadcast returns 'deferred'."""
        carry = self._carry
        held_back = 0.0  # workflow seconds this scheduled drop waited for the claim's slot (never the pause)
        while True:
            check_exit(carry)
            if carry.paused:  # bulk pause: nothing goes out; signals keep landing in the inbox meanwhile
                self._shown.decide(f"paused before {item_id}", "paused by an operator")
                self._shown.publish(flush=True)
                await workflow.wait_condition(lambda: not carry.paused or carry.exit_reason is not None)
                continue
            drop = SendDropInput(
                contact_id=self._inp.contact_id,
                journey=self._spec.key,
                workflow_id=workflow.info().workflow_id,
                item_id=item_id,
                step=step,
                reason=reason,
                now=workflow.now(),
                min_gap_seconds=self._inp.min_gap_seconds / self._inp.time_scale,
                broadcast_id=broadcast_id,
                time_scale=self._inp.time_scale,
                priority=priority,
                variants=dict(carry.variants),
                held_out=self.held_out,
            )
            if broadcast_id is None:
                result: SendDropResult = await workflow.execute_activity(
                    temporal_names.ACTIVITY_SEND_DROP,
                    drop,
                    result_type=SendDropResult,
                    start_to_close_timeout=SEND_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,  # a worker killed mid-send is noticed in seconds
                    retry_policy=SEND_RETRY,
                    # No summary: the activity type and its input (item, step, contact id) say what this is, and
                    # a summary on the most frequent command is history bytes and server work per drop.
                )
            else:
                # A broadcast reaches thousands of journeys at once. As a local activity the drop runs in the
                # workflow task the broadcast signal woke, with no activity task round trip through the server;
                # it stays at most once because send_drop claims the touch row before calling the provider.
                name = (
                    temporal_names.ACTIVITY_DROP_BROADCAST
                    if self.records_broadcasts
                    else temporal_names.ACTIVITY_SEND_DROP
                )
                result = await workflow.execute_local_activity(
                    name,
                    drop,
                    result_type=SendDropResult,
                    start_to_close_timeout=SEND_TIMEOUT,
                    retry_policy=SEND_RETRY,
                )
            count_drop(self._spec.key, result.status)
            if result.status == "deferred" and wait_gap and result.deferred_until is not None:
                # the gap, a cap, quiet time or a higher-priority drop: wait for the slot, keeping the journey's place
                self._shown.decide(f"deferred {item_id}", result.detail)
                gap_entry = JournalEntry(op="gap", wake_at=result.deferred_until)
                before = workflow.now()
                await self._timers.sleep_until(gap_entry, f"deferring {item_id} until it may go")
                held_back += (workflow.now() - before).total_seconds()
                continue
            break
        if wait_gap and broadcast_id is None:
            carry.rhythm_lag_seconds = held_back  # what the journey's rhythm (dsl.Rhythm) makes of it
        if result.status in ("sent", "unconfirmed", "held_out"):
            carry.sent_items.append(item_id)
            carry.drops_sent += 1
            carry.failures = 0
        elif result.status == "suppressed":
            raise JourneyEnded("suppressed", result.detail)
        elif result.status == "duplicate":
            carry.sent_items.append(item_id)  # the contact has it already: move on to the next item
            self._shown.decide(f"skipped {item_id}", result.detail)
        elif result.status == "failed":
            carry.refused_items.append(item_id)  # never retry an item the provider refused, never call it sent
            carry.failures += 1
            self._shown.decide(f"drop {item_id} failed", result.detail)
            if carry.failures >= MAX_CONSECUTIVE_FAILURES:
                raise JourneyEnded("undeliverable", result.detail)
        return result
