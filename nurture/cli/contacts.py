"""`nurture contacts export ID` and `nurture contacts erase ID --reason ...` (GDPR)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.context import TemporalUnavailableError, app_context, open_engine
from nurture.inbound.privacy import erase_contact, export_contact
from nurture.outbound.relay import OutboxRelay

contacts_app = typer.Typer(name="contacts", help="A contact's data: export it, or erase it (GDPR).")
app.add_typer(contacts_app)


@contacts_app.command("export")
def export(contact_id: Annotated[int, typer.Argument(help="The contact")]) -> None:
    """Every fact held about the contact, as JSON on stdout."""
    engine = open_engine(settings_for_cli())
    try:
        with engine.begin() as conn:
            facts = export_contact(conn, contact_id)
    except LookupError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    finally:
        engine.dispose()
    typer.echo(json.dumps(facts, indent=2, default=str))


@contacts_app.command("erase")
def erase(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit, without personal data)")],
    by: Annotated[str, typer.Option(help="Who asked (kept in the audit)")] = os.environ.get("USER", "cli"),
) -> None:
    """Forget the contact: end its journeys, delete or anonymise its data, keep a hashed suppression."""
    settings = settings_for_cli()
    engine = open_engine(settings)
    try:
        with engine.begin() as conn:
            done = erase_contact(conn, contact_id, utcnow(), requested_by=by, reason=reason)
    except LookupError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    finally:
        engine.dispose()
    if done.already_erased:
        console.print(f"contact {contact_id} was already erased at {done.erased_at.isoformat()}")
        raise typer.Exit(0)
    console.print(
        f"erased contact {contact_id}: {done.rows_deleted} row(s) deleted, {done.rows_anonymised} anonymised, "
        f"{done.exits_queued} journey exit(s) queued"
    )
    if done.exits_queued:
        run_and_exit(_deliver_exits(settings))


async def _deliver_exits(settings: Settings) -> int:
    """End the journeys now if Temporal is reachable; otherwise the outbox relay does it later."""
    try:
        async with app_context(settings) as ctx:
            delivered = await OutboxRelay(ctx).deliver_pending()
            console.print(f"{len(delivered.delivered)} signal(s) delivered")
    except TemporalUnavailableError as err:
        err_console.print(f"[yellow]{err}: the exits wait in the outbox[/yellow]")
    return 0
