"""Readiness and sales: score the contact against the threshold, hand off, wait for the verdict, cool down."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.ending import check_exit
    from workflows.metrics import count_handoff
    from workflows.payloads import (
        EscalateInput,
        EscalateResult,
        HandoffInput,
        HandoffResult,
        JournalEntry,
        JourneyCarry,
        JourneyInput,
        SalesFeedback,
        SalesFeedbackInput,
        ScoreInput,
        ScoreResult,
    )
    from workflows.retry import HEARTBEAT_TIMEOUT, QUICK_RETRY, SEND_RETRY
    from workflows.runtime_version import runtime_change
    from workflows.step_results import encode_answer
    from workflows.timers import Tend, Timers
    from workflows.visibility import Visibility, human


# Patches (workflow.patched) for readiness and handoffs: a history recorded before one replays without it.
PATCH_FIT_READINESS = "readiness-fit-and-behaviour"  # ready() grades the contact and applies the MQL rule
PATCH_HANDOFF_SLA = "handoff-sla"  # a handoff starts the journey's SLA clock


class Sales:
    def __init__(
        self,
        inp: JourneyInput,
        spec: dsl.JourneySpec,
        carry: JourneyCarry,
        shown: Visibility,
        timers: Timers,
        tend: Tend,
    ) -> None:
        self._inp = inp
        self._spec = spec
        self._carry = carry
        self._shown = shown
        self._timers = timers
        self._tend = tend

    async def ready(self, why: str) -> str:
        """Score the contact: "1" when the score reaches the journey's threshold, else "0"."""
        carry, spec = self._carry, self._spec
        check_exit(carry)
        self._shown.step = "checking readiness"
        self._shown.publish(flush=True)
        # Scoring is a short read of the contact's events: a local activity, run by this worker inside the
        # workflow task, costs no activity task round trip through the server.
        result: ScoreResult = await workflow.execute_local_activity(
            temporal_names.ACTIVITY_SCORE_CONTACT,
            ScoreInput(
                self._inp.contact_id,
                spec.key,
                workflow.now(),
                fit=runtime_change(self._inp, PATCH_FIT_READINESS, since=3),
            ),
            result_type=ScoreResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"score contact {self._inp.contact_id}",
        )
        carry.score = result.score
        carry.grade = result.grade
        carry.stage = spec.stage_for(result.score)
        if result.ready is not None:  # the journey's MQL rule over fit and behaviour decided, and says why
            ok, because = result.ready, result.ready_why
        else:
            ok, because = result.score >= spec.threshold, f"{result.explain()} vs threshold {spec.threshold:g}"
        verdict = "ready for sales" if ok else "not ready yet"
        self._shown.decide(verdict, because + (f"; {why}" if why else ""))
        return "1" if ok else "0"

    async def hand_off(self, why: str) -> str:
        """Create the handoff (CRM task); its id."""
        carry = self._carry
        check_exit(carry)
        self._shown.step = "handing off to sales"
        self._shown.publish(flush=True)
        carry.handoffs += 1
        reason = why or carry.last_why  # no reason given: the readiness check's own explanation
        # Feedback left over from an earlier handoff is stale; feedback that arrives while this handoff is
        # in flight (a rep can answer in the CRM before the activity returns) belongs to this one and is kept.
        carry.sales_feedback.clear()
        result: HandoffResult = await workflow.execute_activity(
            temporal_names.ACTIVITY_HAND_OFF,
            HandoffInput(
                contact_id=self._inp.contact_id,
                journey=self._spec.key,
                workflow_id=workflow.info().workflow_id,
                attempt=carry.handoffs,
                score=carry.score,
                reason=reason,
                now=workflow.now(),
                sla=runtime_change(self._inp, PATCH_HANDOFF_SLA, since=3),
            ),
            result_type=HandoffResult,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=SEND_RETRY,
            summary=f"hand contact {self._inp.contact_id} to sales",
        )
        count_handoff(self._spec.key)
        carry.handoff_id = result.handoff_id
        carry.sla_deadline = result.sla_deadline
        if result.lifecycle_stage is not None:
            self._shown.show_lifecycle_stage(result.lifecycle_stage)
        carry.phase = "with_sales"
        carry.sales_feedback[:] = [
            f for f in carry.sales_feedback if f.handoff_id is None or f.handoff_id == result.handoff_id
        ]
        self._shown.decide("handed to sales", reason or f"score {carry.score:.1f} >= {self._spec.threshold:g}")
        return str(result.handoff_id)

    async def feedback(self, entry: JournalEntry) -> str:
        """Wait for the verdict (or the timeout) and record it; the journal encoding of a `dsl.SalesAnswer`."""
        carry = self._carry
        timeout = self._spec.sales_feedback_timeout
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._timers.scaled(timeout)
        sla_missed = False
        while not self._answers():
            await self._tend(entry)
            if workflow.now() >= entry.wake_at:
                break
            sla = carry.sla_deadline
            if sla is not None and workflow.now() >= sla:  # only journeys with an SLA ever get here
                sla_missed = await self._escalate()
                if sla_missed:
                    break
                continue
            until = entry.wake_at if sla is None else min(entry.wake_at, sla)
            await self._timers.nap(until, "waiting for sales feedback", lambda: bool(self._answers()))
        self._timers.end_nap()
        carry.sla_deadline = None
        answers = self._answers()
        feedback = answers[0] if answers else None
        if feedback is not None:
            carry.sales_feedback.remove(feedback)
        accepted = None if feedback is None else feedback.accepted
        reason = feedback.reason if feedback else f"no feedback from sales within {human(timeout)}"
        if feedback is None and sla_missed:
            reason = "SLA missed"
        stored = await workflow.execute_activity(
            temporal_names.ACTIVITY_RECORD_SALES_FEEDBACK,
            SalesFeedbackInput(carry.handoff_id or 0, accepted, reason, workflow.now()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"record sales feedback for contact {self._inp.contact_id}",
        )
        if feedback is None and isinstance(stored, dict) and stored.get("verdict") in ("accepted", "rejected"):
            # The CRM's verdict reached the handoff row as the wait ended (its signal still on the way): it wins.
            feedback = SalesFeedback(stored["verdict"] == "accepted", str(stored.get("reason") or ""))
            accepted, reason = feedback.accepted, feedback.reason
        if accepted:
            carry.phase = "customer"
            self._shown.decide("accepted by sales", reason or "accepted")
            return encode_answer(dsl.SalesAnswer(dsl.Verdict.ACCEPTED, reason))
        carry.rejection_reason = reason or "rejected without a reason"
        self._shown.decide("recycled into nurture", carry.rejection_reason)
        verdict = dsl.Verdict.REJECTED if feedback else dsl.Verdict.NO_ANSWER
        return encode_answer(dsl.SalesAnswer(verdict, carry.rejection_reason))

    async def _escalate(self) -> bool:
        """The SLA passed unanswered: escalate and re-route (a new deadline), or say it is time to recycle."""
        carry = self._carry
        result: EscalateResult = await workflow.execute_activity(
            temporal_names.ACTIVITY_ESCALATE_HANDOFF,
            EscalateInput(carry.handoff_id or 0, self._inp.contact_id, self._spec.key, workflow.now()),
            result_type=EscalateResult,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=SEND_RETRY,
            summary=f"escalate the handoff of contact {self._inp.contact_id}",
        )
        carry.sla_deadline = result.sla_deadline
        self._shown.decide("SLA missed: escalated", result.why)
        return result.recycle or result.sla_deadline is None

    def _answers(self) -> list[SalesFeedback]:
        """Feedback for the current handoff (an answer naming an earlier one is late, and never counts)."""
        current = self._carry.handoff_id
        return [f for f in self._carry.sales_feedback if f.handoff_id is None or f.handoff_id == current]

    async def cool_down(self, entry: JournalEntry) -> None:
        self._carry.phase = "cooling_down"
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._timers.scaled(self._spec.cooldown_after_rejection)
        await self._timers.sleep_until(entry, "cooling down after sales feedback")
        self._carry.phase = "nurturing"
