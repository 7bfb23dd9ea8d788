"""Broadcast activities: count and list the audience, signal a chunk of journeys, record progress.

The Temporal client is injected (tests, other processes) or, by default, the worker's own client
(`activity.client()`), which is why the client-side activities are `async def`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from nurture import temporal_names, workflow_ids
from nurture.broadcasts import audience, store
from nurture.broadcasts.fanout import FanoutProgress, ReportWindow, signal_many
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db.engine import session_scope
from nurture.logging import get_logger
from workflows.broadcast_payloads import (
    AudiencePage,
    AudiencePageInput,
    BroadcastProgressInput,
    BroadcastProgressResult,
    SignalJourneysInput,
    SignalJourneysResult,
)

log = get_logger(__name__)


class BroadcastActivities:
    """Activities of `BroadcastWorkflow`. Only ids cross into Temporal; the audit row lives in the database."""

    def __init__(self, engine: Engine, client: Client | None = None) -> None:
        self._engine = engine
        self._client = client

    @property
    def client(self) -> Client:
        return self._client or activity.client()

    @activity.defn(name=temporal_names.ACTIVITY_COUNT_AUDIENCE)
    async def count_audience(self, query: str) -> int:
        try:
            return await audience.count(self.client, query)
        except audience.InvalidAudienceError as err:
            raise ApplicationError(str(err), type="InvalidAudience", non_retryable=True) from err

    @activity.defn(name=temporal_names.ACTIVITY_LIST_AUDIENCE_PAGE)
    async def list_audience_page(self, inp: AudiencePageInput) -> AudiencePage:
        try:
            return await audience.list_page(self.client, inp.query, inp.page_token, inp.page_size)
        except audience.InvalidAudienceError as err:
            raise ApplicationError(str(err), type="InvalidAudience", non_retryable=True) from err

    @activity.defn(name=temporal_names.ACTIVITY_SIGNAL_JOURNEYS)
    async def signal_journeys(self, inp: SignalJourneysInput) -> SignalJourneysResult:
        """Signal from the front of the list for at most `max_seconds`; a retry resumes at the heartbeat.

        Journeys of suppressed contacts are not signalled: they are recorded as skipped, with the reason.
        """
        details = activity.info().heartbeat_details
        resumed = FanoutProgress(**details[0]) if details else None
        if resumed is not None:
            log.info("broadcast.chunk_resumed", broadcast_id=inp.notice.broadcast_id, done=resumed.done)
        broadcast_id = inp.notice.broadcast_id
        start = resumed.done if resumed else 0
        skip = await asyncio.to_thread(self._skip_suppressed, broadcast_id, inp.workflow_ids[start:])
        window = None
        if inp.max_unreported > 0:  # a resumed attempt's window is the one its last heartbeat saved
            held = dict(details[1]) if len(details) > 1 and isinstance(details[1], dict) else inp.unreported
            window = ReportWindow(lambda ids: self._reported(broadcast_id, ids), held, inp.max_unreported)

        def heartbeat(p: FanoutProgress) -> None:
            activity.heartbeat(asdict(p), window.unreported if window is not None else {})

        progress = await signal_many(
            self.client,
            inp.workflow_ids,
            temporal_names.SIGNAL_BROADCAST,
            inp.notice,
            rate_per_second=inp.rate_per_second,
            concurrency=inp.concurrency,
            max_seconds=inp.max_seconds,
            skip=skip,
            window=window,
            start=resumed,
            on_progress=heartbeat,
        )
        if window is not None and window.stale:
            log.warning("broadcast.window_stale", broadcast_id=broadcast_id, journeys=window.stale)
        return SignalJourneysResult(
            progress.done,
            progress.signalled,
            progress.skipped,
            progress.failed,
            dict(progress.failures),
            unreported=window.unreported if window is not None else {},
        )

    def _reported(self, broadcast_id: str, workflow_ids: list[str]) -> set[str]:
        with session_scope(self._engine) as session:
            return store.reported_among(session, broadcast_id, workflow_ids)

    def _skip_suppressed(self, broadcast_id: str, targets: list[str]) -> set[str]:
        contacts = {}
        for workflow_id in targets:
            with contextlib.suppress(ValueError):  # not a journey id: let the signal say what it is
                contacts[workflow_id] = workflow_ids.parse_journey_workflow_id(workflow_id)[1]
        with session_scope(self._engine) as session:
            why = store.suppressed(session, sorted(set(contacts.values())))
            skips = [(w, c, why[c]) for w, c in contacts.items() if c in why]
            store.record_skips(session, broadcast_id, skips, utcnow())
        return {w for w, _, _ in skips}

    @activity.defn(name=temporal_names.ACTIVITY_RECORD_PROGRESS)
    def record_progress(self, inp: BroadcastProgressInput) -> BroadcastProgressResult:
        started = time.perf_counter()
        with session_scope(self._engine) as session:
            outcomes = store.record_progress(
                session, inp.broadcast_id, inp.state, inp.counts, inp.now, inp.finished, recount=inp.recount
            )
        took = time.perf_counter() - started if inp.recount else 0.0
        if inp.finished:
            log.info("broadcast.finished", broadcast_id=inp.broadcast_id, state=inp.state, **inp.counts, **outcomes)
        return BroadcastProgressResult(outcomes, count_seconds=took)


def broadcast_activities(settings: Settings, engine: Engine, client: Client | None = None) -> list[Callable[..., Any]]:
    """The broadcast workflow's activities; without `client` they use the worker's client."""
    acts = BroadcastActivities(engine, client)
    return [acts.count_audience, acts.list_audience_page, acts.signal_journeys, acts.record_progress]
