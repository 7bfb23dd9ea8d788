"""`nurture owners set|away|back|list` and `nurture stage set|history`: routing owners and operator stage moves."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from nurture.cli import app
from nurture.cli.common import console, err_console, settings_for_cli
from nurture.clock import utcnow
from nurture.context import open_engine
from nurture.db.tables import OWNER
from nurture.lifecycle.routing import OwnerSpec, set_away, upsert_owner
from nurture.lifecycle.stages import UnknownContactError, move_stage, stage_history
from workflows.lifecycle import ActorKind

owners_app = typer.Typer(help="Sales owners leads are routed to.", no_args_is_help=True)
stage_app = typer.Typer(help="Lifecycle stages: an operator's move, a contact's history.", no_args_is_help=True)
app.add_typer(owners_app, name="owners")
app.add_typer(stage_app, name="stage")


@owners_app.command("set")
def set_owner(
    key: str,
    team: str = typer.Option(..., "--team"),
    name: str = typer.Option("", "--name"),
    email: str = typer.Option("", "--email"),
    territory: str = typer.Option("", "--territory", help="comma-separated country codes"),
    time_zone: str = typer.Option("UTC", "--time-zone"),
    weight: int = typer.Option(1, "--weight", min=0, max=100),
) -> None:
    """Create or update an owner."""
    engine = open_engine(settings_for_cli())
    spec = OwnerSpec(key, team, name, email, tuple(territory.split(",")), time_zone, weight)
    with engine.begin() as conn:
        owner_id = upsert_owner(conn, spec, utcnow())
    console.print(f"owner {key} (id {owner_id}) in team {team}")


def _away(key: str, away: bool) -> None:
    engine = open_engine(settings_for_cli())
    with engine.begin() as conn:
        found = set_away(conn, key, away, utcnow())
    if not found:
        err_console.print(f"[red]no owner {key!r}[/red]")
        raise typer.Exit(1)
    console.print(f"{key} is {'away: routing skips them' if away else 'back'}")


@owners_app.command("away")
def away(key: str) -> None:
    """Routing skips this owner until they are back."""
    _away(key, True)


@owners_app.command("back")
def back(key: str) -> None:
    _away(key, False)


@owners_app.command("list")
def list_owners() -> None:
    engine = open_engine(settings_for_cli())
    with engine.connect() as conn:
        rows = conn.execute(select(OWNER).order_by(OWNER.c.team, OWNER.c.key)).all()
    table = Table("key", "name", "team", "territory", "time zone", "weight", "away")
    for r in rows:
        table.add_row(r.key, r.name, r.team, r.territory, r.time_zone, str(r.weight), "yes" if r.away else "")
    console.print(table)


@stage_app.command("set")
def set_stage(
    contact_id: int,
    stage: str,
    why: str = typer.Option(..., "--why", help="required: moving back needs a reason, and history keeps it"),
    by: str = typer.Option("operator", "--by", help="who is moving it (kept in the history)"),
) -> None:
    """An operator moves a contact to a stage (back moves allowed, with the reason)."""
    engine = open_engine(settings_for_cli())
    try:
        with engine.begin() as conn:
            moved = move_stage(conn, contact_id, stage, actor=ActorKind.OPERATOR, actor_id=by, why=why, now=utcnow())
    except (UnknownContactError, ValueError) as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    if not moved.moved:
        err_console.print(f"[red]not moved:[/red] {moved.detail}")
        raise typer.Exit(1)
    console.print(f"contact {contact_id}: {moved.from_stage} -> {moved.to_stage} ({moved.kind})")


@stage_app.command("history")
def history(contact_id: int) -> None:
    engine = open_engine(settings_for_cli())
    with engine.connect() as conn:
        rows = stage_history(conn, contact_id)
    table = Table("at", "from", "to", "by", "why")
    for h in rows:
        table.add_row(f"{h.at:%Y-%m-%d %H:%M}", h.from_stage or "-", h.to_stage, f"{h.actor_kind} {h.actor_id}", h.why)
    console.print(table if rows else f"no stage history for contact {contact_id}")
