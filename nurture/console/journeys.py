"""Journeys pages: every journey's counts, then one journey's funnel (a chart and a table), running counts by
stage and phase, and the experiments and uplift panel (as of its last computation in the background,
`nurture.console.uplift_snapshots`: seconds of work at 50k enrollments, never done inside a request).

Counts come from the database (`nurture.measure.funnel`); the stage and phase counts of running journeys are
Temporal visibility counts (a handful of COUNT queries, shown as unavailable when Temporal does not answer).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError

from nurture import search_attributes
from nurture.api.errors import ApiError
from nurture.broadcasts.audience import PHASES, RUNNING_JOURNEYS
from nurture.clock import utcnow
from nurture.console import store
from nurture.console.leads import stage_counts
from nurture.console.uplift_snapshots import PanelState, Question, Snapshot
from nurture.console.web import PREFIX, ctx_of, db, page, signed_in
from nurture.measure import funnel as fn
from nurture.measure.outcomes import Outcome, parse_outcome
from nurture.measure.panel import WINDOW_DAYS
from workflows.dsl import REGISTRY, STAGES

router = APIRouter(prefix=PREFIX, include_in_schema=False)
COUNT_TIMEOUT = timedelta(seconds=2)


async def visibility_counts(client: Client, journey: str) -> dict[str, dict[str, int]] | None:
    """Running journeys of `journey` per stage and per phase, from Temporal visibility; None if unavailable."""
    base = f"{RUNNING_JOURNEYS} AND {search_attributes.SA_JOURNEY.name} = '{journey}'"
    asks = [(search_attributes.SA_STAGE.name, s) for s in STAGES] + [
        (search_attributes.SA_PHASE.name, p) for p in PHASES
    ]
    try:
        counts = await asyncio.gather(
            *(
                client.count_workflows(f"{base} AND {attr} = '{value}'", rpc_timeout=COUNT_TIMEOUT)
                for attr, value in asks
            )
        )
    except (RPCError, RuntimeError):
        return None
    out: dict[str, dict[str, int]] = {"stage": {}, "phase": {}}
    for (attr, value), c in zip(asks, counts, strict=True):
        out["stage" if attr == search_attributes.SA_STAGE.name else "phase"][value] = c.count
    return out


MAX_URL_PREFIX = 500  # a question is stored (uplift_snapshot); a prefix longer than a URL is not one


def uplift_question(request: Request) -> tuple[Outcome, int]:
    """The panel's outcome and window from the page's query (`?outcome=mql&window=30`), as `nurture report
    uplift --outcome --window-days` takes them; a bad one is a 422 that says what is allowed."""
    word = request.query_params.get("outcome") or "clicked"
    raw = request.query_params.get("window") or str(WINDOW_DAYS)
    try:
        window = int(raw)
        if not 1 <= window <= 3650:
            raise ValueError("window: 1 to 3650 days")
        prefix = request.query_params.get("url_prefix") or None
        if prefix is not None and len(prefix) > MAX_URL_PREFIX:
            raise ValueError(f"url_prefix: at most {MAX_URL_PREFIX} characters")
        if not (word + (prefix or "")).isprintable():  # a control character is in no event kind or URL
            raise ValueError("outcome and url_prefix: printable characters only")
        return parse_outcome(word[:64], prefix), window
    except ValueError as err:
        raise ApiError(422, f"outcome {word[:64]!r}, window {raw[:10]!r}: {err}") from err


@router.get("/journeys", response_class=HTMLResponse)
async def journeys_index(request: Request, user: store.SignedIn = Depends(signed_in)) -> HTMLResponse:
    def read(s: Session) -> list[fn.Funnel]:
        conn = s.connection()
        names = sorted(set(REGISTRY) | set(fn.journeys(conn)))
        return [fn.summary(conn, name) for name in names]

    summaries = await db(request, read)
    return page(request, "journeys.html", user, summaries=summaries)


@router.get("/journeys/{journey}", response_class=HTMLResponse)
async def journey_page(
    request: Request,
    journey: str = Path(pattern=r"^[a-z0-9_]{1,64}$"),
    user: store.SignedIn = Depends(signed_in),
) -> HTMLResponse:
    if journey not in REGISTRY:
        known = await db(request, lambda s: fn.journeys(s.connection()))
        if journey not in known:
            raise ApiError(404, f"no journey {journey!r}")

    outcome, window = uplift_question(request)

    def read(s: Session) -> tuple[fn.Funnel, list[tuple[str, str, int]]]:
        conn = s.connection()  # read only: the rollup is folded in the background (nurture.console.background)
        return fn.funnel(conn, journey), stage_counts(conn, journey)

    background = request.app.state.console_background
    spec, question = REGISTRY.get(journey), Question(journey, outcome, window)
    if spec is None or (spec.holdout <= 0 and not spec.experiments):  # nothing to compare: nothing to compute
        uplift = PanelState(Snapshot(question, (), utcnow()), computing=False)
    elif background is None:
        uplift = PanelState(None, computing=False)
    else:  # a read of one row, and at most one write (the ask): on a worker thread like every query
        uplift = await run_in_threadpool(background.uplift.read, question, utcnow())
    (funnel, lifecycle), counts = await asyncio.gather(
        db(request, read), visibility_counts(ctx_of(request).client, journey)
    )
    chart = {
        "labels": [s.step for s in funnel.steps],
        "series": [  # a list, not a dict: the template's tojson sorts keys, and the order is the funnel's
            ["reached", [s.reached for s in funnel.steps]],
            ["sent", [s.sent for s in funnel.steps]],
            ["delivered", [s.delivered for s in funnel.steps]],
            ["opened", [s.opened for s in funnel.steps]],
            ["clicked", [s.clicked for s in funnel.steps]],
            ["machine opens", [s.machine_opened for s in funnel.steps]],
        ],
    }
    return page(
        request,
        "journey.html",
        user,
        funnel=funnel,
        steps=[asdict(s) | {"sent": s.sent} for s in funnel.steps],
        chart=chart,
        counts=counts,
        stages=STAGES,
        phases=PHASES,
        experiments=list(uplift.snapshot.entries) if uplift.snapshot else [],
        uplift=uplift,
        request_outcome=request.query_params.get("outcome") or "clicked",
        window=window,
        lifecycle=lifecycle,
    )
