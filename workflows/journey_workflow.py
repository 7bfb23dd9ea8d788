"""JourneyWorkflow: one contact's journey. Signals feed it, a query shows it, the storyboard drives it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import definitions  # noqa: F401  (registers every shipped journey)
    from nurture import keys
    from workflows import dsl
    from workflows.payloads import (
        BroadcastNotice,
        EngagementEvent,
        ExitRequest,
        JourneyEndInput,
        JourneyInput,
        JourneyResult,
        JourneyStatus,
        PageView,
        SalesFeedback,
    )
    from workflows.runtime import QUICK_RETRY, JourneyEnded, JourneyRuntime


@workflow.defn(name=keys.JOURNEY_WORKFLOW)
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
        rt.publish(flush=False)
        try:
            await rt.spec.storyboard(rt)
            outcome = "completed"
        except JourneyEnded as ended:
            outcome = ended.outcome
        rt.c.phase = keys.PHASE_ENDED  # one word for every ended journey; the outcome says how
        rt.step = f"ended: {outcome}"
        rt._decide(f"journey ended: {outcome}", rt.c.last_why if outcome == "customer" else outcome)
        rt.publish(flush=True, closing=True)
        if workflow.patched(keys.PATCH_PHASE_ENDED):  # histories from before the patch replay without it
            workflow.upsert_search_attributes(
                [keys.SA_PHASE.value_set(keys.PHASE_ENDED), keys.SA_NEXT_DROP_AT.value_unset()]
            )
        await rt.settle_broadcasts(outcome)
        # One idempotent row update: a local activity, so ending costs no extra round trip through the server.
        await workflow.execute_local_activity(
            keys.ACTIVITY_END_JOURNEY,
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
            drops_sent=rt.c.drops_sent,
            items=list(rt.c.sent_items),
        )

    @workflow.signal(name=keys.SIGNAL_ENGAGEMENT)
    def record_engagement(self, event: EngagementEvent) -> None:
        self._rt.on_engagement(event)

    @workflow.signal(name=keys.SIGNAL_PAGE_VIEW)
    def record_page_view(self, view: PageView) -> None:
        self._rt.on_page_view(view)

    @workflow.signal(name=keys.SIGNAL_BROADCAST)
    def receive_broadcast(self, notice: BroadcastNotice) -> None:
        self._rt.on_broadcast(notice)

    @workflow.signal(name=keys.SIGNAL_EXIT)
    def exit_journey(self, request: ExitRequest) -> None:
        self._rt.on_exit(request)

    @workflow.signal(name=keys.SIGNAL_SALES_FEEDBACK)
    def receive_sales_feedback(self, feedback: SalesFeedback) -> None:
        self._rt.on_sales_feedback(feedback)

    @workflow.query(name=keys.QUERY_STATUS)
    def status(self) -> JourneyStatus:
        return self._rt.status()
