"""Delivering the outbox from a CLI command, with a progress bar (what `enroll` and `event` queued)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nurture.cli.common import console, err_console
from nurture.context import AppContext
from nurture.outbound.relay import OutboxRelay


async def drain_with_progress(ctx: AppContext, expected: int, label: str) -> None:
    """Deliver the outbox now, with a progress bar; rows Temporal refuses wait for the next relay."""
    relay = OutboxRelay(ctx)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=max(expected, 1))
        delivered = 0
        for _ in range(1000):
            done = await relay.deliver_pending()
            delivered += len(done.delivered)
            bar.update(task, completed=min(delivered, expected))
            if done.unreachable:
                err_console.print("[yellow]Temporal is unreachable: the rest waits in the outbox[/yellow]")
                return
            if done.fetched == 0:
                break
        bar.update(task, completed=max(expected, 1))
