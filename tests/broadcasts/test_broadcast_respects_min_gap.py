"""A contact who got a drop yesterday gets the broadcast deferred, not lost: it goes out when the minimum
gap (3 days) has passed, and not a moment before."""

from __future__ import annotations

from datetime import timedelta

from nurture import temporal_names, workflow_ids
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from nurture.clock import utcnow
from nurture.db import Touch, TouchStatus
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, rig_settings, worker
from workflows.payloads import JourneyStatus

ITEM = "bc-einvoicing-2027"
SCALE = 43200.0  # one journey day = 2 s: yesterday was 2 s ago, and the 3-day gap lasts 6 s
DAY = timedelta(days=1) / SCALE


async def test_broadcast_within_the_gap_is_deferred_then_sent_when_the_gap_has_passed(rig: Rig) -> None:
    settings = rig_settings(rig.settings.task_queue, min_gap_between_drops=timedelta(days=3))
    contact = rig.contact("finance-lead", ["compliance"])
    yesterday = utcnow() - DAY
    with session_scope(rig.engine) as s:  # yesterday's drop, from another journey
        s.add(
            Touch(
                idempotency_key=f"journey/b2c_cultivation/contact-{contact}:b2c-autumn-lawn",
                contact_id=contact,
                journey="b2c_cultivation",
                workflow_id=f"journey/b2c_cultivation/contact-{contact}",
                step="drop 1",
                item_id="b2c-autumn-lawn",
                sender="outbox",
                status=TouchStatus.SENT,
                created_at=yesterday,
                sent_at=yesterday,
            )
        )
    audience = Audience(contact_ids=[contact])

    async with worker(rig):
        await rig.enroll(contact, "b2b_drip", settings=settings, time_scale=SCALE)
        await rig.visible(audience, 1)
        created = await rig.svc.create(BroadcastCreate(item_id=ITEM, audience=audience, id=f"gap-{rig.base}"), "t")
        await rig.svc.start(created.id, "t")

        status = await rig.until(lambda: rig.finished(created.id), within=15, what="the broadcast to finish")
        outcome, reason = rig.deliveries(created.id)[contact]
        assert (outcome, status.acted, status.outcomes["deferred"]) == ("deferred", 1, 1)
        assert reason.startswith("minimum gap: last drop at ") and "; due " in reason  # names the rule
        assert rig.sent_touches([contact], broadcast_id=created.id) == []
        handle = rig.client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", contact))
        assert (await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)).pending_broadcasts == 1

        # Not lost: it goes out once the gap since yesterday's drop has passed, and the delivery says so.
        await rig.until(lambda: rig.deliveries(created.id)[contact][0] == "dropped", within=15, what="the drop")
        [touch] = rig.sent_touches([contact], broadcast_id=created.id)
        assert touch.item_id == ITEM
        assert touch.sent_at is not None
        assert touch.sent_at - yesterday >= 3 * DAY
        journey = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert journey.pending_broadcasts == 0
        assert journey.handled_broadcasts == [created.id]
        assert (await rig.svc.status(created.id)).outcomes["dropped"] == 1
