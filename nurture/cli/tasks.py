"""`nurture tasks outcome ID OUTCOME [--note ...]`: record how a call task went (as the CRM's `POST` would)."""

from __future__ import annotations

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.clock import utcnow
from nurture.context import open_engine
from nurture.inbound.call_tasks import record_outcome
from nurture.lifecycle.call_tasks import OutcomeRefusedError, UnknownCallTaskError

tasks_app = typer.Typer(help="Call tasks journeys ask reps for.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")


@tasks_app.command("outcome")
def outcome(
    task_id: int = typer.Argument(..., help="The call task"),
    word: str = typer.Argument(..., metavar="OUTCOME", help="reached_interested | reached_not_now | no_answer"),
    note: str = typer.Option("", "--note", help="what the rep wants marketing to know"),
) -> None:
    """Record a call's outcome; the waiting journey hears it through the outbox."""
    engine = open_engine(settings_for_cli())
    try:
        with engine.begin() as conn:
            taken = record_outcome(conn, task_id, word, note, utcnow())
    except ValueError as err:  # an unknown outcome word, or refused (another outcome, or timed out)
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1 if isinstance(err, OutcomeRefusedError) else 2) from err
    except UnknownCallTaskError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    said = "queued for the journey" if taken.new else "recorded before; nothing new"
    console.print(f"call task {task_id}: {taken.outcome.value} ({said})")
