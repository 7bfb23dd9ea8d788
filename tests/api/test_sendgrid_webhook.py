"""The SendGrid Event Webhook: every event kind stored once and acted on; re-deliveries change nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from nurture import temporal_names
from nurture.clock import utcnow
from nurture.db import Event
from nurture.inbound.outbox import ENROLL
from tests.api.payloads import add_contact, contact, event
from tests.fixtures.api import ServedApi

EXITS = {"bounce": "bounce", "dropped": "dropped", "spamreport": "complaint", "unsubscribe": "unsubscribe"}


async def test_a_batch_of_every_event_kind_is_stored_once_and_acted_on(api: ServedApi, engine: Engine) -> None:
    engaged = add_contact(engine, "engaged@example.com", journeys=("b2b_drip",))
    leaving = {kind: add_contact(engine, f"{kind}@example.com", journeys=("b2b_drip",)) for kind in EXITS}
    group = add_contact(engine, "group@example.com", journeys=("b2b_drip", "b2c_cultivation"))
    now = utcnow()
    batch = [
        event("processed", engaged, at=now - timedelta(minutes=9)),
        event("deferred", engaged, at=now - timedelta(minutes=8)),
        event("delivered", engaged, at=now - timedelta(minutes=7)),
        event("open", engaged, at=now - timedelta(minutes=6)),
        event("open", engaged, at=now - timedelta(minutes=6, seconds=30), sg_machine_open=True),
        event("click", engaged, at=now - timedelta(minutes=5)),
        event("bounce", engaged, at=now - timedelta(minutes=4), type="blocked", reason="421 try later"),
        event("group_resubscribe", engaged, at=now - timedelta(minutes=3)),
        *(event(kind, cid, message=f"m{cid}") for kind, cid in leaving.items()),
        event("group_unsubscribe", group, message="mg"),
    ]

    first = await api.post_events(batch)

    assert first.status_code == 200, first.text
    assert first.json()["stored"] == len(batch)
    assert api.count() == len(batch)
    machine = [e for e in _events(engine) if e.machine]
    assert [(e.kind, e.contact_id) for e in machine] == [("opened", engaged)]  # stored, flagged
    signals = [(o.contact_id, o.journey, o.signal) for o in api.outbox()]
    # engagement: only the click (b2b_drip waits for clicks, never for opens; machine opens never count)
    assert (engaged, "b2b_drip", temporal_names.SIGNAL_ENGAGEMENT) in signals
    assert [s for s in signals if s[0] == engaged] == [(engaged, "b2b_drip", temporal_names.SIGNAL_ENGAGEMENT)]
    for kind, cid in leaving.items():
        assert (cid, "b2b_drip", temporal_names.SIGNAL_EXIT) in signals
        row = contact(engine, cid)
        assert (row.status, row.suppressed_reason) == ("suppressed", EXITS[kind])
    assert {s for s in signals if s[0] == group} == {
        (group, "b2b_drip", temporal_names.SIGNAL_EXIT),
        (group, "b2c_cultivation", temporal_names.SIGNAL_EXIT),
    }
    assert contact(engine, group).status == "suppressed"
    assert contact(engine, engaged).status == "active"  # a blocked bounce is not a bad address

    again = await api.post_events(batch)
    redelivered = [{**ev, "sg_event_id": "new-" + ev["sg_event_id"]} for ev in reversed(batch)]
    once_more = await api.post_events(redelivered)

    assert again.status_code == once_more.status_code == 200
    assert again.json()["stored"] == once_more.json()["stored"] == 0
    assert api.count() == len(batch)
    assert [(o.contact_id, o.journey, o.signal) for o in api.outbox()] == signals


async def test_events_arriving_after_an_unsubscribe_are_stored_but_signal_nothing(
    api: ServedApi, engine: Engine
) -> None:
    cid = add_contact(engine, "late@example.com", journeys=("b2b_drip",))
    now = utcnow()
    first = await api.post_events([event("unsubscribe", cid, at=now - timedelta(minutes=1))])
    late = await api.post_events(
        [
            event("click", cid, at=now - timedelta(minutes=3)),
            event("delivered", cid, at=now - timedelta(minutes=4)),
            event("processed", cid, at=now - timedelta(minutes=5)),
        ]
    )

    assert first.status_code == late.status_code == 200
    assert api.count(contact_id=cid) == 4
    assert [o.signal for o in api.outbox(contact_id=cid)] == [temporal_names.SIGNAL_EXIT]


async def test_events_for_unknown_contacts_and_without_custom_args_are_kept(api: ServedApi, engine: Engine) -> None:
    known = add_contact(engine, "known@example.com", journeys=("b2b_drip",))
    response = await api.post_events(
        [
            event("delivered", 999_999, email="stranger@example.com"),
            event("spamreport", None, journey=None, email="KNOWN@example.com"),  # routed by email address
        ]
    )

    assert response.status_code == 200, response.text
    assert api.count() == 2
    assert contact(engine, known).suppressed_reason == "complaint"
    assert [o.signal for o in api.outbox(contact_id=known)] == [temporal_names.SIGNAL_EXIT]
    stranger = [e for e in _events(engine) if e.contact_id is None]
    assert stranger[0].data.get("email") == "stranger@example.com"  # kept for reconciliation


async def test_clicks_signal_only_the_journey_that_sent_the_drop(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "both@example.com", journeys=("b2b_drip", "b2c_cultivation"))
    response = await api.post_events([event("click", cid, journey="b2c_cultivation")])

    assert response.status_code == 200
    assert [(o.journey, o.signal) for o in api.outbox() if o.signal != ENROLL] == [
        ("b2c_cultivation", temporal_names.SIGNAL_ENGAGEMENT)
    ]
    payload = api.outbox()[0].payload
    assert payload["kind"] == "clicked"
    assert payload["url"] == "https://ledgerline.example/guide"
    assert "email" not in payload  # only ids travel to Temporal


def _events(engine: Engine) -> list[Event]:
    from sqlmodel import select

    from nurture.db.engine import session_scope

    with session_scope(engine) as s:
        return list(s.exec(select(Event)).all())
