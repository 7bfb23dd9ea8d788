"""`nurture status`: where a contact is in each journey, from the journey's own status query."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import Client
from temporalio.service import RPCError

from nurture import keys
from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli, ui_link, when
from nurture.context import app_context
from workflows.payloads import JourneyStatus


@app.command()
def status(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    journey: Annotated[str | None, typer.Option(help="Only this journey")] = None,
) -> None:
    """Where a contact is in each journey: step, stage, lead score, next wake-up, drops, last decision and why."""
    settings = settings_for_cli()
    run_and_exit(_status(settings, contact_id, journey))


async def _status(settings: Any, contact_id: int, journey: str | None) -> int:
    async with app_context(settings) as ctx:
        keys_ = [journey] if journey else await _journeys_of(ctx.client, contact_id)
        if not keys_:
            err_console.print(f"[yellow]contact {contact_id} has no journeys[/yellow]")
            return 1
        for key in keys_:
            workflow_id = keys.journey_workflow_id(key, contact_id)
            handle = ctx.client.get_workflow_handle(workflow_id)
            try:
                st: JourneyStatus = await handle.query(keys.QUERY_STATUS, result_type=JourneyStatus)
                described = await handle.describe()
            except RPCError as err:
                err_console.print(f"[yellow]{workflow_id}: {err.message}[/yellow]")
                continue
            console.print(_status_table(st, workflow_id, described.status.name if described.status else "?"))
            console.print(f"  UI: {ui_link(settings, workflow_id)}\n")
    return 0


async def _journeys_of(client: Client, contact_id: int) -> list[str]:
    query = f"{keys.SA_CONTACT.name} = '{contact_id}' AND WorkflowType = '{keys.JOURNEY_WORKFLOW}'"
    found: list[str] = []
    async for wf in client.list_workflows(query):
        value = wf.typed_search_attributes.get(keys.SA_JOURNEY)
        if value and value not in found:
            found.append(value)
    return found


def _status_table(st: JourneyStatus, workflow_id: str, execution: str) -> Table:
    table = Table(title=f"{st.journey} · contact {st.contact_id} · {execution.lower()}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("workflow id", workflow_id),
        ("phase", st.phase),
        ("step", st.step),
        ("stage", st.stage),
        ("lead score", f"{st.lead_score:.1f}"),
        ("next wake-up", when(st.next_wake_at)),
        ("drops sent", f"{st.drops_sent}: {', '.join(st.items_sent) or '-'}"),
        ("last decision", st.last_decision or "-"),
        ("why", st.why or "-"),
        ("broadcasts", f"{len(st.handled_broadcasts)} handled, {st.pending_broadcasts} pending"),
        ("signals heard", str(st.signals_received)),
        ("run", str(st.run)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
