"""The bare floor's activity and driver for `bench.broadcast_fanout` (see `bench.broadcast_floor_workflow`).

The local activity writes what a nurture journey's broadcast drop writes through the dev outbox sender, in the
two transactions any at-most-once sender needs (the claim committed before the provider is called):

1. the contact row locked (`UPDATE contact`), the touch looked up by its key (a retried attempt reuses its claim)
   and claimed as `sending`;
2. the outbox row (the item's subject and body, ids in the headers and custom args), the touch settled `sent`,
   the contact's `updated_at`, and the `BroadcastDelivery` row saying `dropped`.

Core SQL, no rendering, no reads beyond the claim's own: nurture's extra reads (suppression, the gap, caps,
quiet time, duplicates) and its rendering are part of what the floor measures it against.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.client import Client

from bench.broadcast_floor_workflow import FLOOR_ACTIVITY, FLOOR_WORKFLOW, FloorActInput, FloorInput
from nurture import temporal_names
from nurture.clock import utcnow
from nurture.db.tables import BROADCAST_DELIVERY, CONTACT, OUTBOX_EMAIL, TOUCH
from workflows.dsl import find_item
from workflows.payloads import BroadcastNotice


def floor_workflow_id(contact_id: int) -> str:
    return f"bench-floor/contact-{contact_id}"


class FloorActivity:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=FLOOR_ACTIVITY)
    def act(self, inp: FloorActInput) -> None:
        item = find_item(inp.item_id)
        subject, body = (item.subject, item.body) if item is not None else (inp.item_id, "")
        key = f"{inp.workflow_id}:{inp.item_id}"
        with self._engine.begin() as conn:
            conn.execute(update(CONTACT).where(CONTACT.c.id == inp.contact_id).values(updated_at=CONTACT.c.updated_at))
            # idempotent, as any local activity must be (a workflow task that timed out runs it again): an
            # earlier attempt's claim is reused, a finished one is the answer
            found = conn.execute(select(TOUCH.c.id, TOUCH.c.status).where(TOUCH.c.idempotency_key == key)).first()
            if found is not None and found.status == "sent":
                return
            touch_id = (
                found.id
                if found is not None
                else conn.execute(
                    insert(TOUCH)
                    .values(
                        idempotency_key=key,
                        contact_id=inp.contact_id,
                        journey="bench-floor",
                        workflow_id=inp.workflow_id,
                        step=f"broadcast {inp.broadcast_id}",
                        item_id=inp.item_id,
                        broadcast_id=inp.broadcast_id,
                        channel="email",
                        sender="outbox",
                        status="sending",
                        reason="broadcast",
                        created_at=inp.now,
                        claimed_at=utcnow(),
                        attempts=1,
                        variants={},
                    )
                    .returning(TOUCH.c.id)
                ).scalar_one()
            )
        ids = {"contact_id": str(inp.contact_id), "touch_id": str(touch_id), "item_id": inp.item_id}
        with self._engine.begin() as conn:
            outbox_id = conn.execute(
                insert(OUTBOX_EMAIL)
                .values(
                    touch_id=touch_id,
                    to_email=f"floor{inp.contact_id}@example.com",
                    subject=subject,
                    html=body,
                    text=body,
                    headers={"X-Touch": str(touch_id)},
                    custom_args=ids,
                    created_at=inp.now,
                )
                .returning(OUTBOX_EMAIL.c.id)
            ).scalar_one()
            conn.execute(
                update(TOUCH)
                .where(TOUCH.c.id == touch_id)
                .values(status="sent", message_id=f"outbox-{outbox_id}", sent_at=inp.now)
            )
            conn.execute(update(CONTACT).where(CONTACT.c.id == inp.contact_id).values(updated_at=inp.now))
            conn.execute(
                insert(BROADCAST_DELIVERY).values(
                    broadcast_id=inp.broadcast_id,
                    workflow_id=inp.workflow_id,
                    contact_id=inp.contact_id,
                    outcome="dropped",
                    reason=f"sent {inp.item_id}",
                    at=inp.now,
                )
            )


def floor_activities(engine: Engine) -> list[Callable[..., object]]:
    return [FloorActivity(engine).act]


async def start_floor(client: Client, task_queue: str, contact_ids: list[int]) -> None:
    slots = asyncio.Semaphore(64)

    async def one(cid: int) -> None:
        async with slots:
            await client.start_workflow(
                FLOOR_WORKFLOW,
                FloorInput(cid),
                id=floor_workflow_id(cid),
                task_queue=task_queue,
                run_timeout=timedelta(hours=6),
            )

    await asyncio.gather(*(one(c) for c in contact_ids))


def floor_acted(engine: Engine, broadcast_id: str, outcomes: tuple[str, ...] = ("dropped",)) -> int:
    with engine.connect() as conn:
        q = select(func.count()).where(
            BROADCAST_DELIVERY.c.broadcast_id == broadcast_id, BROADCAST_DELIVERY.c.outcome.in_(outcomes)
        )
        return int(conn.execute(q).scalar_one())


async def signal_floor(client: Client, contact_ids: list[int], notice: BroadcastNotice, in_flight: int = 64) -> float:
    """Signal every floor workflow (`in_flight` at once, like the broadcast's default concurrency); seconds taken."""
    slots = asyncio.Semaphore(in_flight)

    async def one(cid: int) -> None:
        async with slots:
            await client.get_workflow_handle(floor_workflow_id(cid)).signal(temporal_names.SIGNAL_BROADCAST, notice)

    t0 = time.monotonic()
    await asyncio.gather(*(one(c) for c in contact_ids))
    return time.monotonic() - t0


async def wait_floor(
    engine: Engine, broadcast_id: str, n: int, timeout: float = 3600, outcomes: tuple[str, ...] = ("dropped",)
) -> None:
    """Until `n` BroadcastDelivery rows of the broadcast have one of `outcomes` (polled every 0.1 s on a thread:
    the floor and nurture's broadcast are watched the same way)."""
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=1) as pool:
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(pool, floor_acted, engine, broadcast_id, outcomes) < n:
            if time.monotonic() > deadline:
                raise TimeoutError("gave up waiting for the floor workflows to act")
            await asyncio.sleep(0.1)
