"""Serving the API with uvicorn in a running event loop (`nurture api`; next to the worker in `nurture dev`)."""

from __future__ import annotations

from typing import Any

import uvicorn

from nurture.api.app import create_app
from nurture.context import AppContext
from nurture.heap import freeze_start_up_heap


def build_server(
    ctx: AppContext,
    host: str,
    port: int,
    *,
    time_scale: float = 1.0,
    relay: bool = True,
    relay_options: dict[str, Any] | None = None,
) -> uvicorn.Server:
    """A uvicorn server for the app (the outbox relay runs in its lifespan unless `relay` is False)."""
    config = uvicorn.Config(
        create_app(ctx, time_scale=time_scale, relay=relay, relay_options=relay_options),
        host=host,
        port=port,
        log_config=None,  # our logging (nurture.logging) formats uvicorn's records too
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


async def serve_api(ctx: AppContext, host: str, port: int, *, time_scale: float = 1.0) -> None:
    """Serve until cancelled or interrupted."""
    server = build_server(ctx, host, port, time_scale=time_scale)
    freeze_start_up_heap()
    await server.serve()
