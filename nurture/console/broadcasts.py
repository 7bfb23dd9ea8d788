"""Broadcast pages: compose (pick an item, choose the audience), preview the count, a sample and the content
rendered for a sample contact, create, start, watch progress, pause/resume/cancel, and the audit trail.

Every action goes through `nurture.broadcasts.service.BroadcastService` (the CLI and the HTTP door use the same
one); the console adds who did it (`console:<user>`) and its own audit rows, with the rendered sample.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import ImmutableMultiDict
from temporalio.service import RPCError

from nurture.api.errors import ApiError
from nurture.broadcasts.audience import PHASES, Audience
from nurture.broadcasts.models import (
    KINDS,
    AudiencePreview,
    BroadcastConflictError,
    BroadcastCreate,
    BroadcastError,
    BroadcastNotFoundError,
    BroadcastStatus,
)
from nurture.broadcasts.service import BroadcastService, DeliveryOptions
from nurture.broadcasts.written import WrittenContent, written
from nurture.clock import utcnow
from nurture.console import store
from nurture.console.compose import RenderedSample, broadcast_items, render_sample
from nurture.console.web import PREFIX, checked_form, ctx_of, db, page, signed_in
from nurture.db import Contact
from nurture.db.broadcast_content import written_item
from workflows.dsl import REGISTRY, STAGES, ContentItem, find_item
from workflows.dsl.content import TEMPLATE_FIELDS, written_item_id

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
ACTIONS = ("start", "pause", "resume", "cancel")
TEMPORAL_DOWN = (RPCError, RuntimeError)  # a refusal, or a client that cannot connect at all


def _down(err: Exception) -> str:
    return err.message if isinstance(err, RPCError) else str(err)[:200]


def service(request: Request) -> BroadcastService:
    ctx = ctx_of(request)
    options: DeliveryOptions | None = getattr(request.app.state, "console_delivery_options", None)
    return BroadcastService(ctx.settings, ctx.engine, ctx.client, options)


def _list(values: Any, name: str) -> list[str]:
    raw = values.getlist(name) if hasattr(values, "getlist") else values.get(name, [])
    raw = [raw] if isinstance(raw, str) else list(raw or [])
    return [v.strip() for item in raw for v in str(item).split(",") if v.strip()]


def audience_from(values: Any) -> Audience:
    """The audience form (query string or posted form) as an `Audience`; blanks do not filter."""

    def number(name: str) -> float | None:
        v = str(values.get(name) or "").strip()
        return float(v) if v else None

    try:
        return Audience(
            journeys=_list(values, "journeys"),
            stages=_list(values, "stages"),
            personas=_list(values, "personas"),
            topics=_list(values, "topics"),
            phases=_list(values, "phases"),
            min_score=number("min_score"),
            max_score=number("max_score"),
            contact_ids=[int(c) for c in _list(values, "contact_ids")],
        )
    except (ValueError, ValidationError) as err:
        raise BroadcastError(f"audience: {err}") from err


def content_of(values: Any) -> tuple[ContentItem, WrittenContent | None]:
    """The chosen catalog item, or the content the marketer wrote (subject and body) with its checked fields."""
    item_id = str(values.get("item_id") or "")
    subject, body = str(values.get("subject") or ""), str(values.get("body") or "")
    if item_id:
        item = find_item(item_id)
        if item is None:
            raise BroadcastError(f"unknown content item {item_id!r}")
        return item, None
    if not subject.strip() or not body.strip():
        raise BroadcastError("pick a catalog item, or write a subject and a body")
    try:
        content = WrittenContent(subject=subject, body=body)
        kind = str(values.get("kind") or "announcement")
        if kind not in KINDS:
            raise BroadcastError(f"unknown kind {kind!r}")
        item = written(content, written_item_id("draft"), kind)
        return replace(item, topics=frozenset(_list(values, "content_topics"))), content
    except (ValueError, ValidationError) as err:
        raise BroadcastError(str(err)) from err


async def _sample(request: Request, preview: AudiencePreview, item: ContentItem | None) -> RenderedSample | None:
    first = next((p for p in preview.sample if p.contact_id is not None), None)
    if item is None or first is None or first.contact_id is None:
        return None
    contact_id, journey = first.contact_id, first.journey or ""
    contact = await db(request, lambda s: s.get(Contact, contact_id))
    return None if contact is None else render_sample(ctx_of(request).settings, contact, item, journey)


def _compose(request: Request, user: store.SignedIn, form: Any, **values: Any) -> HTMLResponse:
    return page(
        request,
        "broadcasts.html",
        user,
        items=broadcast_items(),
        journeys=sorted(REGISTRY),
        stages=STAGES,
        phases=PHASES,
        fields=sorted(TEMPLATE_FIELDS),
        kinds=KINDS,
        form=form,
        **values,
    )


@router.get("/broadcasts", response_class=HTMLResponse)
async def broadcasts_page(request: Request, user: store.SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The list and the compose form; `?preview=1` with the form's fields shows count, sample and rendering."""
    svc, q = service(request), request.query_params
    recent = await svc.list(50)
    form = {k: q.getlist(k) if len(q.getlist(k)) > 1 else q.get(k) for k in q}
    if not q.get("preview"):
        return _compose(request, user, form, recent=recent)
    try:
        item, _ = content_of(q)
        preview = await svc.preview(audience_from(q), sample=5)
    except BroadcastError as err:
        return _compose(request, user, form, recent=recent, error=str(err), status_code=422)
    except TEMPORAL_DOWN as err:
        return _compose(
            request, user, form, recent=recent, error=f"Temporal unavailable: {_down(err)}", status_code=503
        )
    sample = await _sample(request, preview, item)
    return _compose(request, user, form, recent=recent, preview=preview, rendered=sample, item=item)


@router.post("/broadcasts")
async def create_broadcast(request: Request, user: store.SignedIn = Depends(signed_in)) -> Response:
    form = await checked_form(request, user)
    svc, values = (
        service(request),
        ImmutableMultiDict([(k, v) for k, vs in form.items() for v in (vs if isinstance(vs, list) else [vs])]),
    )
    item_id = str(values.get("item_id") or "")
    try:
        audience = audience_from(values)
        item, content = content_of(values)
        preview = await svc.preview(audience, sample=5)
        sample = await _sample(request, preview, item)
        request_ = BroadcastCreate(
            item_id=item_id,
            content=content,
            audience=audience,
            kind=item.kind if content else None,
            topics=sorted(item.topics) if content else None,
        )
        created = await svc.create(request_, f"console:{user.username}")
    except (BroadcastError, ValidationError) as err:
        recent = await svc.list(50)
        return _compose(request, user, dict(form), recent=recent, error=str(err), status_code=422)
    except TEMPORAL_DOWN as err:
        recent = await svc.list(50)
        message = f"Temporal unavailable, nothing was created: {_down(err)}"
        return _compose(request, user, dict(form), recent=recent, error=message, status_code=503)
    detail: dict[str, Any] = {"item_id": created.item_id, "audience": created.audience, "audience_count": preview.count}
    if content is not None:
        detail["written"] = {"subject": content.subject, "body": content.body}
    if sample is not None:
        detail["rendered_for_contact"] = sample.contact_id
        detail["subject"], detail["text"], detail["html"] = sample.subject, sample.text, sample.html
    now = utcnow()
    await db(
        request, lambda s: store.audit(s, user.username, "broadcast.created", f"broadcast:{created.id}", detail, now)
    )
    return RedirectResponse(f"{PREFIX}/broadcasts/{created.id}", status_code=303)


async def _status(request: Request, broadcast_id: str) -> BroadcastStatus:
    try:
        return await service(request).status(broadcast_id)
    except BroadcastNotFoundError as err:
        raise ApiError(404, str(err)) from err
    except TEMPORAL_DOWN as err:
        raise ApiError(503, f"Temporal unavailable: {_down(err)}; retry in a moment") from err


def progress_of(st: BroadcastStatus) -> dict[str, Any]:
    """What the progress bar shows: journeys dealt with out of the audience, and what they did."""
    total = st.total
    percent = (
        100
        if st.finished and st.state == "completed"
        else (min(100, round(100 * st.delivered / total)) if total else 0)
    )
    return {
        "state": st.state,
        "phase": st.phase,
        "total": total,
        "delivered": st.delivered,
        "percent": percent,
        "acted": st.acted,
        "skipped": st.skipped,
        "failed": st.failed,
        "finished": st.finished,
        "outcomes": st.outcomes,
    }


@router.get("/broadcasts/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(
    request: Request, broadcast_id: str = ID, user: store.SignedIn = Depends(signed_in)
) -> HTMLResponse:
    st = await _status(request, broadcast_id)
    trail = await db(request, lambda s: store.audit_trail(s, f"broadcast:{broadcast_id}"))
    created = next((a for a in reversed(trail) if a.action == "broadcast.created"), None)
    return page(
        request,
        "broadcast.html",
        user,
        st=st,
        progress=progress_of(st),
        trail=trail,
        created=created,
        item=find_item(st.broadcast.item_id) or await db(request, lambda s: written_item(s, st.broadcast.item_id)),
        error=request.query_params.get("error", ""),
    )


@router.get("/broadcasts/{broadcast_id}/progress")
async def broadcast_progress(
    request: Request, broadcast_id: str = ID, user: store.SignedIn = Depends(signed_in)
) -> JSONResponse:
    return JSONResponse(progress_of(await _status(request, broadcast_id)))


@router.post("/broadcasts/{broadcast_id}/{action}")
async def control_broadcast(
    request: Request,
    broadcast_id: str = ID,
    action: str = Path(pattern="^(start|pause|resume|cancel)$"),
    user: store.SignedIn = Depends(signed_in),
) -> Response:
    await checked_form(request, user)
    svc, by = service(request), f"console:{user.username}"
    error = ""
    try:
        if action == "start":
            await svc.start(broadcast_id, by)
        else:
            await svc.control(broadcast_id, action, by)
    except BroadcastNotFoundError as err:
        raise ApiError(404, str(err)) from err
    except (BroadcastConflictError, BroadcastError) as err:
        error = str(err)
    except TEMPORAL_DOWN as err:
        error = f"Temporal unavailable: {_down(err)}"
    now, detail = utcnow(), {"refused": error} if error else {}

    def record(s: Session) -> None:
        store.audit(s, user.username, f"broadcast.{action}", f"broadcast:{broadcast_id}", detail, now)

    await db(request, record)
    suffix = "?" + urlencode({"error": error[:300]}) if error else ""
    return RedirectResponse(f"{PREFIX}/broadcasts/{broadcast_id}{suffix}", status_code=303)
