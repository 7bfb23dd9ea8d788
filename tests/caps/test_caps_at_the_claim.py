"""Caps, quiet time and priority at the drop claim (real send_drop, dev outbox, SQLite and PostgreSQL)."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from nurture.caps import parse_caps, window_start
from nurture.db import DeferredDrop, DeferredState, DropPriority, Event, Preference, Touch, TouchStatus
from nurture.db.engine import session_scope
from tests.activities.helpers import add_contact, drop, outbox_activities
from workflows.dsl import REGISTRY
from workflows.payloads import SendDropInput
from workflows.quiet import is_quiet_day

MON = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
DAY = timedelta(days=1)
B2B = ["b2b-close-checklist", "b2b-approval-costs", "b2b-einvoicing-primer", "b2b-shadow-it", "b2b-approval-benchmark"]
B2C = ["b2c-autumn-lawn", "b2c-mowing-height", "b2c-feeding-calendar", "b2c-reading-your-lawn", "b2c-drought-proofing"]
CARE = ["cc-welcome", "cc-first-close"]
B2B_LATE = ["b2b-build-vs-buy", "b2b-distributor-case", "b2b-security-questions", "b2b-cfo-business-case"]


def sent_times(engine: Engine, contact_id: int) -> list[datetime]:
    with session_scope(engine) as s:
        rows = s.exec(select(Touch).where(Touch.contact_id == contact_id, Touch.status == TouchStatus.SENT)).all()
        return sorted(t.sent_at for t in rows if t.sent_at is not None)


def deferred(engine: Engine, contact_id: int) -> list[DeferredDrop]:
    with session_scope(engine) as s:
        q = select(DeferredDrop).where(DeferredDrop.contact_id == contact_id).order_by(col(DeferredDrop.id))
        return list(s.exec(q).all())


def caps_hold(times: list[datetime], spec: str, tz: str) -> bool:
    """Brute force, independent of the evaluator: every window of D local days holds at most N sends."""
    for rule in parse_caps(spec):
        for t in times:
            start = window_start(t, rule.days, tz)
            if sum(1 for u in times if start <= u <= t) > rule.count:
                return False
    return True


def assert_sent_by_the_rules(sent: Sequence[Touch], caps: str, tz: str, country: str, closures: list[date]) -> None:
    """What every sent drop must respect, however it was reached: the caps, no item twice, its journey's send
    window in the contact's time zone, and no public holiday or closure day."""
    times = sorted(t.sent_at for t in sent if t.sent_at is not None)
    assert caps_hold(times, caps, tz)
    assert len({t.item_id for t in sent}) == len(sent), "an item went twice"
    for t in sent:
        assert t.sent_at is not None
        local = t.sent_at.astimezone(ZoneInfo(tz))
        window = REGISTRY[t.journey].send_window
        assert window is not None and local.weekday() in window.weekdays
        assert window.start_hour <= local.hour < window.end_hour
        assert is_quiet_day(local.date(), country, closures) is None, (t.item_id, local)


def test_a_capped_drop_is_deferred_recorded_and_sent_later(engine: Engine) -> None:
    cid = add_contact(engine, time_zone="Europe/Berlin")
    with outbox_activities(engine, drop_caps="1/3d,2/7d") as acts:
        assert acts.send_drop(drop(cid, B2B[0], now=MON, min_gap_seconds=0)).status == "sent"
        second = drop(cid, B2C[0], journey="b2c_cultivation", now=MON + DAY, min_gap_seconds=0)
        got = acts.send_drop(second)
        assert got.status == "deferred"
        # the cap frees the slot at Thursday 00:00 in Berlin; b2c_cultivation's window opens at 08:00
        assert got.deferred_until == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)
        assert "1 per 3 days" in got.detail
        [row] = deferred(engine, cid)
        assert (row.state, row.item_id, row.priority) == (DeferredState.WAITING, B2C[0], DropPriority.DRIP)
        assert acts.send_drop(replace(second, now=got.deferred_until)).status == "sent"
    assert deferred(engine, cid)[0].state == DeferredState.SENT
    with session_scope(engine) as s:
        kinds = [e.kind for e in s.exec(select(Event).where(Event.contact_id == cid)).all()]
    assert kinds == ["drop_deferred"]  # in the contact's history


def test_transactional_mail_never_counts(engine: Engine) -> None:
    cid = add_contact(engine)
    with session_scope(engine) as s:
        s.add(
            Touch(
                idempotency_key=f"confirm:{cid}",
                contact_id=cid,
                journey="",
                workflow_id="",
                step="confirmation",
                item_id="confirmation",
                channel="transactional",
                sender="outbox",
                status=TouchStatus.SENT,
                created_at=MON - timedelta(hours=1),
                sent_at=MON - timedelta(hours=1),
            )
        )
    with outbox_activities(engine, drop_caps="1/1d") as acts:
        assert acts.send_drop(drop(cid, B2B[0], now=MON)).status == "sent"


def test_two_journeys_racing_for_the_last_slot_never_both_send(engine: Engine) -> None:
    cid = add_contact(engine)
    inputs = [
        drop(cid, B2B[0], now=MON, min_gap_seconds=0),
        drop(cid, B2C[0], journey="b2c_cultivation", now=MON, min_gap_seconds=0),
    ]
    results: list[str] = []
    barrier = threading.Barrier(2)
    with outbox_activities(engine, drop_caps="1/7d") as acts:

        def run(i: int) -> None:
            barrier.wait()
            results.append(acts.send_drop(inputs[i]).status)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == ["deferred", "sent"]
    assert len(sent_times(engine, cid)) == 1


def test_a_due_higher_priority_drop_goes_first(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine, drop_caps="1/1d") as acts:
        assert acts.send_drop(drop(cid, B2B[0], now=MON, min_gap_seconds=0)).status == "sent"
        urgent = drop(cid, B2B[2], workflow_id="wf-launch", now=MON + timedelta(hours=1), min_gap_seconds=0)
        urgent = replace(urgent, broadcast_id="launch-1")
        slot = acts.send_drop(urgent).deferred_until
        assert slot == datetime(2026, 3, 3, 9, tzinfo=UTC)  # the next day, when the window opens
        drip = drop(cid, B2B[1], now=MON + timedelta(hours=2), min_gap_seconds=0)
        assert acts.send_drop(drip).deferred_until == slot
        # both come back at the slot, the drip first: it is refused while the broadcast waits
        refused = acts.send_drop(replace(drip, now=slot))
        assert refused.status == "deferred" and "goes first" in refused.detail
        assert acts.send_drop(replace(urgent, now=slot)).status == "sent"


def test_a_drop_waiting_past_its_expiry_expires_with_the_reason(engine: Engine) -> None:
    cid = add_contact(engine)
    with outbox_activities(engine, deferred_drop_ttl=timedelta(days=2)) as acts:
        with session_scope(engine) as s:
            s.add(Preference(contact_id=cid, snoozed_until=MON + 30 * DAY, updated_at=MON))
        first = drop(cid, B2B[0], now=MON)
        got = acts.send_drop(first)
        assert got.status == "deferred" and got.deferred_until == MON + 30 * DAY and "snoozed" in got.detail
        late = acts.send_drop(replace(first, now=MON + 3 * DAY))
        assert late.status == "expired" and "snooze" in late.detail
    [row] = deferred(engine, cid)
    assert row.state == DeferredState.EXPIRED and "snooze" in row.reason
    assert sent_times(engine, cid) == []


def test_weekly_frequency_from_the_preference_center(engine: Engine) -> None:
    cid = add_contact(engine)
    with session_scope(engine) as s:
        s.add(Preference(contact_id=cid, frequency="weekly", updated_at=MON))
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid, B2B[0], now=MON, min_gap_seconds=0)).status == "sent"
        got = acts.send_drop(drop(cid, B2B[1], now=MON + 4 * DAY, min_gap_seconds=0))
    assert got.status == "deferred" and got.deferred_until == datetime(2026, 3, 9, 9, tzinfo=UTC)  # window opens


def test_a_broadcast_outside_the_window_waits_for_it_and_skips_holidays(engine: Engine) -> None:
    cid = add_contact(engine, time_zone="Europe/Berlin", country="DE")
    evening = datetime(2026, 12, 24, 19, 31, tzinfo=UTC)  # 20:31 on Christmas Eve in Berlin
    with outbox_activities(engine, closure_dates=[date(2026, 12, 28)]) as acts:
        got = acts.send_drop(replace(drop(cid, B2B[0], now=evening), broadcast_id="xmas"))
        assert got.status == "deferred"
        assert got.deferred_until == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)  # after 25, 26 and the closure
        assert acts.send_drop(replace(drop(cid, B2B[0], now=got.deferred_until), broadcast_id="xmas")).status == "sent"


def test_holidays_and_closures_hold_only_for_a_journey_that_opted_in(engine: Engine) -> None:
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # Friday 11:00 in Berlin, a public holiday in Germany
    closed = datetime(2026, 12, 28, 10, 0, tzinfo=UTC)  # Monday 11:00, a company closure
    closures = [date(2026, 12, 28)]
    assert REGISTRY["b2c_cultivation"].holidays and REGISTRY["b2b_drip"].holidays
    assert not REGISTRY["customer_care"].holidays
    one = add_contact(engine, email="hol1@example.com", time_zone="Europe/Berlin", country="DE")
    two = add_contact(engine, email="hol2@example.com", time_zone="Europe/Berlin", country="DE")
    with outbox_activities(engine, closure_dates=closures) as acts:
        opted = acts.send_drop(drop(one, B2C[0], journey="b2c_cultivation", now=christmas, min_gap_seconds=0))
        assert opted.status == "deferred" and "holiday" in opted.detail
        # not on 25 or 26 December: Sunday 27 at 08:00, when its every-day window opens
        assert opted.deferred_until == datetime(2026, 12, 27, 7, 0, tzinfo=UTC)
        care = acts.send_drop(drop(one, CARE[0], journey="customer_care", now=christmas, min_gap_seconds=0))
        assert care.status == "sent"  # it did not opt in: Christmas Day is a day like any other in its window
        held = acts.send_drop(drop(two, B2B[0], now=closed, min_gap_seconds=0))
        assert held.status == "deferred" and held.deferred_until == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)
        care = acts.send_drop(drop(two, CARE[1], journey="customer_care", now=closed, min_gap_seconds=0))
        assert care.status == "sent"
    assert sent_times(engine, one) == [christmas] and sent_times(engine, two) == [closed]  # customer_care's only


def test_compressed_time_skips_calendar_rules_but_keeps_the_gap(engine: Engine) -> None:
    cid = add_contact(engine)
    saturday = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)
    with outbox_activities(engine, drop_caps="1/7d") as acts:
        assert acts.send_drop(drop(cid, B2B[0], now=saturday, time_scale=100.0, min_gap_seconds=60)).status == "sent"
        later = saturday + timedelta(seconds=30)
        again = acts.send_drop(drop(cid, B2B[1], now=later, time_scale=100.0, min_gap_seconds=60))
        assert again.status == "deferred" and again.deferred_until == saturday + timedelta(seconds=60)


@dataclass(order=True)
class Attempt:
    due: datetime
    seq: int
    inp: SendDropInput


def test_a_month_of_three_journeys_and_two_broadcasts_breaks_no_cap_and_loses_nothing(engine: Engine) -> None:
    """Caps 1 per 3 days and 2 per week: every drop is sent in priority order or expires with a reason."""
    spec, tz = "1/3d,2/7d", "Europe/Berlin"
    cid = add_contact(engine, time_zone=tz)
    journeys = [("b2b_drip", "wf-a", B2B), ("b2c_cultivation", "wf-b", B2C), ("b2b_drip", "wf-c", B2B_LATE)]
    queue: list[Attempt] = []
    seq = 0

    def plan(inp: SendDropInput, at: datetime) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(queue, Attempt(at, seq, replace(inp, now=at)))

    for n, (journey, wf, items) in enumerate(journeys):
        plan(
            drop(cid, items[0], journey=journey, workflow_id=wf, min_gap_seconds=86400.0), MON + n * timedelta(hours=5)
        )
    for n, (item, at) in enumerate((("b2b-thirty-days", MON + 4 * DAY), ("b2b-pricing-explained", MON + 11 * DAY))):
        plan(drop(cid, item, workflow_id=f"wf-a-b{n}", min_gap_seconds=86400.0, broadcast_id=f"bc-{n}"), at)
    end = MON + 31 * DAY
    outcomes: dict[str, str] = {}
    sent_at: dict[str, datetime] = {}
    with outbox_activities(engine, drop_caps=spec, deferred_drop_ttl=timedelta(days=10)) as acts:
        while queue and queue[0].due < end:
            attempt = heapq.heappop(queue)
            inp = attempt.inp
            result = acts.send_drop(inp)
            outcomes[inp.item_id] = result.status
            if result.status == "deferred":
                assert result.deferred_until is not None and result.deferred_until > inp.now
                plan(inp, result.deferred_until)
                continue
            if result.status == "sent":
                sent_at[inp.item_id] = inp.now
            if inp.broadcast_id is None:  # the journey's rhythm: its next item four days on
                journey, wf, items = next(j for j in journeys if j[1] == inp.workflow_id)
                following = items.index(inp.item_id) + 1
                if following < len(items):
                    plan(replace(inp, item_id=items[following]), inp.now + 4 * DAY)
    times = sent_times(engine, cid)
    assert len(times) >= 6
    assert caps_hold(times, spec, tz)
    assert all(b - a >= DAY for a, b in itertools.pairwise(times))
    rows = deferred(engine, cid)
    assert rows, "the caps never blocked anything: the scenario proves nothing"
    # every drop planned ended sent, expired (its row says why) or still waiting: none refused or dropped silently
    assert set(outcomes.values()) <= {"sent", "expired", "deferred"}, outcomes
    by_item = {r.item_id: r for r in rows}
    assert all(by_item[i].reason for i, o in outcomes.items() if o != "sent")
    for row in rows:  # nothing lost: sent, expired with a reason, or still waiting for a slot after the month
        assert row.state in (DeferredState.SENT, DeferredState.EXPIRED, DeferredState.WAITING), row
        if row.state == DeferredState.EXPIRED:
            assert row.reason.startswith("expired")
        if row.state == DeferredState.WAITING:
            assert outcomes[row.item_id] == "deferred"
    # priority: a broadcast that was due never waited behind a drip sent while it waited
    for row in rows:
        if row.broadcast_id is None or row.item_id not in sent_at:
            continue
        overtaken = [
            other.item_id
            for other in rows
            if other.broadcast_id is None
            and other.item_id in sent_at
            and row.earliest <= sent_at[other.item_id] < sent_at[row.item_id]
        ]
        assert overtaken == [], (row.item_id, overtaken)
    assert {outcomes["b2b-thirty-days"], outcomes["b2b-pricing-explained"]} <= {"sent", "expired"}
