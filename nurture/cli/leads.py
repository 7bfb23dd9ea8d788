"""`nurture leads top|digest`: leads in rank order with why, and each owner's daily digest (database only)."""

from __future__ import annotations

import httpx
import typer
from rich.table import Table

from definitions.leads.stages import STAGES
from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.clock import utcnow
from nurture.context import open_engine
from nurture.lifecycle.digest import build_digests, deliver
from nurture.lifecycle.leads import top_leads

leads_app = typer.Typer(help="Leads in rank order, and the daily digest to each owner.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")


@leads_app.command("top")
def top(
    owner: str | None = typer.Option(None, "--owner", help="only this owner's leads (owner key)"),
    stage: str | None = typer.Option(None, "--stage", help="only leads in this lifecycle stage"),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
) -> None:
    """Leads ranked by readiness (grade, score, recent strong signals, value), each with why."""
    if stage is not None and stage not in STAGES.names:
        err_console.print(f"[red]unknown stage {stage!r}[/red]; stages are {', '.join(STAGES.names)}")
        raise typer.Exit(2)
    engine = open_engine(settings_for_cli())
    try:
        with engine.connect() as conn:
            leads = top_leads(conn, owner=owner, stage=stage, limit=limit)
    finally:
        engine.dispose()
    table = Table("#", "contact", "stage", "grade", "score", "owner", "why")
    for i, v in enumerate(leads, start=1):
        table.add_row(str(i), str(v.contact_id), v.stage, v.grade, f"{v.score:g}", v.owner or "-", v.why)
    console.print(table if leads else "no leads match")


@leads_app.command("digest")
def digest(
    owner: str | None = typer.Option(None, "--owner", help="only this owner"),
    limit: int = typer.Option(10, "--limit", min=1, max=100),
    send: bool = typer.Option(True, "--send/--print", help="deliver (CRM webhook or email) or only print"),
) -> None:
    """Each owner's top leads and who went cold: to the CRM webhook, or by email through SendGrid."""
    settings = settings_for_cli()
    engine = open_engine(settings)
    now = utcnow()
    failed = 0
    try:
        digests = build_digests(engine, now, owner=owner, limit=limit)
    finally:
        engine.dispose()
    with httpx.Client(timeout=settings.crm_timeout_seconds) as http:
        for d in digests:
            if not send:
                console.print(d.text(), "")
                continue
            try:
                channel = deliver(d, settings, http, now)
            except (httpx.HTTPError, OSError, ValueError) as err:
                failed += 1
                err_console.print(f"[red]digest for {d.owner} not sent:[/red] {err}")
                continue
            console.print(f"{d.owner}: {len(d.top)} top, {len(d.cold)} cold -> {channel}")
            if channel == "not_sent":
                console.print(d.text(), "")
    if not digests:
        console.print("no owners")
    raise typer.Exit(1 if failed else 0)
