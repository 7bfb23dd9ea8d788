"""Activities registered under the real names, recording what journeys asked for (with workflow time).

Journey scenario tests use these to see exactly what a storyboard did and when; the real activities have
their own tests against real databases and a real HTTP fake of SendGrid.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import activity

from nurture import temporal_names
from workflows.offer_outcome import sent_offer_outcome
from workflows.payloads import (
    BroadcastOutcomeInput,
    HandoffInput,
    HandoffResult,
    JourneyEndInput,
    SalesFeedbackInput,
    ScoreContribution,
    ScoreInput,
    ScoreResult,
    SendDropInput,
    SendDropResult,
)
from workflows.task_payloads import CallTaskInput, CallTaskResult, CloseCallTaskInput


@dataclass
class Recorder:
    """What the fake activities saw. `scores` are returned in order (the last one repeats)."""

    scores: list[float] = field(default_factory=lambda: [0.0])
    grade: str = "B"  # the fit grade scoring reports when asked to grade (a fair fit: the score decides)
    min_gap: bool = True
    suppressed: set[int] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # item ids the provider refuses (status failed)
    duplicates: set[str] = field(default_factory=set)  # item ids the contact already has from another journey
    # item id -> how long the claim holds it back from its first attempt (as quiet time or a cap would)
    defer: dict[str, timedelta] = field(default_factory=dict)
    defer_next: timedelta | None = None  # the next item first attempted is held back this long
    _first_attempt: dict[str, datetime] = field(default_factory=dict)
    sends: list[SendDropInput] = field(default_factory=list)
    held: list[SendDropInput] = field(default_factory=list)  # drops a holdout recorded instead of sending
    scored: list[ScoreInput] = field(default_factory=list)
    handoffs: list[HandoffInput] = field(default_factory=list)
    feedback: list[SalesFeedbackInput] = field(default_factory=list)
    ends: list[JourneyEndInput] = field(default_factory=list)
    broadcast_outcomes: list[BroadcastOutcomeInput] = field(default_factory=list)
    # When set, the handoff activity reports that it started and then holds until the test opens the gate.
    handoff_gate: asyncio.Event | None = None
    handoff_started: asyncio.Event = field(default_factory=asyncio.Event)
    call_tasks: list[CallTaskInput] = field(default_factory=list)
    closed_calls: list[CloseCallTaskInput] = field(default_factory=list)
    handoff_stage: str | None = None  # the lifecycle stage the handoff activity reports (the real one: mql)
    _sent_keys: dict[str, SendDropResult] = field(default_factory=dict)

    def sent(self, contact_id: int | None = None) -> list[SendDropInput]:
        return [s for s in self.sends if contact_id is None or s.contact_id == contact_id]

    def activities(self) -> list[object]:
        rec = self

        @activity.defn(name=temporal_names.ACTIVITY_SEND_DROP)
        async def send_drop(inp: SendDropInput) -> SendDropResult:
            key = f"{inp.workflow_id}:{inp.item_id}"
            if key in rec._sent_keys:
                return rec._sent_keys[key]
            if inp.contact_id in rec.suppressed:
                return SendDropResult(status="suppressed", detail="contact unsubscribed")
            first = rec._first_attempt.setdefault(key, inp.now)
            if rec.defer_next is not None and first == inp.now:
                rec.defer[inp.item_id], rec.defer_next = rec.defer_next, None
            if inp.item_id in rec.defer and inp.now < first + rec.defer[inp.item_id]:
                until = first + rec.defer[inp.item_id]
                return SendDropResult(status="deferred", deferred_until=until, detail="quiet time: held back")
            if rec.min_gap:
                last = max((s.now for s in rec.sends if s.contact_id == inp.contact_id), default=None)
                gap = timedelta(seconds=inp.min_gap_seconds)
                if last is not None and inp.now - last < gap:
                    return SendDropResult(status="deferred", deferred_until=last + gap, detail="too soon")
            if inp.item_id in rec.refused:
                return SendDropResult(status="failed", detail="provider refused the item")
            if inp.item_id in rec.duplicates:
                return SendDropResult(status="duplicate", detail="sent by another journey")
            if inp.held_out:
                rec.held.append(inp)
                rec._sent_keys[key] = SendDropResult(status="held_out", detail="in the journey's holdout")
                return rec._sent_keys[key]
            rec.sends.append(inp)
            result = SendDropResult(status="sent", touch_id=len(rec.sends), message_id=f"msg-{len(rec.sends)}")
            rec._sent_keys[key] = result
            return result

        @activity.defn(name=temporal_names.ACTIVITY_SCORE_CONTACT)
        async def score_contact(inp: ScoreInput) -> ScoreResult:
            rec.scored.append(inp)
            score = rec.scores[min(len(rec.scored) - 1, len(rec.scores) - 1)]
            top = [ScoreContribution("clicked", score, 1)]
            return ScoreResult(score=score, stage="awareness", top=top, grade=rec.grade if inp.fit else "")

        @activity.defn(name=temporal_names.ACTIVITY_HAND_OFF)
        async def hand_off_to_sales(inp: HandoffInput) -> HandoffResult:
            rec.handoffs.append(inp)
            rec.handoff_started.set()
            if rec.handoff_gate is not None:
                await rec.handoff_gate.wait()
            return HandoffResult(handoff_id=len(rec.handoffs), delivered=True, lifecycle_stage=rec.handoff_stage)

        @activity.defn(name=temporal_names.ACTIVITY_CREATE_CALL_TASK)
        async def create_call_task(inp: CallTaskInput) -> CallTaskResult:
            rec.call_tasks.append(inp)
            return CallTaskResult(task_id=100 + len(rec.call_tasks), delivered=True)

        @activity.defn(name=temporal_names.ACTIVITY_CLOSE_CALL_TASK)
        async def close_call_task(inp: CloseCallTaskInput) -> str:
            rec.closed_calls.append(inp)
            return "timed_out"

        @activity.defn(name=temporal_names.ACTIVITY_RECORD_SALES_FEEDBACK)
        async def record_sales_feedback(inp: SalesFeedbackInput) -> None:
            rec.feedback.append(inp)

        @activity.defn(name=temporal_names.ACTIVITY_END_JOURNEY)
        async def end_journey(inp: JourneyEndInput) -> None:
            rec.ends.append(inp)

        @activity.defn(name=temporal_names.ACTIVITY_RECORD_BROADCAST_OUTCOME)
        async def record_broadcast_outcome(inp: BroadcastOutcomeInput) -> None:
            rec.broadcast_outcomes.append(inp)

        @activity.defn(name=temporal_names.ACTIVITY_DROP_BROADCAST)
        async def drop_broadcast(inp: SendDropInput) -> SendDropResult:
            result = await send_drop(inp)
            learnt = sent_offer_outcome(result, inp.item_id)
            if learnt is not None and inp.broadcast_id is not None:
                outcome, reason = learnt
                rec.broadcast_outcomes.append(
                    BroadcastOutcomeInput(inp.broadcast_id, inp.workflow_id, inp.contact_id, outcome, reason, inp.now)
                )
            return result

        return [
            send_drop,
            drop_broadcast,
            score_contact,
            hand_off_to_sales,
            create_call_task,
            close_call_task,
            record_sales_feedback,
            end_journey,
            record_broadcast_outcome,
        ]


def local(dt: datetime, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(tz))
