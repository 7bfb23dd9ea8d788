"""Several broadcasts may run at once: each reaches every journey, and the minimum gap still spaces the
drops one contact receives (the second broadcast is deferred, then sent: no fire hose)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate
from tests.broadcasts.rig import Rig, gap_respected, worker

GAP = timedelta(seconds=1) / 2  # min_gap_between_drops 1 s at time scale 2


async def test_two_broadcasts_at_once_reach_every_journey_and_the_gap_spaces_them(rig: Rig) -> None:
    contacts = [rig.contact("finance-lead", ["compliance", "automation"]) for _ in range(3)]
    audience = Audience(contact_ids=contacts)
    async with worker(rig):
        for cid in contacts:
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches(contacts)) == 3, what="first drops")
        await rig.visible(audience, 3)
        await asyncio.sleep(0.6)
        ids = []
        for item in ("bc-einvoicing-2027", "bc-mobile-approvals"):
            created = await rig.svc.create(
                BroadcastCreate(item_id=item, audience=audience, id=f"{item}-{rig.base}"), "t"
            )
            ids.append(created.id)
        await asyncio.gather(*(rig.svc.start(b, "t") for b in ids))
        for b in ids:
            await rig.until(lambda b=b: rig.finished(b), what=f"{b} to finish")

        # Whichever came second to a contact was deferred by the gap; both end up dropped, once each.
        for b in ids:
            await rig.until(
                lambda b=b: {o for o, _ in rig.deliveries(b).values()} == {"dropped"}, what=f"every drop of {b}"
            )
            assert sorted(t.contact_id for t in rig.sent_touches(broadcast_id=b)) == sorted(contacts)
        for cid in contacts:
            assert gap_respected(rig.sent_touches([cid]), GAP)
