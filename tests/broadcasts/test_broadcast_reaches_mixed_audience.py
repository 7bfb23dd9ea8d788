"""A broadcast reaches every matching running journey once: relevant contacts get the drop, irrelevant ones
skip with the journey's reason, suppressed contacts get nothing; the audit row and touches record it."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from nurture import sendgrid_args, temporal_names, workflow_ids
from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from nurture.db import Broadcast, OutboxEmail
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker
from workflows.payloads import ExitRequest, JourneyStatus

ITEM = "bc-einvoicing-2027"  # a regulation explainer about topic "compliance"


async def test_regulation_broadcast_drops_to_relevant_skips_the_rest_and_spares_suppressed(rig_any_db: Rig) -> None:
    rig = rig_any_db
    finance = rig.contact("finance-lead", ["compliance", "close"])  # relevant: shares the topic
    it = rig.contact("it-lead", ["security"])  # b2b, but no shared topic
    gardener = rig.contact("homeowner", ["mowers"])  # b2c: its journey only hears garden news
    unsubscribed = rig.contact("finance-lead", ["compliance"])  # relevant, but suppressed mid-journey
    exited = rig.contact("finance-lead", ["compliance"])  # suppressed, and its journey has ended
    everyone = [finance, it, gardener, unsubscribed, exited]
    audience = Audience(contact_ids=everyone)

    async with worker(rig):
        for cid in (finance, it, unsubscribed, exited):
            await rig.enroll(cid, "b2b_drip")
        await rig.enroll(gardener, "b2c_cultivation")
        await rig.until(lambda: len(rig.sent_touches(everyone)) == 5, what="every journey's first drop")
        exit_handle = rig.client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", exited))
        await exit_handle.signal(temporal_names.SIGNAL_EXIT, ExitRequest("unsubscribe"))
        await exit_handle.result()
        rig.suppress(unsubscribed)  # its exit signal is still on the way when the broadcast comes
        await rig.visible(audience, 4)
        await asyncio.sleep(1.1)  # the minimum gap (1 s here, 0.5 s at time scale 2) since each first drop

        preview = await rig.svc.preview(audience, sample=10)
        assert preview.count == 4
        assert {s.contact_id for s in preview.sample} == {finance, it, gardener, unsubscribed}
        assert all(s.email for s in preview.sample)

        created = await rig.svc.create(
            BroadcastCreate(item_id=ITEM, audience=audience, id=f"mixed-{rig.base}"), "cli:marketer"
        )
        assert (created.kind, created.topics, created.state) == ("regulation", ["compliance"], "draft")
        await rig.svc.start(created.id, "cli:marketer")
        status = await rig.until(lambda: rig.finished(created.id), within=30, what="the broadcast to finish")

        assert rig.deliveries(created.id) == {
            finance: ("dropped", f"sent {ITEM}"),
            it: ("skipped", "no shared topic (compliance)"),
            gardener: ("skipped", "not garden news"),
            unsubscribed: ("skipped", "contact suppressed (unsubscribe)"),
        }
        broadcast_touches = rig.sent_touches(broadcast_id=created.id)
        assert [(t.contact_id, t.item_id) for t in broadcast_touches] == [(finance, ITEM)]
        # Suppressed contacts got their first drop before they unsubscribed, and nothing since.
        assert sorted(t.contact_id for t in rig.sent_touches([unsubscribed, exited])) == [unsubscribed, exited]

        assert (status.state, status.total, status.signalled, status.suppressed, status.signal_failed) == (
            "completed",
            4,
            3,
            1,
            0,
        )
        assert (status.acted, status.skipped, status.failed) == (1, 3, 0)
        with session_scope(rig.engine) as s:
            row = s.get(Broadcast, created.id)
            assert row is not None
            assert (row.state, row.created_by, row.item_id) == ("completed", "cli:marketer", ITEM)
            assert row.audience == {"contact_ids": everyone}
            assert row.started_at is not None
            assert row.finished_at is not None
            assert (row.counts["signalled"], row.counts["dropped"], row.counts["skipped"]) == (3, 1, 3)
            email = s.exec(select(OutboxEmail).where(OutboxEmail.touch_id == broadcast_touches[0].id)).one()
            assert email.custom_args[sendgrid_args.CUSTOM_ARG_BROADCAST] == created.id

        # The journeys go on with their own schedule; the finance contact's journey remembers the broadcast.
        handle = rig.client.get_workflow_handle(workflow_ids.journey_workflow_id("b2b_drip", finance))
        journey = await handle.query(temporal_names.QUERY_STATUS, result_type=JourneyStatus)
        assert journey.phase == "nurturing"
        assert journey.handled_broadcasts == [created.id]
        assert ITEM in journey.items_sent
