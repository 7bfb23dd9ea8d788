"""The HTTP service: SendGrid Event Webhook, web tracking, identity, contacts, unsubscribe, broadcasts.

`create_app(ctx)` takes an `AppContext` (or a factory of one, entered at startup) and keeps it in
`app.state.ctx`, where every router finds it. The lifespan runs the outbox relay next to the server, and the
console's background work (`nurture.console.background`: the funnel rollup, uplift snapshots, bulk operations).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from activities.email import build_sender
from definitions import load_definitions
from nurture.api import (
    broadcasts,
    bulk,
    contacts,
    errors,
    history,
    identity,
    preferences,
    privacy,
    purchases,
    sales,
    tasks,
    tracking,
    unsubscribe,
    webhooks,
)
from nurture.api import imports as imports_api
from nurture.api import lifecycle as lifecycle_api
from nurture.api import metrics as api_metrics
from nurture.api.auth import TokenCheck, check_header
from nurture.api.browser import BrowserDoors
from nurture.api.limits import BodyLimit
from nurture.api.signups import PublicSignups
from nurture.console import mount as mount_console
from nurture.console.background import ConsoleBackground
from nurture.context import AppContext
from nurture.db.tables import SIGNAL_OUTBOX
from nurture.inbound.signature import load_public_key
from nurture.outbound.mailer import TransactionalMailer
from nurture.outbound.relay import OutboxRelay

ContextFactory = Callable[[], AbstractAsyncContextManager[AppContext]]


def create_app(
    ctx: AppContext | ContextFactory,
    *,
    time_scale: float = 1.0,
    relay: bool = True,
    relay_options: dict[str, Any] | None = None,
) -> FastAPI:
    """The API. `time_scale` compresses journeys enrolled through it (the dev demo); `relay=False` leaves
    outbox delivery to another process."""
    load_definitions()  # the doors check journey keys and items against the registry

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            context = ctx if isinstance(ctx, AppContext) else await stack.enter_async_context(ctx())
            _attach(app, context)
            app.state.signups.start()  # opt-ins an earlier process answered and did not store
            app.state.console_background = ConsoleBackground(context.engine)  # rollup folds, bulk batches
            tasks = [
                asyncio.create_task(app.state.console_background.fold_rollup(), name="funnel-rollup"),
                asyncio.create_task(app.state.console_background.run_bulk(), name="bulk-runner"),
                asyncio.create_task(app.state.console_background.run_uplift(), name="uplift-snapshots"),
            ]
            if relay:
                app.state.relay = OutboxRelay(context, **(relay_options or {}))
                tasks.append(asyncio.create_task(app.state.relay.run(), name="outbox-relay"))
            if context.settings.sendgrid_api_key is not None:  # without a provider, mail lands in the dev outbox
                app.state.mailer = TransactionalMailer(
                    context.settings, context.engine, build_sender(context.settings, context.engine)
                )
                tasks.append(asyncio.create_task(app.state.mailer.run(), name="transactional-mailer"))
            try:
                yield
            finally:
                await app.state.signups.close()  # the opt-ins already answered are stored before we stop
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await app.state.console_background.drain()  # its threads finish their transactions first

    app = FastAPI(
        title="nurture",
        summary="Lead-nurturing journeys: event ingest and tracking",
        lifespan=lifespan,
        responses=errors.RESPONSES,
    )
    app.state.time_scale = time_scale
    app.state.relay = None
    app.state.mailer = None
    app.state.console_background = None  # set in the lifespan
    app.state.signups = PublicSignups(lambda: app.state.ctx, lambda sent: _nudge(app, sent))
    if isinstance(ctx, AppContext):
        _attach(app, ctx)
    errors.install(app)
    app.add_middleware(BrowserDoors, origins=lambda: app.state.ctx.settings.cors_allowed_origins)
    app.add_middleware(
        BodyLimit,
        limits=lambda: {"/webhooks/": app.state.ctx.settings.webhook_max_body_bytes},
        trusted=lambda: {"/imports/": app.state.ctx.settings.import_max_body_bytes},
        is_trusted=lambda header: check_header(app.state.ctx.settings, header) is TokenCheck.VALID,
    )
    for module in (webhooks, tracking, identity, contacts, history, unsubscribe, broadcasts, sales):
        app.include_router(module.router)
    mount_console(app)
    app.include_router(lifecycle_api.router)
    app.include_router(imports_api.router)
    app.include_router(privacy.router)
    app.include_router(preferences.router)
    app.include_router(bulk.router)
    api_metrics.install(app)

    @app.middleware("http")
    async def no_framing(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Clickjacking: no other site may frame a page of ours and steer its clicks (the signed-in console, and
        the unsubscribe, preferences and confirmation pages a link opens with their buttons)."""
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response

    app.include_router(tasks.router)
    app.include_router(purchases.router)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> dict[str, Any]:
        engine = request.app.state.ctx.engine

        def pending() -> int:
            with engine.connect() as conn:
                return int(
                    conn.execute(select(func.count()).where(SIGNAL_OUTBOX.c.delivered_at.is_(None))).scalar_one()
                )

        return {"ok": True, "outbox_pending": await run_in_threadpool(pending)}

    _build_routes(app)
    return app


def _build_routes(app: FastAPI) -> None:
    """Build every included router's routes now. FastAPI (0.137 on) builds them on the first request that reaches
    each router, on the event loop: 86-230 ms here for the whole app, paid by a process's first request at each door
    (a first public opt-in answered 0.16 s late, a first `/healthz` ~90 ms), and again after every deploy."""
    for _ in iter_route_contexts(app.router.routes):
        pass


def _nudge(app: FastAPI, confirmation_written: bool) -> None:
    if app.state.relay is not None:
        app.state.relay.nudge()
    if confirmation_written and app.state.mailer is not None:
        app.state.mailer.nudge()  # send the confirmation now rather than at the mailer's next idle pass


def _attach(app: FastAPI, ctx: AppContext) -> None:
    app.state.ctx = ctx
    key = ctx.settings.sendgrid_webhook_public_key
    app.state.sendgrid_key = load_public_key(key) if key else None
