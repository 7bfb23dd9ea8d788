"""JourneyWorkflow: one contact's journey. Signals feed it, a query shows it, the storyboard drives it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from nurture import temporal_names
    from workflows import dsl
    from workflows.ending import JourneyEnded
    from workflows.payloads import (
        BroadcastNotice,
        EngagementEvent,
        ExitRequest,
        JourneyEndInput,
        JourneyInput,
        JourneyResult,
        JourneyStatus,
        PageView,
        PauseRequest,
        PreferenceChange,
        SalesFeedback,
    )
    from workflows.retry import QUICK_RETRY
    from workflows.runtime import JourneyRuntime
    from workflows.task_payloads import CallOutcomeReport


# Outside the sandbox: every module a journey runs is passed through it anyway (workers.journey_worker), so the
# sandbox guarded nothing of ours and cost each cached journey its own restricted environment (about 35 KB, half
# of a journey's memory; bench/worker_memory.py) and CPU per activation. Determinism is held instead by the saved
# history replay tests, `workflow.now()`/`workflow.random()`, and the import rules that keep I/O out of
# `workflows/` and `definitions/` (tests/test_imports_point_down.py).
@workflow.defn(name=temporal_names.JOURNEY_WORKFLOW, sandboxed=False)
class JourneyWorkflow:
    """Runs the storyboard registered under `input.journey` for `input.contact_id`."""

    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        spec = dsl.REGISTRY.get(input.journey)
        if spec is None:  # fails this run at once (never a stuck workflow task); `nurture enroll` can start it again
            raise ApplicationError(
                f"journey {input.journey!r} is not loaded by this worker (known: {', '.join(sorted(dsl.REGISTRY))});"
                " restart the worker after adding a journey, then enroll again",
                type="UnknownJourney",
                non_retryable=True,
            )
        self._rt = JourneyRuntime(input, spec)

    @workflow.run
    async def run(self, input: JourneyInput) -> JourneyResult:
        rt = self._rt
        rt.shown.publish(flush=False)
        try:
            rt.begin()
            await rt.spec.storyboard(rt)
            outcome = rt.outcome_of_return()
        except JourneyEnded as ended:
            outcome = ended.outcome
        await rt.close(outcome)
        # One idempotent row update: a local activity, so ending costs no extra round trip through the server.
        await workflow.execute_local_activity(
            temporal_names.ACTIVITY_END_JOURNEY,
            JourneyEndInput(
                contact_id=input.contact_id,
                journey=input.journey,
                workflow_id=workflow.info().workflow_id,
                outcome=outcome,
                now=workflow.now(),
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=QUICK_RETRY,
            summary=f"end journey for contact {input.contact_id}: {outcome}",
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return JourneyResult(
            journey=input.journey,
            contact_id=input.contact_id,
            outcome=outcome,
            drops_sent=rt.carry.drops_sent,
            items=list(rt.carry.sent_items),
            items_refused=list(rt.carry.refused_items),
            stage=rt.carry.stage,
            lead_score=round(rt.carry.score, 2),
        )

    @workflow.signal(name=temporal_names.SIGNAL_ENGAGEMENT)
    def record_engagement(self, event: EngagementEvent) -> None:
        self._rt.inbox.on_engagement(event)

    @workflow.signal(name=temporal_names.SIGNAL_PAGE_VIEW)
    def record_page_view(self, view: PageView) -> None:
        self._rt.inbox.on_page_view(view)

    @workflow.signal(name=temporal_names.SIGNAL_BROADCAST)
    def receive_broadcast(self, notice: BroadcastNotice) -> None:
        self._rt.inbox.on_broadcast(notice)

    @workflow.signal(name=temporal_names.SIGNAL_EXIT)
    def exit_journey(self, request: ExitRequest) -> None:
        self._rt.inbox.on_exit(request)

    @workflow.signal(name=temporal_names.SIGNAL_PAUSE_JOURNEY)
    def pause_journey(self, request: PauseRequest) -> None:
        self._rt.inbox.on_pause(True)

    @workflow.signal(name=temporal_names.SIGNAL_RESUME_JOURNEY)
    def resume_journey(self, request: PauseRequest) -> None:
        self._rt.inbox.on_pause(False)

    @workflow.signal(name=temporal_names.SIGNAL_PREFERENCES)
    def update_preferences(self, change: PreferenceChange) -> None:
        self._rt.inbox.on_preferences(change)

    @workflow.signal(name=temporal_names.SIGNAL_SALES_FEEDBACK)
    def receive_sales_feedback(self, feedback: SalesFeedback) -> None:
        self._rt.inbox.on_sales_feedback(feedback)

    @workflow.signal(name=temporal_names.SIGNAL_CALL_OUTCOME)
    def record_call_outcome(self, report: CallOutcomeReport) -> None:
        self._rt.calls.on_outcome(report)

    @workflow.query(name=temporal_names.QUERY_STATUS)
    def status(self) -> JourneyStatus:
        return self._rt.status()
