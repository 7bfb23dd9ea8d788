"""`nurture dev`: everything on embedded defaults in one process, plus a demo a newcomer can watch.

Starts the Temporal dev server (Web UI on :8233, state in .nurture/temporal.db, search attributes registered),
SQLite, a fake SendGrid that posts signed Event Webhook batches, the HTTP service with its outbox relay, a
worker, and the demo (nurture/demo.py) in compressed time. Ctrl-C or SIGTERM stops it all within seconds,
dev server included (a second Ctrl-C stops at once).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture import workflow_ids
from nurture.cli import app
from nurture.cli.common import console, run_and_exit, settings_for_cli, ui_link
from nurture.cli.stopping import EmbeddedServer, StopSignals, bounded
from nurture.config import Settings
from nurture.context import app_context
from nurture.db.tables import CONTACT
from nurture.dev_secrets import DEV_CONSOLE_USER, dev_console_password, with_dev_secrets
from nurture.fakes.sendgrid import FakeSendGrid
from nurture.logging import get_logger
from nurture.temporal import embedded_dev_server, kill_dev_servers

if TYPE_CHECKING:
    from temporalio.worker import Worker

log = get_logger(__name__)
DAY = 86400.0
API_STOP_SECONDS = 6.0  # uvicorn's graceful shutdown is 5 s
WORKER_STOP_SECONDS = 3.0  # journeys lose nothing: an activity cut short is retried by the next worker


@app.command()
def dev(
    day_seconds: Annotated[float, typer.Option(help="Seconds of real time per day of journey time")] = 1.0,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Start everything but play no demo")] = False,
    exit_after: Annotated[float | None, typer.Option(help="Stop after this many seconds (CI, scripts)")] = None,
) -> None:
    """Run nurture locally: Temporal dev server + UI, worker, HTTP API, fake SendGrid, and a demo."""
    settings = settings_for_cli()
    if day_seconds <= 0:
        raise typer.BadParameter("day-seconds must be positive")
    run_and_exit(_dev(settings, DAY / day_seconds, day_seconds, not no_demo, exit_after))


async def _dev(settings: Settings, time_scale: float, day_seconds: float, demo: bool, exit_after: float | None) -> int:
    from nurture.api.server import build_server
    from nurture.demo import Demo
    from workers.journey_worker import build_worker

    settings.home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    fake = FakeSendGrid(webhook_url=f"{api_url}/webhooks/sendgrid", auto_events=("processed", "delivered"))
    updates: dict[str, object] = {}
    if settings.sendgrid_api_key is None:
        fake.start()
        updates.update(
            sendgrid_api_key=SecretStr(fake.api_key),
            sendgrid_host=fake.url,
            sendgrid_webhook_public_key=fake.public_key_b64,
        )
    settings = with_dev_secrets(settings.model_copy(update=updates))  # random, kept in home across restarts
    api_token = settings.api_token.get_secret_value() if settings.api_token else ""

    stop = StopSignals(on_force=kill_dev_servers)
    with stop.installed():
        async with contextlib.AsyncExitStack() as stack:
            if settings.embedded_temporal:
                await stack.enter_async_context(embedded_dev_server(settings))
            if stop.requested.is_set():
                return stop.exit_code
            ctx = await stack.enter_async_context(app_context(settings))
            worker = build_worker(ctx.client, settings, ctx.engine)
            server = EmbeddedServer(
                build_server(ctx, settings.api_host, settings.api_port, time_scale=time_scale).config
            )
            parts = {"worker": asyncio.create_task(worker.run()), "api": asyncio.create_task(server.serve())}
            _welcome(settings, api_url, api_token, fake if fake_running(fake) else None, day_seconds)
            demo_task = None
            played = _earlier_demo(ctx.engine) if demo else {}
            if played:  # its people are known and their journeys are past the story: it would not play again
                console.print(
                    f"[bold]The demo played in an earlier run[/bold]: its contacts and journeys are kept in "
                    f"{settings.home} (stop, remove that folder and start again to play it once more). Try:"
                )
                console.print("\n".join(_try_lines(settings, played)))
            elif demo:
                player = Demo(api=api_url, api_token=api_token, fake=fake, day_seconds=day_seconds)
                demo_task = asyncio.create_task(_play(player, ctx.client, settings))
            waits: list[asyncio.Task[Any]] = [*parts.values(), asyncio.create_task(stop.requested.wait())]
            if exit_after is not None:
                waits.append(asyncio.create_task(asyncio.sleep(exit_after)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in parts.values():
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
            finally:
                await _shut_down(server, worker, parts, demo_task)
                for task in waits:
                    task.cancel()
                if fake_running(fake):
                    fake.stop()
    return stop.exit_code


async def _shut_down(
    server: EmbeddedServer, worker: Worker, parts: dict[str, asyncio.Task[Any]], demo: asyncio.Task[None] | None
) -> None:
    """The demo, then the API (its relay and mailer stop in its lifespan), then the worker, each within a bound;
    the dev server is stopped last, by the exit stack."""
    if demo is not None:
        demo.cancel()
    server.should_exit = True
    await bounded("api", parts["api"], API_STOP_SECONDS)
    await bounded("worker", asyncio.ensure_future(worker.shutdown()), WORKER_STOP_SECONDS)
    for task in parts.values():
        task.cancel()


def fake_running(fake: FakeSendGrid) -> bool:
    try:
        _ = fake.url
    except RuntimeError:
        return False
    return True


async def _play(player: object, client: object, settings: Settings) -> None:
    from nurture.demo import Demo

    assert isinstance(player, Demo)
    try:
        await player.run(client)
    except Exception as err:
        log.warning("demo.failed", error=str(err))
        return
    done = "[bold green]The demo's scripted part is done; journeys keep running.[/bold green] Try:"
    console.print("\n".join(["", done, *_try_lines(settings, player.contacts)]))


def _try_lines(settings: Settings, contacts: dict[str, int]) -> list[str]:
    lines = [f"  nurture status {contact_id}    # {person}" for person, contact_id in contacts.items()]
    lines.append("  nurture journeys --phase with_sales")
    ada = contacts.get("ada")
    if ada is not None:
        lines.append(f"  Ada in the UI: {ui_link(settings, workflow_ids.journey_workflow_id('b2b_drip', ada))}")
    return lines


def _earlier_demo(engine: Engine) -> dict[str, int]:
    """The demo's people already in the database (an earlier `nurture dev` played the demo), by person."""
    from nurture.demo import CAST

    people = {p.email: p.key for p in CAST}
    with engine.connect() as conn:
        rows = conn.execute(select(CONTACT.c.email, CONTACT.c.id).where(CONTACT.c.email.in_(list(people)))).all()
    found = {people[r.email]: int(r.id) for r in rows}
    return {p.key: found[p.key] for p in CAST if p.key in found}


def _console_sign_in(settings: Settings) -> str:
    password = dev_console_password(settings)
    if password is None:
        return "(sign in as a configured console user)"
    return f"(sign in as {DEV_CONSOLE_USER} with {password})"


def _welcome(settings: Settings, api_url: str, api_token: str, fake: FakeSendGrid | None, day_seconds: float) -> None:
    ui = f"http://localhost:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}/workflows"
    console.print(
        "\n".join(
            [
                "",
                "[bold]nurture dev[/bold] is running (Ctrl-C to stop)",
                f"  Temporal UI : {ui}",
                f"  HTTP API    : {api_url}/docs   (admin token for this run: {api_token})",
                f"  Console     : {api_url}/console   {_console_sign_in(settings)}",
                f"  Email       : {'fake SendGrid at ' + fake.url if fake else 'configured SendGrid'}",
                f"  Database    : {settings.effective_database_url}",
                f"  Time        : one journey day every {day_seconds:g} s",
                "",
                "In the UI, filter with e.g.  NurtureJourney = 'b2b_drip'  or  NurturePhase = 'with_sales'",
                "(nurturing | with_sales | cooling_down while a journey runs, ended once it is over);",
                "each journey's 'current details' show its step, stage, score and last decision.",
                "",
            ]
        )
    )
