"""`nurture journeys`: list journeys from Temporal visibility, filtered by journey, stage, phase and lead score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import WorkflowExecutionStatus

from nurture import keys
from nurture.cli import app
from nurture.cli.common import console, run_and_exit, settings_for_cli, when
from nurture.context import app_context


@dataclass(frozen=True)
class _Filter:
    journey: str | None
    stage: str | None
    phase: str | None
    min_score: float | None
    running: bool

    def query(self) -> str:
        parts = [f"WorkflowType = '{keys.JOURNEY_WORKFLOW}'"]
        if self.running or self.phase is not None:  # a phase is a running journey's; ended ones keep their last
            parts.append("ExecutionStatus = 'Running'")
        for key, value in ((keys.SA_JOURNEY, self.journey), (keys.SA_STAGE, self.stage), (keys.SA_PHASE, self.phase)):
            if value is not None:
                if "'" in value:
                    raise typer.BadParameter(f"invalid value {value!r}")
                parts.append(f"{key.name} = '{value}'")
        if self.min_score is not None:
            parts.append(f"{keys.SA_LEAD_SCORE.name} >= {float(self.min_score)}")
        return " AND ".join(parts)


@app.command()
def journeys(
    journey: Annotated[str | None, typer.Option(help="Journey key")] = None,
    stage: Annotated[str | None, typer.Option(help="awareness | consideration | decision")] = None,
    phase: Annotated[str | None, typer.Option(help="nurturing | with_sales | cooling_down")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lead score at least")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include ended journeys")] = False,
    limit: int = 50,
) -> None:
    """List journeys from Temporal visibility, filtered by journey, stage, phase and lead score."""
    settings = settings_for_cli()
    flt = _Filter(journey, stage, phase, min_score, running=not all_)
    run_and_exit(_list(settings, flt, limit))


async def _list(settings: Any, flt: _Filter, limit: int) -> int:
    async with app_context(settings) as ctx:
        query = flt.query()
        table = Table(title=f"journeys where {query}")
        for column in ("contact", "journey", "phase", "stage", "score", "drops", "next drop", "status"):
            table.add_column(column)
        count = 0
        async for wf in ctx.client.list_workflows(query, limit=limit):
            sa = wf.typed_search_attributes
            running = wf.status == WorkflowExecutionStatus.RUNNING
            table.add_row(
                str(sa.get(keys.SA_CONTACT) or "-"),
                str(sa.get(keys.SA_JOURNEY) or "-"),
                str(sa.get(keys.SA_PHASE) or "-") if running else "ended",  # an ended one keeps its last phase
                str(sa.get(keys.SA_STAGE) or "-"),
                f"{sa.get(keys.SA_LEAD_SCORE) or 0:.1f}",
                str(sa.get(keys.SA_DROPS_SENT) or 0),
                when(sa.get(keys.SA_NEXT_DROP_AT)) if running else "-",
                wf.status.name.lower() if wf.status else "?",
            )
            count += 1
        console.print(table)
        console.print(f"{count} journey(s)")
    return 0
