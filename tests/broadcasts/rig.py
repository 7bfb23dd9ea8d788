"""A broadcast test rig: contacts in a real database, real journeys on the dev server, the real worker.

The dev server is shared by the whole session, so every rig gives its contacts ids from its own range
(journey workflow ids are made of contact ids) and terminates the journeys it started when it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from nurture.broadcasts.audience import Audience, count
from nurture.broadcasts.models import BroadcastStatus
from nurture.broadcasts.service import BroadcastService, DeliveryOptions
from nurture.clock import utcnow
from nurture.config import Settings
from nurture.db import BroadcastDelivery, Contact, ContactStatus, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.journey_client import enroll
from tests.fixtures.measurement import next_treated
from workers.journey_worker import build_worker

_ranges = itertools.count((1 + uuid.uuid4().int % 1000) * 1_000_000, 10_000)  # fresh per session


def rig_settings(task_queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "task_queue": task_queue,
        "min_gap_between_drops": timedelta(seconds=1),
        "tracking_secret": SecretStr("test-tracking-secret-broadcasts"),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Rig:
    client: Client
    engine: Engine
    settings: Settings
    options: DeliveryOptions = field(default_factory=lambda: DeliveryOptions(settle_seconds=20, confirm_seconds=5))
    base: int = field(default_factory=lambda: next(_ranges))
    started: list[str] = field(default_factory=list)
    _n: int = 0

    @property
    def svc(self) -> BroadcastService:
        return BroadcastService(self.settings, self.engine, self.client, self.options)

    def contact(self, persona: str, topics: list[str], status: str = ContactStatus.ACTIVE) -> int:
        self._n += 1
        cid = next_treated(self.base + self._n)  # worker subprocesses hold out a tenth of b2b_drip's contacts
        self._n = cid - self.base
        now = utcnow()
        with session_scope(self.engine) as s:
            s.add(
                Contact(
                    id=cid,
                    email=f"c{cid}@example.com",
                    first_name=f"C{self._n}",
                    persona=persona,
                    topics=topics,
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
            )
        return cid

    async def enroll(
        self, contact_id: int, journey: str, *, settings: Settings | None = None, time_scale: float = 2.0
    ) -> str:
        """Start the journey; any compression skips send windows (business hours would hold the test up)."""
        done = await enroll(
            self.client, self.engine, settings or self.settings, contact_id, journey, time_scale=time_scale
        )
        self.started.append(done.workflow_id)
        return done.workflow_id

    def suppress(self, contact_id: int, reason: str = "unsubscribe") -> None:
        with session_scope(self.engine) as s:
            contact = s.get(Contact, contact_id)
            assert contact is not None
            contact.status, contact.suppressed_reason, contact.suppressed_at = (
                ContactStatus.SUPPRESSED,
                reason,
                utcnow(),
            )

    async def until(
        self, check: Callable[[], Any], within: float = 15.0, what: str = "condition", every: float = 0.1
    ) -> Any:
        """Poll `check` (sync or async) until it returns something truthy."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            got = check()
            if asyncio.iscoroutine(got):
                got = await got
            if got:
                return got
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {within} s waiting for {what}")
            await asyncio.sleep(every)

    async def visible(self, audience: Audience, n: int) -> None:
        """Visibility is eventually consistent: wait until the audience query sees `n` journeys."""
        query = audience.to_query()

        async def seen() -> bool:
            return await count(self.client, query) == n

        await self.until(seen, what=f"{n} journeys visible to {query}")

    async def finished(self, broadcast_id: str) -> BroadcastStatus | None:
        st = await self.svc.status(broadcast_id)
        return st if st.finished else None

    def sent_touches(self, contact_ids: list[int] | None = None, broadcast_id: str | None = None) -> list[Touch]:
        with session_scope(self.engine) as s:
            q = select(Touch).where(col(Touch.status).in_([TouchStatus.SENT, TouchStatus.UNCONFIRMED]))
            if contact_ids is not None:
                q = q.where(col(Touch.contact_id).in_(contact_ids))
            if broadcast_id is not None:
                q = q.where(Touch.broadcast_id == broadcast_id)
            return list(s.exec(q.order_by(col(Touch.id))).all())

    def deliveries(self, broadcast_id: str) -> dict[int, tuple[str, str]]:
        """contact id -> (outcome, reason)."""
        with session_scope(self.engine) as s:
            rows = s.exec(select(BroadcastDelivery).where(BroadcastDelivery.broadcast_id == broadcast_id)).all()
            assert len({r.workflow_id for r in rows}) == len(rows)
            return {r.contact_id: (r.outcome, r.reason) for r in rows}

    async def cleanup(self) -> None:
        for workflow_id in self.started:
            with contextlib.suppress(RPCError):
                handle = self.client.get_workflow_handle(workflow_id)
                if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                    await handle.terminate("test over")


@contextlib.asynccontextmanager
async def worker(rig: Rig) -> AsyncIterator[None]:
    """The real worker (every workflow, the real activities with the dev outbox sender), in this process."""
    async with build_worker(rig.client, rig.settings, rig.engine, task_queue=rig.settings.task_queue):
        yield


def gap_respected(touches: list[Touch], gap: timedelta) -> bool:
    times: list[datetime] = sorted(t.sent_at or t.created_at for t in touches)
    return all(b - a >= gap for a, b in itertools.pairwise(times))
