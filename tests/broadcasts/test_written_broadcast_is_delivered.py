"""A broadcast whose content a marketer wrote is stored with it and delivered as written: journeys drop the item
`broadcast:<id>`, the email carries the personalised subject and the body with what the contact typed escaped in
HTML, a journey without its topics skips it, and unknown template fields are refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from nurture.broadcasts.audience import Audience
from nurture.broadcasts.models import BroadcastCreate, InvalidBroadcastError
from nurture.broadcasts.written import WrittenContent, to_template
from nurture.db import BroadcastContent, Contact, OutboxEmail
from nurture.db.engine import session_scope
from tests.broadcasts.rig import Rig, worker

pytestmark = pytest.mark.devserver


def test_fields_become_template_fields_and_dollars_stay_literal() -> None:
    assert to_template("Hi {first_name}, {company} saves $5", "body") == "Hi ${first_name}, ${company} saves $$5"
    with pytest.raises(ValueError, match=r"unknown fields email.*\{first_name\}"):
        to_template("Hi {email}", "subject")
    with pytest.raises(ValueError, match="NUL"):
        to_template("Hi\x00", "body")


async def test_written_content_is_stored_with_the_broadcast_and_delivered_as_written(rig_any_db: Rig) -> None:
    rig = rig_any_db
    reader = rig.contact("finance-lead", ["compliance"])
    other = rig.contact("it-lead", ["security"])  # no shared topic: its journey skips it
    with session_scope(rig.engine) as s:
        row = s.get(Contact, reader)
        assert row is not None
        row.company = "<b>Acme</b>"
    audience = Audience(contact_ids=[reader, other])

    with pytest.raises(InvalidBroadcastError, match="unknown fields phone"):
        await rig.svc.create(
            BroadcastCreate(content=WrittenContent(subject="Hi {phone}", body="x"), audience=audience), "cli:m"
        )

    async with worker(rig):
        for cid in (reader, other):
            await rig.enroll(cid, "b2b_drip")
        await rig.until(lambda: len(rig.sent_touches([reader, other])) == 2, what="first drops")
        await rig.visible(audience, 2)
        await asyncio.sleep(1.1)  # the minimum gap since each first drop
        content = WrittenContent(subject="{first_name}, rules change in 2027", body="Dear {company}: read on. $0 fee.")
        created = await rig.svc.create(
            BroadcastCreate(
                content=content, audience=audience, kind="regulation", topics=["compliance"], id=f"w-{rig.base}"
            ),
            "console:marketer",
        )
        assert created.item_id == f"broadcast:w-{rig.base}"
        await rig.svc.start(created.id, "console:marketer")
        await rig.until(lambda: rig.finished(created.id), within=30, what="the broadcast to finish")

        assert rig.deliveries(created.id) == {
            reader: ("dropped", f"sent broadcast:w-{rig.base}"),
            other: ("skipped", "no shared topic (compliance)"),
        }
        touches = rig.sent_touches(broadcast_id=created.id)
        assert [(t.contact_id, t.item_id) for t in touches] == [(reader, created.item_id)]
        with session_scope(rig.engine) as s:
            stored = s.get(BroadcastContent, created.id)
            assert stored is not None and stored.written_by == "console:marketer"
            assert stored.body == "Dear ${company}: read on. $$0 fee."
            email = s.exec(select(OutboxEmail).where(OutboxEmail.touch_id == touches[0].id)).one()
        n = reader - rig.base
        assert email.subject == f"C{n}, rules change in 2027"
        assert "Dear <b>Acme</b>: read on. $0 fee." in email.text
        assert "Dear &lt;b&gt;Acme&lt;/b&gt;: read on. $0 fee." in email.html and "<b>Acme" not in email.html
