"""Bulk operations page: pause, resume or end the running journeys an audience form names, with a reason.

Preview (count and a sample, nothing changes), then start: the operation is `nurture.inbound.bulk` (the same
one the HTTP door `POST /journeys/bulk` and the CLI use). The POST only records it (its audience snapshotted) and
wakes the API's bulk runner (`nurture.console.background`), which processes it in batches through the signal
outbox with the cursor in the database; the operation's page polls `/bulk/{id}/progress` and shows the bar
moving. An operation a crash interrupted is picked up by the runner again; "Continue" wakes it at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.engine import Connection

from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.console import store
from nurture.console.background import ConsoleBackground
from nurture.console.web import PREFIX, checked_form, db, page, signed_in
from nurture.db import BulkAction
from nurture.db.tables import BULK_OPERATION
from nurture.inbound import bulk
from workflows.dsl import REGISTRY, STAGES

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class FormError(ValueError):
    """The bulk form as posted cannot be run: said on the page (422)."""


def audience_of(values: Any) -> tuple[BulkAction, bulk.BulkAudience, str]:
    """The form's action, audience and reason; raises FormError with what is wrong."""
    try:
        action = BulkAction(str(values.get("action") or ""))
    except ValueError as err:
        raise FormError("choose pause, resume or end") from err
    journey = str(values.get("journey") or "")
    if journey not in REGISTRY:
        raise FormError(f"unknown journey {journey[:64]!r}")
    stage = str(values.get("stage") or "") or None
    if stage is not None and stage not in STAGES:
        raise FormError(f"unknown stage {stage[:30]!r}")
    raw_score = str(values.get("min_score") or "").strip()
    raw_ids = [v.strip() for v in str(values.get("contact_ids") or "").split(",") if v.strip()]
    try:
        min_score = float(raw_score) if raw_score else None
        ids = tuple(int(v) for v in raw_ids)
    except ValueError as err:
        raise FormError("min score must be a number and contact ids whole numbers") from err
    if (min_score is not None and not 0 <= min_score <= 1e6) or any(not 1 <= i < 2**63 for i in ids):
        raise FormError("min score or a contact id is out of range")
    if len(ids) > 10_000:
        raise FormError("at most 10,000 contact ids")
    reason = str(values.get("reason") or "").strip()[:500]
    return action, bulk.BulkAudience(journey, stage, min_score, ids), reason


def _recent(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(BULK_OPERATION).order_by(BULK_OPERATION.c.id.desc()).limit(20)).mappings().all()
    return [dict(r) for r in rows]


def _form_page(
    request: Request, user: store.SignedIn, form: dict[str, Any], recent: list[dict[str, Any]], **values: Any
) -> HTMLResponse:
    return page(
        request,
        "bulk.html",
        user,
        form=form,
        recent=recent,
        journeys=sorted(REGISTRY),
        stages=STAGES,
        actions=[a.value for a in BulkAction],
        **values,
    )


@router.get("/bulk", response_class=HTMLResponse)
async def bulk_page(request: Request, user: store.SignedIn = Depends(signed_in)) -> HTMLResponse:
    q = request.query_params
    form = {k: q.get(k) for k in q}
    recent = await in_transaction(request, _recent)
    if not q.get("preview"):
        return _form_page(request, user, form, recent)
    try:
        _, audience, _ = audience_of(q)
    except FormError as err:
        return _form_page(request, user, form, recent, error=str(err), status_code=422)
    seen = await in_transaction(request, lambda conn: bulk.preview(conn, audience))
    return _form_page(request, user, form, recent, preview=seen)


def _nudge(request: Request) -> None:
    runner: ConsoleBackground | None = request.app.state.console_background
    if runner is not None:
        runner.nudge()


@router.post("/bulk")
async def start_bulk(request: Request, user: store.SignedIn = Depends(signed_in)) -> Response:
    form = await checked_form(request, user)
    try:
        action, audience, reason = audience_of(form)
        if not reason:
            raise FormError("say why: the reason is kept with every journey it changes")
    except FormError as err:
        recent = await in_transaction(request, _recent)
        return _form_page(request, user, dict(form), recent, error=str(err), status_code=422)
    now, by = utcnow(), f"console:{user.username}"
    operation_id = await in_transaction(request, lambda conn: bulk.create(conn, action, audience, reason, by, now))
    detail = {"audience": audience.as_dict(), "reason": reason}
    await db(request, lambda s: store.audit(s, user.username, f"bulk.{action}", f"bulk:{operation_id}", detail, now))
    _nudge(request)
    return RedirectResponse(f"{PREFIX}/bulk/{operation_id}", status_code=303)


async def _operation(request: Request, operation_id: int) -> tuple[dict[str, Any], bulk.Progress]:
    def read(conn: Connection) -> tuple[dict[str, Any], bulk.Progress]:
        row = conn.execute(select(BULK_OPERATION).where(BULK_OPERATION.c.id == operation_id)).mappings().one_or_none()
        if row is None:
            raise LookupError(operation_id)
        return dict(row), bulk.progress(conn, operation_id)

    try:
        return await in_transaction(request, read)
    except LookupError as err:
        raise ApiError(404, f"no bulk operation {operation_id}") from err


@router.get("/bulk/{operation_id}", response_class=HTMLResponse)
async def operation_page(
    request: Request, operation_id: int = Path(ge=1, le=2**63 - 1), user: store.SignedIn = Depends(signed_in)
) -> HTMLResponse:
    op, progress = await _operation(request, operation_id)
    trail = await db(request, lambda s: store.audit_trail(s, f"bulk:{operation_id}"))
    return page(request, "bulk_operation.html", user, op=op, progress=progress, percent=_percent(progress), trail=trail)


def _percent(progress: bulk.Progress) -> int:
    return 100 if progress.finished else (round(100 * progress.done / progress.total) if progress.total else 0)


@router.get("/bulk/{operation_id}/progress")
async def operation_progress(
    request: Request, operation_id: int = Path(ge=1, le=2**63 - 1), user: store.SignedIn = Depends(signed_in)
) -> JSONResponse:
    """What the page's bar polls: done out of total, the state, whether it finished."""
    _, progress = await _operation(request, operation_id)
    return JSONResponse(
        {
            "percent": _percent(progress),
            "state": progress.state,
            "done": progress.done,
            "total": progress.total,
            "finished": progress.finished,
        }
    )


@router.post("/bulk/{operation_id}/continue")
async def continue_operation(
    request: Request, operation_id: int = Path(ge=1, le=2**63 - 1), user: store.SignedIn = Depends(signed_in)
) -> Response:
    await checked_form(request, user)
    await _operation(request, operation_id)
    _nudge(request)
    now = utcnow()
    await db(request, lambda s: store.audit(s, user.username, "bulk.continue", f"bulk:{operation_id}", {}, now))
    return RedirectResponse(f"{PREFIX}/bulk/{operation_id}", status_code=303)
