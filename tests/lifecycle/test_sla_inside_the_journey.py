"""The handoff SLA inside the journey, in simulated time: an ignored handoff escalates at its business-hours
deadline in the owner's zone, is re-routed with a new deadline, and after the second miss is recycled as
"SLA missed"; an answer before the deadline never escalates."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from nurture import temporal_names
from nurture.lifecycle.sla import business_deadline
from tests.workflows.fakes import Recorder
from tests.workflows.scenario import running_worker, start_journey
from workflows.payloads import (
    EscalateInput,
    EscalateResult,
    HandoffInput,
    HandoffResult,
    JourneyStatus,
    PageView,
    SalesFeedback,
)

B2B = {"persona": "finance-lead", "time_zone": "Europe/Berlin", "topics": ["compliance"]}
ZONE = "America/New_York"  # the owners' zone: the deadline follows their business hours, not the contact's


@dataclass
class SlaRecorder(Recorder):
    escalations: list[EscalateInput] = field(default_factory=list)

    def activities(self) -> list[object]:
        rec = self
        fakes = {getattr(a, "__name__", ""): a for a in super().activities()}

        @activity.defn(name=temporal_names.ACTIVITY_HAND_OFF)
        async def hand_off_to_sales(inp: HandoffInput) -> HandoffResult:
            rec.handoffs.append(inp)
            return HandoffResult(len(rec.handoffs), True, sla_deadline=business_deadline(inp.now, ZONE))

        @activity.defn(name=temporal_names.ACTIVITY_ESCALATE_HANDOFF)
        async def escalate_handoff(inp: EscalateInput) -> EscalateResult:
            rec.escalations.append(inp)
            misses = len(rec.escalations)
            if misses >= 2:
                return EscalateResult(misses, True, None, None, f"SLA missed ({misses}/2): recycling")
            return EscalateResult(misses, False, "bob", business_deadline(inp.now, ZONE), "re-routed to bob")

        fakes.pop("hand_off_to_sales")
        return [*fakes.values(), hand_off_to_sales, escalate_handoff]


async def _hand_off(env: WorkflowEnvironment, handle: object, rec: SlaRecorder) -> None:
    await env.sleep(timedelta(days=3))
    now = await env.get_current_time()
    await handle.signal(temporal_names.SIGNAL_PAGE_VIEW, PageView("pv-1", "https://x.example/pricing", now))  # type: ignore[attr-defined]
    await env.sleep(timedelta(minutes=30))
    assert len(rec.handoffs) == 1


async def test_an_ignored_handoff_escalates_twice_on_business_hours_then_recycles(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, SlaRecorder(scores=[60.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 401, **B2B)
        await _hand_off(env, handle, rec)
        await env.sleep(timedelta(days=5))
        status: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
    first = business_deadline(rec.handoffs[0].now, ZONE)
    second = business_deadline(first, ZONE)
    on_time = timedelta(seconds=1)  # timers fire a few milliseconds after their deadline
    assert [e.now - d < on_time for e, d in zip(rec.escalations, (first, second), strict=True)] == [True, True]
    assert all(e.now >= d for e, d in zip(rec.escalations, (first, second), strict=True))
    [feedback] = rec.feedback
    assert (feedback.accepted, feedback.reason) == (None, "SLA missed") and feedback.now - second < on_time
    assert status.phase == "cooling_down" and status.why == "SLA missed"


async def test_an_answer_before_the_deadline_never_escalates(
    time_skipping_env: WorkflowEnvironment, task_queue: str, sqlite_engine: Engine
) -> None:
    env, rec = time_skipping_env, SlaRecorder(scores=[60.0])
    async with running_worker(env, task_queue, sqlite_engine, rec):
        handle = await start_journey(env, task_queue, "b2b_drip", 402, **B2B)
        await _hand_off(env, handle, rec)
        await handle.signal(
            temporal_names.SIGNAL_SALES_FEEDBACK, replace(SalesFeedback(True, "call booked"), handoff_id=1)
        )
        result = await handle.result()
    assert result.outcome == "customer" and rec.escalations == []
