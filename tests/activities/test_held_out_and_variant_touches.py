"""send_drop records experiment arms on every touch and sends the subject of the contact's arm, and for a held-out
contact records a `held_out` touch and sends nothing (on SQLite and PostgreSQL); a retry finds the same touch."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture.db import OutboxEmail, Touch
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact, drop, outbox_activities


def _touches(engine: Engine, contact_id: int) -> list[Touch]:
    with session_scope(engine) as s:
        return list(s.exec(select(Touch).where(Touch.contact_id == contact_id)).all())


def _outbox(engine: Engine) -> list[OutboxEmail]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxEmail)).all())


def test_a_sent_touch_records_the_contacts_arms(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        result = acts.send_drop(drop(cid, variants={"subject-line": "b"}))
    assert result.status == "sent"
    [touch] = _touches(engine, cid)
    assert (touch.status, touch.variants) == ("sent", {"subject-line": "b"})
    [email] = _outbox(engine)
    assert email.subject.startswith("Is your approval workflow quietly costing"), "arm b gets its subject variant"


def test_arm_a_and_an_unknown_arm_get_the_catalog_subject(engine: Engine) -> None:
    a, other = add_contact(engine), add_contact(engine, email="other@example.com")
    with outbox_activities(engine) as acts:
        acts.send_drop(drop(a, variants={"subject-line": "a"}))
        acts.send_drop(drop(other, variants={"another-test": "b"}))
    subjects = {e.subject for e in _outbox(engine)}
    assert subjects == {"Five signs your approval workflow costs more than it should"}


def test_a_held_out_contact_gets_a_held_out_touch_and_no_email(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        first = acts.send_drop(drop(cid, held_out=True, variants={"subject-line": "a"}))
        again = acts.send_drop(drop(cid, held_out=True, variants={"subject-line": "a"}))
    assert first.status == again.status == "held_out"
    assert first.touch_id == again.touch_id
    [touch] = _touches(engine, cid)
    assert (touch.status, touch.variants, touch.sent_at) == ("held_out", {"subject-line": "a"}, None)
    assert _outbox(engine) == []


def test_a_touch_written_without_arms_reads_back_empty(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine) as acts:
        acts.send_drop(drop(cid))
    assert _touches(engine, cid)[0].variants == {}
