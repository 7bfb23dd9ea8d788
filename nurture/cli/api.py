"""`nurture api`: the HTTP service (SendGrid webhook, tracking, identity, contacts) and its outbox relay."""

from __future__ import annotations

import typer

from nurture.cli import app
from nurture.cli.common import console, run_and_exit, settings_for_cli
from nurture.config import Settings
from nurture.context import AppContext
from nurture.startup import TemporalWait, start_process


@app.command("api")
def api(
    host: str | None = typer.Option(None, help="Listen address (default NURTURE_API_HOST)"),
    port: int | None = typer.Option(None, help="Listen port (default NURTURE_API_PORT)"),
) -> None:
    """Serve the HTTP API. Starts even while Temporal is down: events wait in the outbox until it is back."""
    settings = settings_for_cli()
    run_and_exit(_serve(settings, host or settings.api_host, port or settings.api_port))


async def _serve(settings: Settings, host: str, port: int) -> int:
    # refuses unsafe settings first; started before the database, it waits with a message rather than exit;
    # Temporal is connected lazily: the API accepts events while it is unreachable, the relay retries
    # Imported here, not at the top: the API pulls in FastAPI, the console and the statistics stack (seconds of
    # start-up), which every other `nurture` command would pay for (`nurture.cli.main` registers all commands).
    from nurture.api.server import serve_api

    started = await start_process(settings, TemporalWait.LAZY)
    engine, client = started.engine, started.client
    if not settings.sendgrid_webhook_public_key:
        console.print("[yellow]NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY is not set: the SendGrid webhook refuses all posts")
    console.print(f"nurture api on http://{host}:{port} (temporal {settings.effective_temporal_address})")
    try:
        await serve_api(AppContext(settings, engine, client), host, port)
    finally:
        engine.dispose()
    return 0
