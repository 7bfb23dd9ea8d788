"""The preference center over real HTTP on both backends: the link in every drop, GET only shows, POST changes
topics, frequency and snooze (recorded, signalled to running journeys), and the next drops honour them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from nurture import temporal_names, tokens, workflow_ids
from nurture.clock import utcnow
from nurture.db import Broadcast, Contact, Enrollment, Event, OutboxEmail, Preference
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact, drop, outbox_activities
from tests.fixtures.api import API_TOKEN, ServedApi

FORM = {"content-type": "application/x-www-form-urlencoded"}
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def preferences_path(api: ServedApi, engine: Engine, contact_id: int) -> str:
    """Send a real drop (signed like the API's own links) and follow the preferences link it carries."""
    now = utcnow()
    with outbox_activities(engine, tracking_secret=api.ctx.settings.tracking_secret) as acts:
        assert acts.send_drop(drop(contact_id, "b2b-close-checklist", now=now, time_scale=60.0)).status == "sent"
    with session_scope(engine) as s:
        [mail] = s.exec(select(OutboxEmail)).all()
    found = re.search(r"Preferences: (\S+)", mail.text)
    assert found is not None and "/p/" in found.group(1) and "/p/" in mail.html
    return urlsplit(found.group(1)).path


def prefs(engine: Engine, contact_id: int) -> Preference | None:
    with session_scope(engine) as s:
        return s.get(Preference, contact_id)


async def test_get_only_shows_and_post_changes_topics_frequency_and_snooze(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, email="pat@example.com", topics=["compliance"])
    with session_scope(engine) as s:
        workflow_id = workflow_ids.journey_workflow_id("b2b_drip", cid)
        s.add(Enrollment(contact_id=cid, journey="b2b_drip", workflow_id=workflow_id, enrolled_at=utcnow()))
    path = preferences_path(api, engine, cid)

    page = await api.http.get(path)
    assert page.status_code == 200
    assert 'value="compliance" checked' in page.text and 'name="snooze"' in page.text
    assert prefs(engine, cid) is None  # GET changed nothing

    forged = path[: -len("x")] + ("y" if not path.endswith("y") else "z")
    assert (await api.http.post(forged, content="frequency=weekly", headers=FORM)).status_code == 403
    bad = await api.http.post(path, content="frequency=weekly&snooze=45", headers=FORM)
    assert bad.status_code == 422 and "snooze" in bad.json()["error"]

    saved = await api.http.post(path, content="topics=automation&frequency=weekly&snooze=30", headers=FORM)
    assert saved.status_code == 200, saved.text
    pref = prefs(engine, cid)
    assert pref is not None and pref.frequency == "weekly" and pref.topics == ["automation"]
    assert pref.snoozed_until is not None and pref.snoozed_until - utcnow() > timedelta(days=29)
    with session_scope(engine) as s:
        contact = s.get(Contact, cid)
        assert contact is not None and contact.topics == ["automation"]
        kinds = {e.kind for e in s.exec(select(Event).where(col(Event.kind).startswith("preference_"))).all()}
    assert kinds == {"preference_topics", "preference_frequency", "preference_snoozed_until"}
    [signal] = api.outbox(contact_id=cid, signal=temporal_names.SIGNAL_PREFERENCES)
    assert signal.journey == "b2b_drip" and signal.payload["frequency"] == "weekly"
    assert "pat@" not in str(signal.payload)  # ids and choices only go to Temporal


async def test_the_next_drops_honour_snooze_frequency_and_topics(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, email="kim@example.com", topics=["compliance"])
    path = preferences_path(api, engine, cid)
    assert (await api.http.post(path, content="topics=automation&snooze=30", headers=FORM)).status_code == 200
    now = utcnow()
    with outbox_activities(engine) as acts:
        snoozed = acts.send_drop(drop(cid, "b2b-approval-costs", now=now + timedelta(days=4)))
        assert snoozed.status == "deferred" and "snoozed" in snoozed.detail
        assert snoozed.deferred_until is not None and snoozed.deferred_until >= now + timedelta(days=29)
    # resume now, at most monthly: the next drop waits for the monthly slot instead
    assert (await api.http.post(path, content="topics=automation&snooze=0&frequency=monthly", headers=FORM)).is_success
    with outbox_activities(engine) as acts:
        capped = acts.send_drop(drop(cid, "b2b-approval-costs", now=now + timedelta(days=10)))
        assert capped.status == "deferred" and "1 per 30 days" in capped.detail
        with session_scope(engine) as s:
            s.add(Broadcast(id="bc-compliance", kind="regulation", item_id="b2b-shadow-it", topics=["compliance"],
                            created_by="t", created_at=now))  # fmt: skip
        offer = replace(drop(cid, "b2b-shadow-it", now=now + timedelta(days=40)), broadcast_id="bc-compliance")
        declined = acts.send_drop(offer)
    assert declined.status == "declined" and "compliance" in declined.detail


async def test_unsubscribe_from_the_preference_center(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, email="lou@example.com")
    other = "/p/" + tokens.sign("another-secret", "preferences", {"contact_id": str(cid)})
    assert (await api.http.get(other)).status_code == 403  # only a link nurture signed opens the page
    real = preferences_path(api, engine, cid)
    done = await api.http.post(real, content="action=unsubscribe", headers=FORM)
    assert done.status_code == 200 and "Unsubscribed" in done.text
    with session_scope(engine) as s:
        contact = s.get(Contact, cid)
        assert contact is not None and contact.status == "suppressed"
    assert "unsubscribed" in (await api.http.get(real)).text


async def test_each_choice_is_a_consent_row_in_the_trail(api: ServedApi, engine: Engine) -> None:
    cid = add_contact(engine, email="ray@example.com", topics=["compliance"])
    path = preferences_path(api, engine, cid)
    saved = await api.http.post(path, content="topics=automation&frequency=weekly&snooze=60", headers=FORM)
    assert saved.status_code == 200, saved.text
    assert (await api.http.post(path, content="topics=automation&frequency=weekly", headers=FORM)).is_success
    history = await api.http.get(f"/contacts/{cid}/history", headers=AUTH)
    assert history.status_code == 200
    assert history.json()["status"] == "active"  # a choice is consent on record, not a change of status
    chosen = [r for r in history.json()["consent"] if r["action"] == "preferences"]
    # one row per change, none for a save that changed nothing
    assert sorted(r["wording"].split("=")[0] for r in chosen) == ["frequency", "snoozed_until", "topics"]
    assert {r["source"] for r in chosen} == {"preference center"}
    assert {r["actor"] for r in chosen} == {"contact-token"}
    assert any(r["wording"] == "topics=automation" for r in chosen)
    assert "ray@" not in history.text.split('"consent"')[1].split('"journeys"')[0]
    # unsubscribing there is a withdrawal, through the same writer
    assert (await api.http.post(path, content="action=unsubscribe", headers=FORM)).is_success
    trail = (await api.http.get(f"/contacts/{cid}/history", headers=AUTH)).json()["consent"]
    assert trail[-1]["action"] == "withdrawn" and trail[-1]["source"] == "preference center"
