"""`nurture journeys`: list journeys from Temporal visibility, filtered by journey, stage, phase and lead score.

`journeys` is a group: bare, it lists; `journeys pause|resume|end|continue` are bulk control (`nurture.cli.bulk`).

Filters are checked like a broadcast audience's (`nurture.filters`): an unknown stage is refused, not an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from nurture import filters, search_attributes, temporal_names
from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli, when
from nurture.cli.tables import CliTable
from nurture.context import app_context

HEADERS = ("contact", "journey", "phase", "stage", "score", "drops", "next drop", "run")


@dataclass(frozen=True)
class JourneyFilter:
    journey: str | None
    stage: str | None
    phase: str | None
    min_score: float | None
    running: bool
    lifecycle: str | None = None  # the contact's lifecycle stage as its journey last moved it

    def check(self) -> None:
        """Raises `filters.InvalidFilterError` for a journey, stage or phase nurture does not know."""
        filters.check_journeys([self.journey] if self.journey else [])
        filters.check_stages([self.stage] if self.stage else [])
        filters.check_phases([self.phase] if self.phase else [], ended=True)
        filters.check_lifecycle_stages([self.lifecycle] if self.lifecycle else [])

    def query(self) -> str:
        self.check()
        parts = [f"WorkflowType = '{temporal_names.JOURNEY_WORKFLOW}'"]
        if (
            self.phase == search_attributes.PHASE_ENDED
        ):  # journeys that ended before phase 'ended' existed kept their last one
            parts.append("ExecutionStatus != 'Running'")
        elif self.running or self.phase is not None:
            parts.append("ExecutionStatus = 'Running'")
        pairs = (
            (search_attributes.SA_JOURNEY, self.journey),
            (search_attributes.SA_STAGE, self.stage),
            (search_attributes.SA_LIFECYCLE_STAGE, self.lifecycle),
        )
        for key, value in pairs:
            if value is not None:
                parts.append(f"{key.name} = '{value}'")
        if self.phase is not None and self.phase != search_attributes.PHASE_ENDED:
            parts.append(f"{search_attributes.SA_PHASE.name} = '{self.phase}'")
        if self.min_score is not None:
            parts.append(f"{search_attributes.SA_LEAD_SCORE.name} >= {float(self.min_score)}")
        return " AND ".join(parts)


def journey_row(wf: WorkflowExecution) -> tuple[str, ...]:
    """One journey as the listing shows it: an ended one is phase `ended`, whatever its last phase was."""
    sa = wf.typed_search_attributes
    running = wf.status == WorkflowExecutionStatus.RUNNING
    return (
        str(sa.get(search_attributes.SA_CONTACT) or "-"),
        str(sa.get(search_attributes.SA_JOURNEY) or "-"),
        str(sa.get(search_attributes.SA_PHASE) or "-") if running else search_attributes.PHASE_ENDED,
        str(sa.get(search_attributes.SA_STAGE) or "-"),
        f"{sa.get(search_attributes.SA_LEAD_SCORE) or 0:.1f}",
        str(sa.get(search_attributes.SA_DROPS_SENT) or 0),
        when(sa.get(search_attributes.SA_NEXT_DROP_AT)) if running else "-",
        wf.status.name.lower() if wf.status else "?",
    )


journeys_app = typer.Typer(
    name="journeys",
    help="List journeys (bare), or pause, resume or end many at once (`journeys pause --journey K --reason R`).",
)
app.add_typer(journeys_app)


@journeys_app.callback(invoke_without_command=True)
def journeys(
    ctx: typer.Context,
    journey: Annotated[str | None, typer.Option(help="Journey key")] = None,
    stage: Annotated[str | None, typer.Option(help="awareness | consideration | decision")] = None,
    phase: Annotated[str | None, typer.Option(help="nurturing | with_sales | cooling_down | ended")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lead score at least")] = None,
    lifecycle: Annotated[str | None, typer.Option(help="Lifecycle stage: subscriber | lead | mql | sal | ...")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include ended journeys")] = False,
    limit: int = 50,
) -> None:
    """List journeys from Temporal visibility, filtered by journey, stage, phase, lead score, lifecycle stage."""
    if ctx.invoked_subcommand is not None:
        return  # a bulk command: its own options apply
    settings = settings_for_cli()
    flt = JourneyFilter(journey, stage, phase, min_score, running=not all_, lifecycle=lifecycle)
    try:
        flt.check()
    except filters.InvalidFilterError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    run_and_exit(_list(settings, flt, limit))


async def _list(settings: Any, flt: JourneyFilter, limit: int) -> int:
    async with app_context(settings) as ctx:
        query = flt.query()
        table = CliTable(*HEADERS, ids=("contact", "journey"), title=f"journeys where {query}")
        async for wf in ctx.client.list_workflows(query, limit=limit):
            table.add_row(*journey_row(wf))
        console.print(table.render())
        console.print(f"{len(table.rows)} journey(s)")
    return 0
