"""The one implementation of broadcasts behind both doors (CLI and HTTP): create, preview, start, status,
pause, resume, cancel, list.

The Broadcast row is the audit record (who, when, audience, content, counts); the BroadcastWorkflow does
the delivery and keeps the row's state and counts current; journeys write one BroadcastDelivery each.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from nurture import temporal_names, workflow_ids
from nurture.broadcast_state import FINAL_STATES
from nurture.broadcasts import audience as aud
from nurture.broadcasts import paced, run, store
from nurture.broadcasts.models import (
    KINDS,
    AudiencePreview,
    BroadcastConflictError,
    BroadcastCreate,
    BroadcastNotFoundError,
    BroadcastPublic,
    BroadcastStatus,
    InvalidBroadcastError,
    PreviewContact,
    ReasonCount,
)
from nurture.broadcasts.options import DeliveryOptions as DeliveryOptions
from nurture.broadcasts.written import WrittenContent, written_draft
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import Broadcast, BroadcastState
from nurture.db.broadcast_content import BroadcastContent
from nurture.db.engine import session_scope
from nurture.logging import get_logger
from workflows import dsl
from workflows.broadcast_payloads import BroadcastInput
from workflows.payloads import BroadcastNotice

log = get_logger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

CONTROL = {
    "pause": (temporal_names.SIGNAL_PAUSE, "paused"),
    "resume": (temporal_names.SIGNAL_RESUME, "running"),
    "cancel": (temporal_names.SIGNAL_CANCEL, "cancelled"),
}


class BroadcastService:
    """Broadcast use cases over the database and a Temporal client. Stateless: build one per request."""

    def __init__(
        self, settings: Settings, engine: Engine, client: Client, options: DeliveryOptions | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.client = client
        self.options = options or DeliveryOptions()

    # ---- create and preview -----------------------------------------------------------------------------

    async def create(self, req: BroadcastCreate, created_by: str) -> BroadcastPublic:
        """Validate content and audience (the server checks the query), then store a draft."""
        if req.content is not None:
            return await self._create_written(req, req.content, created_by)
        item = dsl.find_item(req.item_id)
        if item is None:
            known = ", ".join(i.id for i in dsl.CATALOGS["broadcasts"].items) if "broadcasts" in dsl.CATALOGS else ""
            raise InvalidBroadcastError(f"unknown content item {req.item_id!r}; broadcast items: {known}")
        kind = req.kind or (item.kind if item.kind in KINDS else "announcement")
        broadcast_id = req.id or _generated_id(item.id)
        return await self._insert(req, item, kind, broadcast_id, created_by, None)

    async def _create_written(self, req: BroadcastCreate, content: WrittenContent, created_by: str) -> BroadcastPublic:
        """A broadcast whose content the marketer wrote: stored with it, dropped as `broadcast:<id>`."""
        kind = req.kind or "announcement"
        broadcast_id = req.id or _generated_id("written")
        try:
            item, row = written_draft(content, broadcast_id, kind, created_by)
        except ValueError as err:
            raise InvalidBroadcastError(str(err)) from err
        return await self._insert(req, item, kind, broadcast_id, created_by, row)

    async def _insert(
        self,
        req: BroadcastCreate,
        item: dsl.ContentItem,
        kind: str,
        broadcast_id: str,
        created_by: str,
        content: BroadcastContent | None,
    ) -> BroadcastPublic:
        if kind not in KINDS:
            raise InvalidBroadcastError(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
        if len(item.id) > 64:
            raise InvalidBroadcastError("broadcast id: at most 54 characters for written content")
        try:
            workflow_ids.check_key(broadcast_id, "broadcast id")
        except ValueError as err:
            raise InvalidBroadcastError(str(err)) from err
        query = self._query(req.audience)
        count = await self._count(query)
        row = Broadcast(
            id=broadcast_id,
            kind=kind,
            item_id=item.id,
            topics=sorted(item.topics) if req.topics is None else list(req.topics),
            audience=req.audience.model_dump(exclude_defaults=True),
            audience_query=query,
            rate_per_second=req.rate_per_second,
            state=BroadcastState.DRAFT,
            created_by=created_by,
            created_at=utcnow(),
            counts={"audience_at_create": count},
        )
        try:
            await self._db(store.insert, row, content)
        except IntegrityError as err:
            raise BroadcastConflictError(f"broadcast {broadcast_id} already exists") from err
        log.info("broadcast.created", broadcast_id=broadcast_id, item_id=item.id, audience=count, by=created_by)
        return BroadcastPublic.of(row)

    async def preview(self, audience: aud.Audience, sample: int = 10) -> AudiencePreview:
        """How many running journeys match, and a sample of them with their contacts; nothing is sent."""
        query = self._query(audience)
        count = await self._count(query)
        try:
            listed = await aud.sample(self.client, query, sample) if sample > 0 else []
        except aud.InvalidAudienceError as err:
            raise InvalidBroadcastError(str(err)) from err
        contacts = await self._db(store.contacts_by_id, [x.contact_id for x in listed if x.contact_id is not None])
        rows = []
        for x in listed:
            contact = contacts.get(x.contact_id) if x.contact_id is not None else None
            rows.append(
                PreviewContact(
                    workflow_id=x.workflow_id,
                    contact_id=x.contact_id,
                    journey=x.journey,
                    stage=x.stage,
                    persona=x.persona,
                    lead_score=x.lead_score,
                    email=contact.email if contact else None,
                    name=f"{contact.first_name} {contact.last_name}".strip() if contact else None,
                    status=contact.status if contact else None,
                )
            )
        return AudiencePreview(description=audience.describe(), query=query, count=count, sample=rows)

    async def preview_broadcast(self, broadcast_id: str, sample: int = 10) -> AudiencePreview:
        row = await self._row(broadcast_id)
        return await self.preview(aud.Audience.model_validate(row.audience), sample)

    # ---- delivery ---------------------------------------------------------------------------------------

    async def start(self, broadcast_id: str, started_by: str, concurrency: int | None = None) -> BroadcastStatus:
        """Start delivery (idempotent: a running broadcast is left running and its status returned)."""
        row = await self._row(broadcast_id)
        if row.state in FINAL_STATES:
            raise BroadcastConflictError(f"broadcast {broadcast_id} is {row.state}: a broadcast runs once")
        if concurrency is not None and not 1 <= concurrency <= 1000:
            raise InvalidBroadcastError("concurrency must be between 1 and 1000")
        opts = self.options
        inp = BroadcastInput(
            broadcast_id=row.id,
            notice=BroadcastNotice(row.id, row.kind, row.item_id, list(row.topics)),
            query=row.audience_query,
            rate_per_second=row.rate_per_second,
            concurrency=concurrency or opts.concurrency,
            page_size=opts.page_size,
            chunk_seconds=opts.chunk_seconds,
            settle_seconds=opts.settle_seconds,
            max_unreported=opts.max_unreported,
        )
        try:
            handle = await run.start_workflow(self.client, self.settings.task_queue, row, inp)
        except WorkflowAlreadyStartedError as err:  # closed without recording it (e.g. terminated)
            raise BroadcastConflictError(f"broadcast {broadcast_id} already ran: a broadcast runs once") from err
        if row.state == BroadcastState.DRAFT:
            await self._db(store.mark_started, row.id, started_by, utcnow())
            log.info("broadcast.started", broadcast_id=row.id, by=started_by, run_id=handle.first_execution_run_id)
        return await self.status(row.id)

    async def control(self, broadcast_id: str, action: str, by: str) -> BroadcastStatus:
        """pause | resume | cancel; returns the status once the workflow confirms it (a few seconds at most).

        A pause or cancel is confirmed when the chunk of signals in flight has ended: nothing more goes out.
        """
        signal, wanted = CONTROL[action]
        row = await self._row(broadcast_id)
        if row.state == BroadcastState.DRAFT:
            if action != "cancel":
                raise BroadcastConflictError(f"broadcast {broadcast_id} has not started")
            await self._db(store.mark_cancelled, row.id, utcnow())
            log.info("broadcast.cancelled", broadcast_id=row.id, by=by, started=False)
            return await self.status(row.id)
        if row.state in FINAL_STATES:
            raise BroadcastConflictError(f"broadcast {broadcast_id} is {row.state}")
        handle = run.handle(self.client, row.id)
        try:
            await handle.signal(signal)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise BroadcastConflictError(f"broadcast {broadcast_id} is no longer running") from err
            raise
        log.info(f"broadcast.{action}_requested", broadcast_id=row.id, by=by)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.confirm_seconds
        while loop.time() < deadline:
            live = await run.live_progress(handle)
            if live is not None and (live.state == wanted or live.state in FINAL_STATES) and not live.sending:
                break
            await asyncio.sleep(0.1)
        return await self.status(row.id)

    # ---- reading ----------------------------------------------------------------------------------------

    async def status(self, broadcast_id: str) -> BroadcastStatus:
        row = await self._row(broadcast_id)
        live = None
        if row.state not in FINAL_STATES and row.state != BroadcastState.DRAFT:
            live = await run.live_progress(run.handle(self.client, row.id))
        counts: dict[str, Any] = row.counts
        state = live.state if live else row.state
        if live is None and state not in FINAL_STATES and state != BroadcastState.DRAFT:
            state = await run.closed_state(self.client, row.id) or state
        # kept while the broadcast stays in one state (`nurture.broadcasts.paced`): a new state counts afresh
        key = (row.id, state)
        outcomes = await paced.kept(self.engine, (*key, "outcomes"), lambda: self._db(store.outcome_counts, row.id))
        skips = await paced.kept(self.engine, (*key, "skips"), lambda: self._db(store.reasons, row.id, "skipped"))
        failures = (
            live.failures
            if live
            else {k.split(":", 1)[1]: int(v) for k, v in counts.items() if k.startswith("signal_failed:")}
        )
        return BroadcastStatus(
            broadcast=BroadcastPublic.of(row),
            state=state,
            phase=live.phase if live else ("done" if state in FINAL_STATES else "-"),
            total=live.total if live else int(counts.get("total", counts.get("audience_at_create", 0))),
            signalled=live.signalled if live else int(counts.get("signalled", 0)),
            late=live.late if live else int(counts.get("late", 0)),
            suppressed=live.suppressed if live else int(counts.get("suppressed", 0)),
            signal_failed=live.failed if live else int(counts.get("signal_failed", 0)),
            signal_failures=failures,
            outcomes=outcomes,
            skip_reasons=[ReasonCount(reason=r, count=n) for r, n in skips],
            live=live is not None,
        )

    async def list(self, limit: int = 50) -> list[BroadcastPublic]:
        return [BroadcastPublic.of(r) for r in await self._db(store.recent, limit)]

    # ---- helpers ----------------------------------------------------------------------------------------

    async def _db(self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """One unit of work on a thread: the event loop (HTTP door) never waits on the database."""

        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session, *args, **kwargs)

        return await asyncio.to_thread(run)

    async def _row(self, broadcast_id: str) -> Broadcast:
        row = await self._db(Session.get, Broadcast, broadcast_id)
        if row is None:
            raise BroadcastNotFoundError(f"no broadcast {broadcast_id!r}")
        return row

    def _query(self, audience: aud.Audience) -> str:
        try:
            return audience.to_query()
        except aud.InvalidAudienceError as err:
            raise InvalidBroadcastError(str(err)) from err

    async def _count(self, query: str) -> int:
        try:
            return await aud.count(self.client, query)
        except aud.InvalidAudienceError as err:
            raise InvalidBroadcastError(str(err)) from err


def _generated_id(item_id: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", item_id.lower()).strip("-")[:40] or "broadcast"
    return f"{slug}-{utcnow():%Y%m%d}-{secrets.token_hex(3)}"
