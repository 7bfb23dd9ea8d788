"""What `nurture broadcast ...` prints: the audience preview, the status, and the progress bars of `--follow`."""

from __future__ import annotations

import asyncio

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import AudiencePreview, BroadcastStatus
from nurture.broadcasts.service import BroadcastService
from nurture.cli.common import console, err_console
from nurture.cli.tables import CliTable


async def follow(svc: BroadcastService, broadcast_id: str) -> None:
    columns = (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            sent = bar.add_task("signalled", total=None, note="")
            heard = bar.add_task("journeys reported", total=None, note="")
            while True:
                st = await svc.status(broadcast_id)
                bar.update(sent, total=max(st.total, st.delivered) or None, completed=st.delivered, note=st.state)
                bar.update(
                    heard,
                    total=max(st.signalled + st.suppressed, st.heard) or None,
                    completed=st.heard,
                    note=f"acted {st.acted} · skipped {st.skipped} · failed {st.failed}",
                )
                if st.finished:
                    break
                await asyncio.sleep(0.5)
    except asyncio.CancelledError:
        err_console.print(f"stopped watching; the broadcast goes on: nurture broadcast status {broadcast_id} -f")
        raise
    print_status(st)


def print_preview(p: AudiencePreview) -> None:
    console.print(f"audience: {p.description}: [bold]{p.count}[/bold] running journeys")
    console.print(f"[dim]query: {p.query}[/dim]")
    if not p.sample:
        return
    table = CliTable("contact", "name", "email", "journey", "stage", "persona", "score", ids=("contact", "journey"))
    for s in p.sample:
        score = "-" if s.lead_score is None else f"{s.lead_score:.1f}"
        cells = (s.name or "", s.email or "", s.journey or "-", s.stage or "-", s.persona or "-")
        table.add_row(str(s.contact_id), *cells, score)
    console.print(table.render())


def print_status(st: BroadcastStatus) -> None:
    b = st.broadcast
    console.print(f"broadcast [bold]{b.id}[/bold]: {b.kind} {b.item_id} - [bold]{st.state}[/bold] ({st.phase})")
    console.print(f"  audience: {Audience.model_validate(b.audience).describe()}")
    started = f"{b.started_at:%Y-%m-%d %H:%M:%S}" if b.started_at else "not started"
    finished = f", finished {b.finished_at:%H:%M:%S}" if b.finished_at else ""
    console.print(f"  created by {b.created_by} at {b.created_at:%Y-%m-%d %H:%M:%S}; started {started}{finished}")
    console.print(
        f"  signalled {st.signalled} of {st.total} (+{st.late} late); suppressed, not signalled {st.suppressed}; "
        f"signal failures {st.signal_failed}"
        + (f" ({', '.join(f'{k}: {v}' for k, v in st.signal_failures.items())})" if st.signal_failures else "")
    )
    o = st.outcomes
    console.print(
        f"  journeys reported {st.heard}: dropped {o.get('dropped', 0)}, deferred {o.get('deferred', 0)} "
        f"(acted {st.acted}); skipped {st.skipped}; failed {o.get('failed', 0)}"
    )
    for r in st.skip_reasons:
        console.print(f"    skipped {r.count:>6}: {r.reason}")
