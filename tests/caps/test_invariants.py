"""Invariants over random streams (hypothesis): drops from several journeys and broadcasts, preference changes
and an exit (unsubscribe, bounce, complaint or erase, through their real writers), played through the real claim
on both backends. Whatever happens: never above a cap, never outside the send window or on a holiday or closure,
never the same item twice, never a drop after the exit, and every held-back drop is sent, expired with a reason,
cancelled, or still waiting. (Pauses, single and in bulk, in the workflow:
tests/caps/test_pauses_keep_every_invariant.py.)"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from nurture import consent
from nurture.db import DeferredDrop, DeferredState, Preference, Touch, TouchStatus
from nurture.db.engine import session_scope
from nurture.inbound.privacy import erase_contact
from tests.activities.helpers import add_contact, drop, outbox_activities
from tests.caps.test_caps_at_the_claim import B2B, B2B_LATE, B2C, assert_sent_by_the_rules
from workflows.payloads import SendDropInput

pytestmark = pytest.mark.slow

START = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # two weeks before Christmas
TZ, COUNTRY = "Europe/Berlin", "DE"
CLOSURES = [date(2026, 12, 28)]
SPEC = "1/2d,3/7d"
JOURNEYS = [("b2b_drip", "wf-a", B2B), ("b2c_cultivation", "wf-b", B2C), ("b2b_drip", "wf-c", B2B_LATE)]

attempt = st.tuples(st.integers(0, 2), st.integers(0, 24 * 20), st.booleans())  # journey, hour, as a broadcast
stream = st.lists(attempt, min_size=3, max_size=12)
pref_change = st.one_of(st.none(), st.tuples(st.integers(0, 24 * 20), st.sampled_from(["weekly", "any"])))
EXITS = ("unsubscribe", "bounce", "complaint", "erase")
exit_at = st.one_of(st.none(), st.tuples(st.integers(24, 24 * 20), st.sampled_from(EXITS)))

_n = itertools.count()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=stream, pref=pref_change, leaves=exit_at)
def test_random_streams_keep_every_invariant(
    engine: Engine, stream: list[tuple[int, int, bool]], pref: tuple[int, str] | None, leaves: tuple[int, str] | None
) -> None:
    cid = add_contact(engine, email=f"inv{next(_n)}@example.com", time_zone=TZ, country=COUNTRY)
    queue: list[tuple[datetime, int, object]] = []
    seq = itertools.count()
    used: set[str] = set()
    for journey_no, hour, as_broadcast in stream:
        journey, wf, items = JOURNEYS[journey_no]
        free = [i for i in items if i not in used]
        if not free:
            continue
        used.add(free[0])
        inp = drop(cid, free[0], journey=journey, workflow_id=f"{wf}-{free[0]}", min_gap_seconds=6 * 3600.0,
                   broadcast_id=f"bc-{free[0]}" if as_broadcast else None)  # fmt: skip
        at = START + timedelta(hours=hour)
        heapq.heappush(queue, (at, next(seq), replace(inp, now=at)))
    if pref is not None:
        heapq.heappush(queue, (START + timedelta(hours=pref[0]), next(seq), ("pref", pref[1])))
    unsub_time = START + timedelta(hours=leaves[0]) if leaves is not None else None
    if leaves is not None and unsub_time is not None:
        heapq.heappush(queue, (unsub_time, next(seq), ("exit", leaves[1])))
    went: list[tuple[datetime, SendDropInput]] = []  # from the claim's answers: erase removes the touch rows
    end = START + timedelta(days=45)
    with outbox_activities(
        engine, drop_caps=SPEC, closure_dates=CLOSURES, deferred_drop_ttl=timedelta(days=12)
    ) as acts:
        while queue and queue[0][0] < end:
            at, _, what = heapq.heappop(queue)
            if isinstance(what, tuple):
                if what[0] == "pref":
                    with session_scope(engine) as s:
                        found = s.get(Preference, cid)
                        if found is None:
                            s.add(Preference(contact_id=cid, frequency=what[1], updated_at=at))
                        else:
                            found.frequency = what[1]
                elif what[1] == "erase":
                    with engine.begin() as conn:
                        erase_contact(conn, cid, at, requested_by="test", reason="invariant")
                else:
                    with engine.begin() as conn:
                        assert consent.suppress(conn, {cid: what[1]}, at) == [cid]
                continue
            assert isinstance(what, SendDropInput)
            result = acts.send_drop(what)
            new_drop = result.status in ("sent", "unconfirmed") and result.detail != "already recorded"  # a retry
            if new_drop:
                went.append((at, what))
            if unsub_time is not None and at >= unsub_time:
                assert not new_drop, "a drop after the exit"
                replayed = result.detail == "already recorded" or result.status == "duplicate"
                assert replayed or result.status == "suppressed", (result.status, result.detail, what.item_id)
            if result.status == "deferred":
                assert result.deferred_until is not None and result.deferred_until > at
                heapq.heappush(queue, (result.deferred_until, next(seq), replace(what, now=result.deferred_until)))
    with session_scope(engine) as s:
        sent = s.exec(select(Touch).where(Touch.contact_id == cid, Touch.status == TouchStatus.SENT)).all()
        waiting = s.exec(
            select(DeferredDrop).where(DeferredDrop.contact_id == cid).order_by(col(DeferredDrop.id))
        ).all()
    assert_sent_by_the_rules(sent, SPEC, TZ, COUNTRY, CLOSURES)
    for t in sent:
        assert t.sent_at is not None
        assert unsub_time is None or t.sent_at < unsub_time, "a drop after the exit"
    assert unsub_time is None or all(at < unsub_time for at, _ in went), "a drop after the exit"

    for row in waiting:
        assert row.state in (DeferredState.SENT, DeferredState.EXPIRED, DeferredState.WAITING, DeferredState.CANCELLED)
        if row.state == DeferredState.EXPIRED:
            assert row.reason.startswith("expired")
        if unsub_time is not None:  # the exit cancelled what waited, in its own transaction, with the reason
            assert row.state != DeferredState.WAITING, row
        if row.state == DeferredState.CANCELLED:
            assert row.reason.startswith(("contact suppressed", "contact erased")), row.reason
