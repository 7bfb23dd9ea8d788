"""Consent is checked before every rule that could only hold a drop back: after an unsubscribe, bounce,
complaint or erase the claim answers `suppressed` with that reason (never `deferred` by the gap, a cap, a
snooze, quiet time, a higher priority or an expiry), and nothing stays waiting for the contact.
Real send_drop, dev outbox, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture import consent
from nurture.db import DeferredState, Preference, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.inbound.privacy import erase_contact
from tests.activities.helpers import add_contact, drop, outbox_activities
from tests.caps.test_caps_at_the_claim import B2B, MON, deferred

DAY = timedelta(days=1)
NIGHT = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 23:00 in Berlin: outside every journey's window


def _blocked(engine: Engine, acts: object, rule: str, n: int) -> tuple[int, object]:
    """A contact with one drop that `rule` holds back (deferred and waiting), and that drop's input."""
    cid = add_contact(engine, email=f"first-{rule}-{n}@example.com", time_zone="Europe/Berlin")
    send = acts.send_drop  # type: ignore[attr-defined]
    if rule == "snooze":
        with session_scope(engine) as s:
            s.add(Preference(contact_id=cid, snoozed_until=MON + 30 * DAY, updated_at=MON))
    if rule in ("gap", "cap", "priority"):
        gap = 3 * 86400.0 if rule == "gap" else 0
        assert send(drop(cid, B2B[0], now=MON, min_gap_seconds=gap)).status == "sent"
    if rule == "priority":
        urgent = replace(drop(cid, B2B[2], workflow_id="wf-urgent", now=MON + timedelta(hours=1)), broadcast_id="b")
        assert send(replace(urgent, min_gap_seconds=0)).status == "deferred"
    at = NIGHT if rule == "quiet time" else MON + timedelta(hours=2)
    held = drop(cid, B2B[1], now=at, min_gap_seconds=3 * 86400.0 if rule == "gap" else 0)
    got = send(held)
    assert got.status == "deferred" and (rule == "priority" or rule in got.detail.lower()), (rule, got.detail)
    return cid, replace(held, now=got.deferred_until)


def test_after_an_exit_every_held_back_drop_is_suppressed_with_the_reason_never_deferred(engine: Engine) -> None:
    exits = {"gap": "unsubscribe", "cap": "complaint", "snooze": "bounce", "quiet time": "unsubscribe"}
    with outbox_activities(engine, drop_caps="1/3d") as acts:
        for n, (rule, reason) in enumerate(exits.items()):
            cid, held = _blocked(engine, acts, rule, n)
            with engine.begin() as conn:
                assert consent.suppress(conn, {cid: reason}, MON + timedelta(hours=3)) == [cid]
            # at once, in the suppression's own transaction: nothing waits for the contact any more
            assert [(r.state, r.reason) for r in deferred(engine, cid)] == [
                (DeferredState.CANCELLED, f"contact suppressed ({reason})")
            ]
            for retry_at in (held.now, MON + timedelta(hours=4)):  # when the rule frees it, and while it still holds
                got = acts.send_drop(replace(held, now=retry_at))
                assert (got.status, got.detail) == ("suppressed", f"contact suppressed ({reason})"), rule
            with session_scope(engine) as s:
                touch = s.exec(select(Touch).where(Touch.contact_id == cid, Touch.item_id == B2B[1])).one()
            assert (touch.status, touch.error) == (TouchStatus.SUPPRESSED, f"contact suppressed ({reason})")


def test_a_suppressed_contact_behind_a_higher_priority_drop_or_past_its_expiry_is_still_suppressed(
    engine: Engine,
) -> None:
    with outbox_activities(engine, drop_caps="1/1d", deferred_drop_ttl=timedelta(hours=3)) as acts:
        cid, held = _blocked(engine, acts, "priority", 0)
        with engine.begin() as conn:
            consent.suppress(conn, {cid: "unsubscribe"}, MON + timedelta(hours=2, minutes=30))
        assert {r.state for r in deferred(engine, cid)} == {DeferredState.CANCELLED}
        late = acts.send_drop(replace(held, now=MON + 2 * DAY))  # past the expiry, behind the broadcast
        assert (late.status, late.detail) == ("suppressed", "contact suppressed (unsubscribe)")


def test_erase_cancels_waiting_drops_and_the_claim_answers_suppressed(engine: Engine) -> None:
    with outbox_activities(engine, drop_caps="1/3d") as acts:
        cid, held = _blocked(engine, acts, "cap", 0)
        with engine.begin() as conn:
            erase_contact(conn, cid, MON + timedelta(hours=3), requested_by="test", reason="gdpr")
        assert [(r.state, r.reason) for r in deferred(engine, cid)] == [(DeferredState.CANCELLED, "contact erased")]
        got = acts.send_drop(held)
    assert (got.status, got.detail) == ("suppressed", "contact suppressed (erased)")


def test_a_contact_without_a_confirmed_opt_in_gets_no_drop(engine: Engine) -> None:
    cid = add_contact(engine, status="pending_confirmation")
    with outbox_activities(engine) as acts:
        got = acts.send_drop(drop(cid, B2B[0], now=MON, min_gap_seconds=0))
    assert (got.status, got.detail) == ("suppressed", "contact suppressed (opt-in not confirmed)")
    assert deferred(engine, cid) == []
