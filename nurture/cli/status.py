"""`nurture status`: where a contact is in each journey.

A running journey answers its own status query. An ended one is shown from Temporal's record of its run (no query:
a closed run would have to be replayed by a worker, which may not know its journey): phase `ended` and its
outcome, which is the journey's own (completed, customer, unsubscribed, ...) or `failed` / `terminated` with the
reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import HistoryEventFilterType
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import TerminatedError
from temporalio.service import RPCError

from nurture import search_attributes, temporal_names, workflow_ids
from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli, ui_link, when
from nurture.cli.tables import CliTable
from nurture.clock import utcnow
from nurture.context import app_context
from nurture.lifecycle.status import LifecycleSummary, lifecycle_summary
from workflows.payloads import JourneyResult, JourneyStatus


@dataclass(frozen=True)
class Ended:
    """How a closed run ended: its outcome word and, for a run that did not finish its journey, why; for one that
    returned, its last stage, score and drops (its search attributes may be those of its last wait)."""

    outcome: str
    reason: str = ""
    result: JourneyResult | None = None


@app.command()
def status(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    journey: Annotated[str | None, typer.Option(help="Only this journey")] = None,
) -> None:
    """Where a contact is in each journey: phase, step, stage, lead score, next wake-up, drops, last decision."""
    settings = settings_for_cli()
    run_and_exit(_status(settings, contact_id, journey))


async def _status(settings: Any, contact_id: int, journey: str | None) -> int:
    async with app_context(settings) as ctx:
        summary = lifecycle_summary(ctx.engine, contact_id, utcnow())
        if summary is not None:
            console.print(lifecycle_table(contact_id, summary).render())
            console.print(stage_history_table(contact_id, summary).render())
        keys_ = [journey] if journey else await _journeys_of(ctx.client, contact_id)
        if not keys_:
            err_console.print(f"[yellow]contact {contact_id} has no journeys[/yellow]")
            return 1
        for key in keys_:
            workflow_id = workflow_ids.journey_workflow_id(key, contact_id)
            handle = ctx.client.get_workflow_handle(workflow_id)
            try:
                described = await handle.describe()
                if described.status == WorkflowExecutionStatus.RUNNING:
                    st: JourneyStatus = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
                    table = running_table(st, workflow_id)
                else:
                    table = ended_table(described, await how_it_ended(ctx.client, workflow_id, described), key)
            except RPCError as err:
                err_console.print(f"[yellow]{workflow_id}: {err.message}[/yellow]")
                continue
            console.print(table.render())
            console.print(f"  UI: {ui_link(settings, workflow_id)}\n", soft_wrap=True)
    return 0


async def _journeys_of(client: Client, contact_id: int) -> list[str]:
    query = (
        f"{search_attributes.SA_CONTACT.name} = '{contact_id}' AND WorkflowType = '{temporal_names.JOURNEY_WORKFLOW}'"
    )
    found: list[str] = []
    async for wf in client.list_workflows(query):
        value = wf.typed_search_attributes.get(search_attributes.SA_JOURNEY)
        if value and value not in found:
            found.append(value)
    return found


async def how_it_ended(client: Client, workflow_id: str, described: WorkflowExecutionDescription) -> Ended:
    handle = client.get_workflow_handle(workflow_id, run_id=described.run_id, result_type=JourneyResult)
    try:
        result = await handle.result(follow_runs=False)
    except WorkflowFailureError as err:
        cause = err.cause
        if isinstance(cause, TerminatedError):
            return Ended("terminated", await _termination_reason(client, described) or cause.message)
        return Ended(_word(described), str(cause or err))
    return Ended(result.outcome, result=result)


async def _termination_reason(client: Client, described: WorkflowExecutionDescription) -> str:
    """The reason given to `terminate` (only the run's close event has it)."""
    request = GetWorkflowExecutionHistoryRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=described.id, run_id=described.run_id),
        history_event_filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    )
    events = (await client.workflow_service.get_workflow_execution_history(request)).history.events
    if not events or not events[-1].HasField("workflow_execution_terminated_event_attributes"):
        return ""
    return str(events[-1].workflow_execution_terminated_event_attributes.reason)


def _word(described: WorkflowExecutionDescription) -> str:
    return described.status.name.lower() if described.status else "ended"


def _fields(title: str) -> CliTable:
    """A two-column table (field, value); values fold rather than end in an ellipsis, so ids stay whole."""
    return CliTable("field", "value", ids=("field",), title=title, show_header=False)


def lifecycle_table(contact_id: int, summary: LifecycleSummary) -> CliTable:
    """Where the contact stands in its life (from the database, whatever its journeys): stage, grade, owner, rank."""
    table = _fields(f"lifecycle · contact {contact_id}")
    days = summary.time_in_stage.total_seconds() / 86400
    for name, value in (
        ("lifecycle stage", f"{summary.label} ({summary.stage})"),
        ("time in stage", f"{days:.1f} days, since {when(summary.entered_at)}"),
        ("fit grade", summary.grade),
        ("owner", summary.owner or "none"),
        ("rank", summary.readiness or "-"),
    ):
        table.add_row(name, value)
    return table


def stage_history_table(contact_id: int, summary: LifecycleSummary) -> CliTable:
    """Every stage change of the contact, oldest first: when, from -> to, why, and who moved it."""
    table = CliTable("when", "from", "to", "why", "actor", title=f"stage history · contact {contact_id}")
    for h in summary.history:
        table.add_row(when(h.at), h.from_stage or "-", h.to_stage, h.why or "-", f"{h.actor_kind}:{h.actor_id}")
    return table


def running_table(st: JourneyStatus, workflow_id: str) -> CliTable:
    table = _fields(f"{st.journey} · contact {st.contact_id}")
    for name, value in (
        ("workflow id", workflow_id),
        ("phase", f"{st.phase}, paused by an operator" if st.paused else st.phase),
        ("step", st.step),
        ("stage", st.stage),
        ("lead score", f"{st.lead_score:.1f}"),
        ("next wake-up", when(st.next_wake_at)),
        ("drops sent", f"{st.drops_sent}: {', '.join(st.items_sent) or '-'}"),
        ("last decision", st.last_decision or "-"),
        ("why", st.why or "-"),
        ("broadcasts", f"{len(st.handled_broadcasts)} handled, {st.pending_broadcasts} pending"),
        ("signals heard", str(st.signals_received)),
        ("experiments", ", ".join(f"{k}: {v}" for k, v in sorted(st.variants.items())) or "-"),
        ("run", str(st.run)),
    ):
        table.add_row(name, value)
    return table


def ended_table(described: WorkflowExecutionDescription, ended: Ended, journey: str) -> CliTable:
    sa = described.typed_search_attributes
    contact = sa.get(search_attributes.SA_CONTACT) or "?"
    table = _fields(f"{journey} · contact {contact}")
    rows = [
        ("workflow id", described.id),
        ("phase", search_attributes.PHASE_ENDED),
        ("outcome", ended.outcome),
        *([("reason", ended.reason)] if ended.reason else []),
        ("ended at", when(described.close_time)),
        *last_state(sa, ended.result),
    ]
    if ended.outcome in ("failed", "terminated", "timed_out", "canceled"):
        rows.append(("next", f"nurture enroll --journey {journey} enrolls the contact again"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def last_state(sa: TypedSearchAttributes, result: JourneyResult | None) -> list[tuple[str, str]]:
    """Stage, score and drops at the end: from the result where it has them (journeys from runtime version 4 on
    do not upsert at the end), else the search attributes (older journeys upserted them as they ended)."""
    stage = result.stage if result and result.stage is not None else sa.get(search_attributes.SA_STAGE)
    score = result.lead_score if result and result.lead_score is not None else sa.get(search_attributes.SA_LEAD_SCORE)
    drops = result.drops_sent if result else sa.get(search_attributes.SA_DROPS_SENT)
    return [("stage", str(stage or "-")), ("lead score", f"{score or 0:.1f}"), ("drops sent", str(drops or 0))]
