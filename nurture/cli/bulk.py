"""`nurture journeys pause|resume|end --journey K [--stage S] [--min-score N] --reason R [--preview]`, and
`nurture journeys continue ID`; `nurture bulk ...` is the same commands under their first name.

Shows a preview and asks before acting unless `--yes`; processes in batches with a progress bar; an
interrupted operation finishes with `continue`.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.engine import Engine

from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.cli.listing import journeys_app
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import TemporalUnavailableError, app_context, open_engine
from nurture.db import BulkAction
from nurture.inbound import bulk
from nurture.outbound.relay import OutboxRelay

bulk_app = typer.Typer(name="bulk", help="Pause, resume or end many journeys at once (also `nurture journeys ...`).")
app.add_typer(bulk_app)
GROUPS = (journeys_app, bulk_app)  # each command is registered in both

Journey = Annotated[str, typer.Option(help="Journey key")]
Stage = Annotated[str | None, typer.Option(help="Only contacts in this stage (their latest score)")]
MinScore = Annotated[float | None, typer.Option(help="Only contacts scoring at least this")]
Contacts = Annotated[list[int] | None, typer.Option("--contact", help="Only these contacts (repeatable)")]
Reason = Annotated[str, typer.Option(help="Why (stored with every contact)")]
Yes = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")]
PreviewOnly = Annotated[bool, typer.Option("--preview", help="Only show how many and which")]


def _go(action: BulkAction, audience: bulk.BulkAudience, reason: str, yes: bool, preview_only: bool) -> None:
    settings = settings_for_cli()
    engine = open_engine(settings)
    try:
        with engine.begin() as conn:
            seen = bulk.preview(conn, audience)
        sample = ", ".join(map(str, seen.sample)) or "-"
        console.print(f"{action.value} {seen.count} journey(s) of {audience.journey}; sample contacts: {sample}")
        if preview_only or seen.count == 0:
            raise typer.Exit(0)
        if not yes and not typer.confirm("go ahead?"):
            raise typer.Exit(1)
        with engine.begin() as conn:
            operation_id = bulk.create(conn, action, audience, reason, os.environ.get("USER", "cli"), utcnow())
        console.print(
            f"operation {operation_id} (resume an interrupted one with `nurture journeys continue {operation_id}`)"
        )
        _process(engine, operation_id)
    finally:
        engine.dispose()
    run_and_exit(_deliver(settings))


def _process(engine: Engine, operation_id: int) -> None:
    columns = (TextColumn("signals queued"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as bar:
        task = None
        while True:
            with engine.begin() as conn:
                done = bulk.process_batch(conn, operation_id, utcnow())
            if task is None:
                task = bar.add_task("queued", total=max(done.total, 1))
            bar.update(task, completed=done.done)
            if done.finished:
                break


async def _deliver(settings: Settings) -> int:
    try:
        async with app_context(settings) as ctx:
            relay = OutboxRelay(ctx)
            delivered = 0
            while (batch := await relay.deliver_pending()).fetched:
                delivered += len(batch.delivered)
                if batch.unreachable:
                    break
            console.print(f"{delivered} signal(s) delivered to journeys")
    except TemporalUnavailableError as err:
        err_console.print(f"[yellow]{err}: the signals wait in the outbox for the relay[/yellow]")
    return 0


def pause(journey: Journey, reason: Reason, stage: Stage = None, min_score: MinScore = None,
          contact: Contacts = None, yes: Yes = False, preview: PreviewOnly = False) -> None:  # fmt: skip
    """Pause journeys: they send nothing and keep hearing events until resumed."""
    _go(BulkAction.PAUSE, bulk.BulkAudience(journey, stage, min_score, tuple(contact or ())), reason, yes, preview)


def resume(journey: Journey, reason: Reason, stage: Stage = None, min_score: MinScore = None,
           contact: Contacts = None, yes: Yes = False, preview: PreviewOnly = False) -> None:  # fmt: skip
    """Resume paused journeys where they were."""
    _go(BulkAction.RESUME, bulk.BulkAudience(journey, stage, min_score, tuple(contact or ())), reason, yes, preview)


def end(journey: Journey, reason: Reason, stage: Stage = None, min_score: MinScore = None,
        contact: Contacts = None, yes: Yes = False, preview: PreviewOnly = False) -> None:  # fmt: skip
    """End journeys now."""
    _go(BulkAction.END, bulk.BulkAudience(journey, stage, min_score, tuple(contact or ())), reason, yes, preview)


def continue_(operation_id: Annotated[int, typer.Argument(help="The interrupted operation")]) -> None:
    """Finish an operation a crash interrupted (items already signalled are not signalled again)."""
    settings = settings_for_cli()
    engine = open_engine(settings)
    try:
        _process(engine, operation_id)
    except LookupError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    finally:
        engine.dispose()
    run_and_exit(_deliver(settings))


for group in GROUPS:
    group.command("pause")(pause)
    group.command("resume")(resume)
    group.command("end")(end)
    group.command("continue")(continue_)
