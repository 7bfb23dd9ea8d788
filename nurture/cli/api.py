"""`nurture api`: the HTTP service (SendGrid webhook, tracking, identity, contacts) and its outbox relay."""

from __future__ import annotations

import typer
from temporalio.client import Client

from nurture.api.server import serve_api
from nurture.cli import app
from nurture.cli.common import console, run_and_exit, settings_for_cli
from nurture.config import Settings
from nurture.context import AppContext
from nurture.startup import wait_for_database


@app.command("api")
def api(
    host: str | None = typer.Option(None, help="Listen address (default NURTURE_API_HOST)"),
    port: int | None = typer.Option(None, help="Listen port (default NURTURE_API_PORT)"),
) -> None:
    """Serve the HTTP API. Starts even while Temporal is down: events wait in the outbox until it is back."""
    settings = settings_for_cli()
    run_and_exit(_serve(settings, host or settings.api_host, port or settings.api_port))


async def _serve(settings: Settings, host: str, port: int) -> int:
    settings.refuse_unsafe()  # the default tracking secret, or a SendGrid key without its webhook key
    settings.home.mkdir(parents=True, exist_ok=True)  # the embedded SQLite database lives there
    engine = await wait_for_database(settings)  # started before the database: wait with a message, do not exit
    # lazy: the API must accept events while Temporal is unreachable; the relay retries until it answers
    client = await Client.connect(settings.effective_temporal_address, namespace=settings.temporal_namespace, lazy=True)
    if not settings.sendgrid_webhook_public_key:
        console.print("[yellow]NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY is not set: the SendGrid webhook refuses all posts")
    console.print(f"nurture api on http://{host}:{port} (temporal {settings.effective_temporal_address})")
    try:
        await serve_api(AppContext(settings, engine, client), host, port)
    finally:
        engine.dispose()
    return 0
