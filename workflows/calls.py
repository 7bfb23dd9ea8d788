"""Call tasks inside a journey: ask a person to phone the contact, then wait for how it went (or the timeout).

Two journal steps, like a handoff: "call" creates the task (an idempotent activity; its id kept in the carry),
"callwait" waits for the outcome signal naming that task. At the timeout the task is closed conditionally: an
outcome the rep recorded as the wait ended wins over "timed out".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.ending import check_exit
    from workflows.payloads import JournalEntry, JourneyCarry, JourneyInput
    from workflows.retry import HEARTBEAT_TIMEOUT, QUICK_RETRY, SEND_RETRY
    from workflows.task_payloads import CallOutcomeReport, CallTaskInput, CallTaskResult, CloseCallTaskInput
    from workflows.timers import Tend, Timers
    from workflows.visibility import Visibility, human


class Calls:
    def __init__(
        self, inp: JourneyInput, spec: dsl.JourneySpec, carry: JourneyCarry, shown: Visibility, timers: Timers,
        tend: Tend,
    ) -> None:  # fmt: skip
        self._inp, self._spec, self._carry = inp, spec, carry
        self._shown, self._timers, self._tend = shown, timers, tend

    def on_outcome(self, report: CallOutcomeReport) -> None:
        """Signal handler: keep the first outcome heard per task."""
        self._carry.call_outcomes.setdefault(str(report.task_id), report.outcome)

    async def ask(self, why: str) -> str:
        carry = self._carry
        check_exit(carry)
        self._shown.step = "asking for a call"
        self._shown.publish(flush=True)
        carry.call_tasks += 1
        result: CallTaskResult = await workflow.execute_activity(
            temporal_names.ACTIVITY_CREATE_CALL_TASK,
            CallTaskInput(
                self._inp.contact_id,
                self._spec.key,
                workflow.info().workflow_id,
                carry.call_tasks,
                why,
                carry.score,
                workflow.now(),
            ),
            result_type=CallTaskResult,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            retry_policy=SEND_RETRY,
            summary=f"ask for a call to contact {self._inp.contact_id}",
        )
        carry.call_task_id = result.task_id
        self._shown.decide("asked for a call", why)
        return str(result.task_id)

    async def wait(self, entry: JournalEntry, timeout: timedelta) -> str:
        carry = self._carry
        key = str(carry.call_task_id)
        if entry.wake_at is None:
            entry.wake_at = workflow.now() + self._timers.scaled(timeout)
        while key not in carry.call_outcomes:
            await self._tend(entry)
            if workflow.now() >= entry.wake_at:
                break
            await self._timers.nap(entry.wake_at, "waiting for the call's outcome", lambda: key in carry.call_outcomes)
        self._timers.end_nap()
        heard = carry.call_outcomes.get(key)
        if heard is None:
            stored: str = await workflow.execute_activity(
                temporal_names.ACTIVITY_CLOSE_CALL_TASK,
                CloseCallTaskInput(carry.call_task_id or 0, workflow.now()),
                result_type=str,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=QUICK_RETRY,
                summary=f"close the call task of contact {self._inp.contact_id}",
            )
            heard = stored  # timed_out, or the outcome that reached the row first
        outcome = dsl.CallOutcome(heard)
        why = f"no outcome within {human(timeout)}" if outcome is dsl.CallOutcome.TIMED_OUT else "recorded by a rep"
        self._shown.decide(f"call: {outcome.value}", why)
        return outcome.value
