"""`GET /metrics`: the API's Prometheus series.

Series (all prefixed `nurture_`):
- `nurture_http_requests_total{route,method,status}` and `nurture_http_request_duration_seconds{route,method}`:
  `route` is the route's template (`/contacts/{contact_id}`), never the raw path, so no id or email reaches a label;
  unmatched paths count as `route="<unmatched>"`.
- `nurture_webhook_events_total{kind}`: SendGrid events accepted by the webhook, by our kind vocabulary.
- `nurture_outbox_backlog`, `nurture_outbox_oldest_age_seconds`: journey signals not yet delivered to Temporal.
- `nurture_mailer_backlog`, `nurture_mailer_oldest_age_seconds`: transactional mail queued for the mailer.

The backlog gauges are computed at scrape time by a collector (one query each, on the pending-row indexes
`ix_signal_outbox_pending` and `ix_touch_channel_status`). Each app has its own registry, so two apps in one
process (tests) never share counters. `/metrics` needs the metrics token or the API token (`nurture.api.auth.
may_scrape`): it carries counts and route templates only, but its gauges move with what strangers make the API do.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nurture.api.auth import TokenCheck, may_scrape
from nurture.clock import utcnow
from nurture.db.tables import SIGNAL_OUTBOX, TOUCH

UNMATCHED = "<unmatched>"
TRANSACTIONAL = "transactional"


class ApiMetrics:
    """The API's metric objects, on one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "nurture_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nurture_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "nurture_webhook_events",
            "SendGrid events accepted by the event webhook, by kind.",
            ["kind"],
            registry=self.registry,
        )

    def count_webhook_events(self, kinds: Iterable[str]) -> None:
        for kind in kinds:
            self.webhook_events.labels(kind=kind).inc()


class BacklogCollector(Collector):
    """Outbox and mailer backlogs, read from the database at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        return []  # never query the database when the collector is registered (the app may not have one yet)

    def collect(self) -> Iterator[Metric]:
        ctx = getattr(self._app.state, "ctx", None)
        up = GaugeMetricFamily("nurture_database_up", "1 when the scrape could read the backlogs, else 0.")
        if ctx is None:
            up.add_metric([], 0)
            yield up
            return
        engine: Engine = ctx.engine
        now = utcnow()
        o, t = SIGNAL_OUTBOX.c, TOUCH.c
        try:
            with engine.connect() as conn:
                outbox = conn.execute(
                    select(func.count(), func.min(o.created_at)).where(o.delivered_at.is_(None))
                ).one()
                mailer = conn.execute(
                    select(func.count(), func.min(t.created_at)).where(t.channel == TRANSACTIONAL, t.status == "queued")
                ).one()
        except SQLAlchemyError:  # a scrape during an outage says so instead of failing
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for name, what, (count, oldest) in (
            ("outbox", "journey signals not yet delivered to Temporal", outbox),
            ("mailer", "transactional emails queued for the mailer", mailer),
        ):
            yield GaugeMetricFamily(f"nurture_{name}_backlog", f"Rows waiting: {what}.", value=int(count))
            yield GaugeMetricFamily(
                f"nurture_{name}_oldest_age_seconds",
                f"Age of the oldest row waiting ({what}); 0 when none.",
                value=_age(oldest, now),
            )


def _age(oldest: datetime | str | None, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite may hand an aggregate back untyped
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


class RequestMetrics:
    """ASGI middleware counting every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or _mount_template(scope) or UNMATCHED
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.latency.labels(route=route, method=method).observe(time.perf_counter() - started)


def _mount_template(scope: Scope) -> str | None:
    """Mounted apps (static files) report their mount point, not the file path."""
    root = scope.get("root_path") or ""
    return f"{root}/*" if root else None


def install(app: FastAPI) -> ApiMetrics:
    """Mount `/metrics` and the request middleware; keep the metrics in `app.state.metrics`."""
    metrics = ApiMetrics()
    metrics.registry.register(BacklogCollector(app))
    app.state.metrics = metrics
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def prometheus(request: Request) -> Response:
        check = may_scrape(request)
        if check is TokenCheck.CLOSED:
            return PlainTextResponse("metrics are closed: set NURTURE_METRICS_TOKEN (or NURTURE_API_TOKEN)", 503)
        if check is not TokenCheck.VALID:
            return PlainTextResponse("a bearer token is needed", 401, headers={"WWW-Authenticate": "Bearer"})
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app.state.metrics  # type: ignore[no-any-return]


def count_webhook_events(request: Request, kinds: Iterable[str]) -> None:
    """Called by the webhook door once a batch is stored."""
    metrics: ApiMetrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.count_webhook_events(kinds)
