"""`nurture import contacts|orders|attendance FILE`: a CSV by natural key, all or nothing, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.clock import utcnow
from nurture.context import open_engine
from nurture.lifecycle.imports import KINDS, ImportRefusedError, import_file


@app.command("import")
def import_csv(
    kind: str = typer.Argument(..., help=f"what the file holds: {', '.join(KINDS)}"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    source: str = typer.Option("crm", "--source", help="who says so (decides which value wins a field)"),
) -> None:
    """Import a CSV; any bad line imports nothing and every bad line is named. Importing it twice changes nothing."""
    if kind not in KINDS:
        err_console.print(f"[red]unknown kind {kind!r}[/red]; kinds are {', '.join(KINDS)}")
        raise typer.Exit(2)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        err_console.print(f"[red]{file} is not UTF-8 text[/red] (byte {err.start})")
        raise typer.Exit(2) from err
    engine = open_engine(settings_for_cli())
    try:
        with Progress(console=console, transient=True) as progress, engine.begin() as conn:
            task = progress.add_task(f"importing {kind}", total=None)
            result = import_file(
                conn,
                kind,
                text,
                name=file.name,
                now=utcnow(),
                source=source,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ImportRefusedError as refused:
        err_console.print(f"[red]{len(refused.errors)} bad line(s) in {file.name}; nothing was imported:[/red]")
        for error in refused.errors:
            err_console.print(f"  {error}")
        raise typer.Exit(1) from refused
    except ValueError as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from err
    finally:
        engine.dispose()
    r = result
    console.print(
        f"{kind}: {r.lines} lines, {r.created} created, {r.changed} facts changed, {r.unchanged} unchanged, "
        f"{r.stages_moved} stage moves, {r.journeys_ended} journeys told their goal was reached"
    )
