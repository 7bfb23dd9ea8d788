"""`nurture broadcast ...`: the CLI door to `nurture.broadcasts.service` (the HTTP API is the other door).

    nurture broadcast create bc-einvoicing-2027 --journey b2b_drip --topic compliance
    nurture broadcast preview <id>            # count and a sample of contacts; nothing is sent
    nurture broadcast start <id>              # starts delivery and follows it with a progress bar
    nurture broadcast status <id> [--follow]
    nurture broadcast pause|resume|cancel <id>
    nurture broadcast list

The broadcast runs in Temporal, not in this process: Ctrl-C (or a crash) only stops watching;
`nurture broadcast status <id> --follow` picks it up again.
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import typer

from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate, BroadcastError
from nurture.broadcasts.service import BroadcastService
from nurture.cli import app
from nurture.cli import broadcast_output as output
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.cli.tables import CliTable
from nurture.context import app_context

broadcast_app = typer.Typer(
    name="broadcast", help="Send an unscheduled drop into every matching running journey.", no_args_is_help=True
)
app.add_typer(broadcast_app)

Journeys = Annotated[list[str] | None, typer.Option("--journey", "-j", help="journey key (repeatable)")]
Stages = Annotated[list[str] | None, typer.Option("--stage", help="awareness|consideration|decision (repeatable)")]
Personas = Annotated[list[str] | None, typer.Option("--persona", help="persona (repeatable)")]
Topics = Annotated[list[str] | None, typer.Option("--topic", help="contacts interested in this topic (repeatable)")]
Phases = Annotated[list[str] | None, typer.Option("--phase", help="nurturing|with_sales|cooling_down (repeatable)")]
Contacts = Annotated[list[int] | None, typer.Option("--contact", help="contact id (repeatable)")]
MinScore = Annotated[float | None, typer.Option("--min-score", help="lead score at least")]
MaxScore = Annotated[float | None, typer.Option("--max-score", help="lead score at most")]
Where = Annotated[str, typer.Option("--where", help="extra Temporal visibility clause, ANDed (advanced)")]
By = Annotated[str | None, typer.Option("--by", help="who to record in the audit (default: your user name)")]
Sample = Annotated[int, typer.Option("--sample", help="how many contacts to show")]


def _audience(
    journeys: list[str] | None,
    stages: list[str] | None,
    personas: list[str] | None,
    topics: list[str] | None,
    phases: list[str] | None,
    contacts: list[int] | None,
    min_score: float | None,
    max_score: float | None,
    where: str,
) -> Audience:
    return Audience(
        journeys=journeys or [],
        stages=stages or [],
        personas=personas or [],
        topics=topics or [],
        phases=phases or [],
        contact_ids=contacts or [],
        min_score=min_score,
        max_score=max_score,
        where=where,
    )


def _who(by: str | None) -> str:
    return f"cli:{by or getpass.getuser()}"


@asynccontextmanager
async def _service() -> AsyncIterator[BroadcastService]:
    settings = settings_for_cli()
    async with app_context(settings) as ctx:
        yield BroadcastService(ctx.settings, ctx.engine, ctx.client)


def _run(work: Callable[[BroadcastService], Awaitable[int | None]]) -> None:
    """Run `work` with a service; a refused request prints its reason and exits 2."""

    async def main() -> int | None:
        async with _service() as svc:
            try:
                return await work(svc)
            except BroadcastError as err:
                err_console.print(f"[red]refused:[/red] {err}")
                return 2

    run_and_exit(main())


# ---- commands ----------------------------------------------------------------------------------------------


@broadcast_app.command()
def create(
    item_id: Annotated[str, typer.Argument(help="catalog item to drop, e.g. bc-einvoicing-2027")],
    journey: Journeys = None,
    stage: Stages = None,
    persona: Personas = None,
    topic: Topics = None,
    phase: Phases = None,
    contact: Contacts = None,
    min_score: MinScore = None,
    max_score: MaxScore = None,
    where: Where = "",
    broadcast_id: Annotated[str | None, typer.Option("--id", help="broadcast id (default: generated)")] = None,
    kind: Annotated[str | None, typer.Option(help="product_launch|regulation|announcement")] = None,
    rate: Annotated[float, typer.Option(help="signals per second")] = 500.0,
    by: By = None,
    sample: Sample = 5,
) -> None:
    """Store a draft broadcast (content and audience are checked) and preview its audience."""
    audience = _audience(journey, stage, persona, topic, phase, contact, min_score, max_score, where)

    async def work(svc: BroadcastService) -> None:
        req = BroadcastCreate(item_id=item_id, audience=audience, kind=kind, rate_per_second=rate, id=broadcast_id)
        created = await svc.create(req, _who(by))
        console.print(f"created broadcast [bold]{created.id}[/bold] ({created.kind} {created.item_id})")
        output.print_preview(await svc.preview_broadcast(created.id, sample))
        console.print(f"start it with: [bold]nurture broadcast start {created.id}[/bold]")

    _run(work)


@broadcast_app.command()
def preview(
    broadcast_id: Annotated[str | None, typer.Argument(help="a stored broadcast (or give audience options)")] = None,
    journey: Journeys = None,
    stage: Stages = None,
    persona: Personas = None,
    topic: Topics = None,
    phase: Phases = None,
    contact: Contacts = None,
    min_score: MinScore = None,
    max_score: MaxScore = None,
    where: Where = "",
    sample: Sample = 10,
) -> None:
    """Count the audience and show a sample of contacts; nothing is sent."""
    audience = _audience(journey, stage, persona, topic, phase, contact, min_score, max_score, where)

    async def work(svc: BroadcastService) -> None:
        if broadcast_id:
            output.print_preview(await svc.preview_broadcast(broadcast_id, sample))
        else:
            output.print_preview(await svc.preview(audience, sample))

    _run(work)


@broadcast_app.command()
def start(
    broadcast_id: str,
    concurrency: Annotated[int | None, typer.Option(help="signals in flight at once (default 32)")] = None,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="show progress until it finishes")] = True,
    by: By = None,
) -> None:
    """Start delivering a broadcast (idempotent) and follow it with a progress bar."""

    async def work(svc: BroadcastService) -> None:
        st = await svc.start(broadcast_id, _who(by), concurrency)
        console.print(f"broadcast [bold]{broadcast_id}[/bold] is {st.state}")
        if follow:
            await output.follow(svc, broadcast_id)

    _run(work)


@broadcast_app.command()
def status(
    broadcast_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="progress bar until it finishes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Progress: signalled, acted, skipped (with reasons), failed."""

    async def work(svc: BroadcastService) -> None:
        if follow:
            await output.follow(svc, broadcast_id)
        elif as_json:
            console.print_json((await svc.status(broadcast_id)).model_dump_json())
        else:
            output.print_status(await svc.status(broadcast_id))

    _run(work)


def _control(action: str) -> Callable[[str, str | None], None]:
    def command(broadcast_id: str, by: By = None) -> None:
        async def work(svc: BroadcastService) -> None:
            st = await svc.control(broadcast_id, action, _who(by))
            console.print(f"broadcast [bold]{broadcast_id}[/bold] is {st.state} (phase {st.phase})")

        _run(work)

    command.__doc__ = {
        "pause": "Pause delivery (within seconds); resume picks up where it stopped.",
        "resume": "Resume a paused broadcast.",
        "cancel": "Stop delivery for good (journeys already signalled still act on it).",
    }[action]
    return command


for _action in ("pause", "resume", "cancel"):
    broadcast_app.command(_action)(_control(_action))


@broadcast_app.command("list")
def list_broadcasts(limit: Annotated[int, typer.Option(help="how many, newest first")] = 20) -> None:
    """Every broadcast with its state and counts (the audit trail)."""

    async def work(svc: BroadcastService) -> None:
        table = CliTable("id", "state", "item", "by", "created", "signalled", "dropped", "skipped", ids=("id", "item"))
        for b in await svc.list(limit):
            c = b.counts
            table.add_row(
                b.id,
                b.state,
                b.item_id,
                b.created_by,
                f"{b.created_at:%Y-%m-%d %H:%M}",
                str(c.get("signalled", "-")),
                str(c.get("dropped", "-")),
                str(c.get("skipped", "-")),
            )
        console.print(table.render())

    _run(work)
