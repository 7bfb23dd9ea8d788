"""Sending one item to the contact: scheduled drops (which wait out the minimum gap) and broadcast drops."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.ending import JourneyEnded, check_exit
    from workflows.experiments import in_holdout
    from workflows.metrics import count_drop
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput, SendDropInput, SendDropResult
    from workflows.retry import SEND_RETRY
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
        self._held_out = bool(spec.holdout) and in_holdout(spec.key, spec.holdout, inp.contact_id)

    async def drop(self, why: str, topic: str | None, item_id: str | None, wait_out_gap: bool) -> str:
        """The `drop` primitive: send the named item, or the next unsent one for persona and stage (about `topic`).

        Returns the journal encoding of a `dsl.DropResult`.
        """
        carry = self._carry
        check_exit(carry)
        if item_id is not None:
            item: dsl.ContentItem | None = self._spec.catalog.get(item_id)
            if item_id in carry.sent_items:
                self._shown.decide(f"skipped {item_id}", "already sent by this journey")
                return encode_drop(dsl.DropResult(dsl.DropOutcome.ALREADY_SENT, item_id, "already sent"))
        else:
            item = self._spec.catalog.next_item(self._inp.persona, carry.stage, carry.sent_items, topic)
        if item is None:
            about = f" about {topic}" if topic else ""
            self._shown.decide("nothing to drop", f"no unsent item{about} for persona {self._inp.persona}")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.EXHAUSTED, detail=f"no unsent item{about}"))
        step = f"drop {carry.drops_sent + 1}"
        self._shown.step = f"sending {item.id}"
        self._shown.publish(flush=True)
        reason = why or f"scheduled drop ({item.stage})"
        result = await self.send(item.id, step, reason, None, wait_gap=wait_out_gap)
        if result.status == "held_out":  # the storyboard goes on as if sent: arms stay comparable
            self._shown.decide(f"held out {item.id}", f"in the {self._spec.key} holdout: recorded, not sent")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.SENT, item.id, "held out"))
        if result.status in ("sent", "unconfirmed"):
            self._shown.decide(f"sent {item.id}", why or f"next {item.stage} item for {self._inp.persona}")
            return encode_drop(dsl.DropResult(dsl.DropOutcome.SENT, item.id))
        if result.status == "deferred":
            self._shown.decide(f"deferred {item.id}", f"minimum gap between drops: {result.detail}")
            return encode_drop(
                dsl.DropResult(dsl.DropOutcome.DEFERRED, item.id, result.detail, until=result.deferred_until)
            )
        outcome = dsl.DropOutcome.ALREADY_SENT if result.status == "duplicate" else dsl.DropOutcome.REFUSED
        return encode_drop(dsl.DropResult(outcome, item.id, result.detail))

    async def send(
        self, item_id: str, step: str, reason: str, broadcast_id: str | None, *, wait_gap: bool
    ) -> SendDropResult:
        """Send one item; a scheduled drop waits out the minimum gap, a broadcast returns 'deferred'."""
        carry = self._carry
        while True:
            check_exit(carry)
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
                variants=dict(carry.variants),
                held_out=self._held_out,
            )
            if broadcast_id is None:
                result: SendDropResult = await workflow.execute_activity(
                    temporal_names.ACTIVITY_SEND_DROP,
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
                    temporal_names.ACTIVITY_SEND_DROP,
                    drop,
                    result_type=SendDropResult,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=SEND_RETRY,
                )
            count_drop(self._spec.key, result.status)
            if result.status == "deferred" and wait_gap and result.deferred_until is not None:
                self._shown.decide(f"deferred {item_id}", f"minimum gap between drops: {result.detail}")
                gap_entry = JournalEntry(op="gap", wake_at=result.deferred_until)
                await self._timers.sleep_until(gap_entry, f"deferring {item_id} for the minimum gap")
                continue
            break
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
            carry.sent_items.append(item_id)  # never retry an item the provider refused
            carry.failures += 1
            self._shown.decide(f"drop {item_id} failed", result.detail)
            if carry.failures >= MAX_CONSECUTIVE_FAILURES:
                raise JourneyEnded("undeliverable", result.detail)
        return result
