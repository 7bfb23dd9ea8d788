"""Pause, resume and cancel take effect within seconds: nothing is signalled while paused, delivery picks
up where it stopped, and after a cancel nothing more goes out."""

from __future__ import annotations

import asyncio

from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from nurture.broadcasts.service import DeliveryOptions
from nurture.db import Broadcast
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker

N = 60
RATE = 8.0  # signals/s: the whole audience would take about 7 s


async def test_pause_resume_and_cancel_take_effect_within_seconds(rig: Rig) -> None:
    rig.options = DeliveryOptions(chunk_seconds=1.0, settle_seconds=10, confirm_seconds=5)
    contacts = [rig.contact("homeowner", ["mowers"]) for _ in range(N)]
    audience = Audience(journeys=["b2c_cultivation"], contact_ids=contacts)
    loop = asyncio.get_running_loop()

    async with worker(rig):
        for cid in contacts:
            await rig.enroll(cid, "b2c_cultivation")
        await rig.visible(audience, N)
        # A launch about automation software: every homeowner's journey skips it (cheap to act on).
        created = await rig.svc.create(
            BroadcastCreate(
                item_id="bc-mobile-approvals", audience=audience, rate_per_second=RATE, id=f"prc-{rig.base}"
            ),
            "t",
        )
        await rig.svc.start(created.id, "t")
        await rig.until(lambda: _signalled(rig, created.id, at_least=5), what="the first signals")

        asked = loop.time()
        paused = await rig.svc.control(created.id, "pause", "t")
        assert paused.state == "paused"
        assert loop.time() - asked < 3.0
        await asyncio.sleep(1.5)
        held = (await rig.svc.status(created.id)).signalled
        assert held < N
        assert len(rig.deliveries(created.id)) <= held

        resumed = await rig.svc.control(created.id, "resume", "t")
        assert resumed.state == "running"
        await rig.until(lambda: _signalled(rig, created.id, at_least=held + 5), what="signals after resume")

        asked = loop.time()
        cancelled = await rig.svc.control(created.id, "cancel", "t")
        assert cancelled.state == "cancelled"
        assert loop.time() - asked < 3.0
        final = cancelled.signalled
        assert held < final < N
        await asyncio.sleep(1.5)
        after = await rig.svc.status(created.id)
        assert (after.state, after.signalled) == ("cancelled", final)
        # Every journey that was signalled still reports (skipped here); none that was not.
        await rig.until(lambda: len(rig.deliveries(created.id)) == final, what="signalled journeys to report")
        assert {o for o, _ in rig.deliveries(created.id).values()} == {"skipped"}
        with session_scope(rig.engine) as s:
            row = s.get(Broadcast, created.id)
            assert row is not None
            assert row.state == "cancelled"
            assert row.finished_at is not None
            assert row.counts["signalled"] == final


async def _signalled(rig: Rig, broadcast_id: str, at_least: int) -> bool:
    return (await rig.svc.status(broadcast_id)).signalled >= at_least
