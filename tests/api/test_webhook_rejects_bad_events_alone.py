"""Inside a valid signed batch each unusable event is stored as rejected with its reason; the rest is processed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from nurture import sendgrid_args
from nurture.db import Contact, Event, RejectedEvent
from nurture.db.engine import session_scope
from tests.api.payloads import add_contact, event
from tests.fixtures.api import ServedApi

BAD_EVENTS: dict[str, tuple[Any, str]] = {
    "unknown-kind": ({"event": "teleported", "timestamp": 1, "email": "a@b.c"}, "unknown event kind"),
    "wrong-type": ({"event": "open", "timestamp": "yesterday"}, "timestamp"),
    "no-kind": ({"timestamp": 1}, "event"),
    "bad-contact-id": ({"event": "open", "timestamp": 1, "nurture_contact_id": "abc"}, "contact id"),
    "huge-contact-id": ({"event": "open", "timestamp": 1, "nurture_contact_id": "99999999999999"}, "contact"),
    "long-journey": ({"event": "open", "timestamp": 1, "nurture_journey": "j" * 65}, "64 characters"),
    "timestamp-1e12": ({"event": "open", "timestamp": 10**12}, "timestamp"),
    "timestamp-1e20": ({"event": "open", "timestamp": 10**20}, "timestamp"),
    "negative-timestamp": ({"event": "open", "timestamp": -1}, "timestamp"),
    "nul-byte": ({"event": "open", "timestamp": 1, "email": "a\x00@b.c"}, "NUL"),
    "nul-in-kept-field": ({"event": "bounce", "timestamp": 1, "reason": "bad\x00"}, "NUL"),
    "lone-surrogate": ({"event": "open", "timestamp": 1, "email": "\ud800@b.c"}, "unicode"),
    "not-an-object": ("open", "JSON object"),
    "null": (None, "JSON object"),
}


async def test_a_batch_with_bad_events_stores_the_good_ones_and_the_bad_ones_as_rejected(
    api: ServedApi, engine: Engine
) -> None:
    cid = add_contact(engine, "half@example.com", journeys=("b2b_drip",))
    good = [event("unsubscribe", cid), event("delivered", cid)]
    bad = [ev for ev, _ in BAD_EVENTS.values()]
    body = json.dumps([good[0], *bad, good[1]]).encode()  # ensure_ascii: lone surrogates travel as \ud800

    response = await api.post_events(body)

    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2
    assert response.json()["rejected"] == len(bad)
    assert api.count() == 2
    assert api.count(Contact, status="suppressed") == 1
    with session_scope(engine) as s:
        rejected = list(s.execute(select(RejectedEvent).order_by(RejectedEvent.position)).scalars())  # type: ignore[arg-type]
    assert [r.position for r in rejected] == list(range(1, len(bad) + 1))
    for row, (name, (_, reason)) in zip(rejected, BAD_EVENTS.items(), strict=True):
        assert reason in row.reason, (name, row.reason)
        assert row.source == "sendgrid"
        assert row.raw.isascii()
        assert json.loads(row.raw) == BAD_EVENTS[name][0] or name in ("nul-byte", "lone-surrogate", "nul-in-kept-field")


@pytest.mark.parametrize("name", list(BAD_EVENTS))
async def test_a_batch_of_one_bad_event_is_accepted_and_recorded(api: ServedApi, name: str) -> None:
    response = await api.post_events(json.dumps([BAD_EVENTS[name][0]]).encode())

    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 1
    assert api.count(Event) == 0
    assert api.count(RejectedEvent) == 1


async def test_invalid_utf8_and_non_finite_numbers_reject_only_their_event(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, "bytes@example.com")
    good = json.dumps(event("delivered", cid)).encode()
    bad_utf8 = b'{"event":"open","timestamp":1,"email":"\xff\xfe@x.y"}'
    body = b"[" + good + b"," + bad_utf8 + b',{"event":"open","timestamp":1,"x":NaN}]'

    response = await api.post_events(body)

    assert response.status_code == 200, response.text
    assert (response.json()["stored"], response.json()["rejected"]) == (1, 2)
    with session_scope(engine) as s:
        reasons = [r.reason for r in s.execute(select(RejectedEvent).order_by(RejectedEvent.position)).scalars()]  # type: ignore[arg-type]
    assert "unicode" in reasons[0]
    assert "finite" in reasons[1]


@pytest.mark.parametrize("touch_id", ["2147483648", "99999999999999999999", 2**63])
async def test_a_touch_id_no_touch_can_have_is_stored_and_settles_nothing(
    api: ServedApi, engine: Engine, touch_id: str | int
) -> None:
    # looking such an id up failed the whole batch (PostgreSQL: integer out of range), so SendGrid retried it forever
    cid = add_contact(engine, "far@example.com")
    body = json.dumps([event("delivered", cid, **{sendgrid_args.CUSTOM_ARG_TOUCH: touch_id}), event("open", cid)])

    response = await api.post_events(body.encode())

    assert response.status_code == 200, response.text
    assert (response.json()["stored"], response.json()["rejected"]) == (2, 0)
