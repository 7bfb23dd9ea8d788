"""The funnel counts what happened to each drop position, keeps machine opens apart and exits by reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from nurture.clock import utcnow
from nurture.db.tables import CONTACT, ENROLLMENT, EVENT, TOUCH
from nurture.measure import rollup
from nurture.measure.funnel import funnel, journeys

pytestmark = pytest.mark.measured  # b2b_drip with its shipped holdout

T0 = utcnow().replace(microsecond=0) - timedelta(days=30)


def _seed(conn: Any) -> None:
    conn.execute(
        insert(CONTACT),
        [
            {
                "id": i,
                "email": f"c{i}@example.com",
                "status": "active",
                "topics": [],
                "created_at": T0,
                "updated_at": T0,
                "first_name": "",
                "last_name": "",
                "company": "",
                "persona": "general",
                "time_zone": "UTC",
                "consent_source": "",
            }
            for i in range(1, 5)
        ],
    )
    outcomes = {1: None, 2: None, 3: "unsubscribed", 4: "customer"}
    conn.execute(
        insert(ENROLLMENT),
        [
            {
                "contact_id": i,
                "journey": "b2b_drip",
                "workflow_id": f"journey/b2b_drip/contact-{i}",
                "enrolled_at": T0,
                "ended_at": None if outcomes[i] is None else T0 + timedelta(days=9),
                "outcome": outcomes[i],
            }
            for i in range(1, 5)
        ],
    )
    touches = []
    for i in range(1, 5):  # everyone got drop 1 a day after entry; contacts 1 and 2 got drop 2 on day 3
        touches.append((i, "drop 1", f"item-a{i % 2}", T0 + timedelta(days=1)))
        if i <= 2:
            touches.append((i, "drop 2", "item-b", T0 + timedelta(days=3)))
    touches.append((1, "broadcast launch", "item-launch", T0 + timedelta(days=5)))
    conn.execute(
        insert(TOUCH),
        [
            {
                "idempotency_key": f"journey/b2b_drip/contact-{c}:{item}",
                "contact_id": c,
                "journey": "b2b_drip",
                "workflow_id": f"journey/b2b_drip/contact-{c}",
                "step": step,
                "item_id": item,
                "channel": "email",
                "sender": "outbox",
                "status": "suppressed" if (c, step) == (4, "drop 1") else "sent",
                "reason": "",
                "created_at": at,
                "sent_at": at,
                "broadcast_id": "launch" if step.startswith("broadcast") else None,
            }
            for c, step, item, at in touches
        ],
    )
    events = [
        (1, "item-a1", "delivered", False, 0.1),
        (1, "item-a1", "opened", False, 2),
        (1, "item-a1", "opened", False, 5),  # a second open of the same drop counts once, from the first
        (1, "item-a1", "clicked", False, 4),
        (2, "item-a0", "delivered", False, 0.1),
        (2, "item-a0", "opened", True, 0.2),  # Apple MPP: a machine's open
        (3, "item-a1", "delivered", False, 0.1),
        (3, "item-a1", "clicked", True, 0.01),  # a link scanner
        (1, "item-b", "opened", False, 1),
        (2, "other-item", "opened", False, 1),  # not a drop of this journey: never counted
    ]
    sent = {(c, item): at for c, _, item, at in touches}
    conn.execute(
        insert(EVENT),
        [
            {
                "dedupe_key": f"e{n}",
                "contact_id": c,
                "kind": kind,
                "source": "sendgrid",
                "journey": "b2b_drip",
                "item_id": item,
                "machine": machine,
                "data": {},
                "occurred_at": sent.get((c, item), T0) + timedelta(hours=hours),
                "received_at": T0,
            }
            for n, (c, item, kind, machine, hours) in enumerate(events)
        ],
    )


def test_funnel_counts_each_drop_position_with_machines_apart_and_exits_by_reason(engine: Engine) -> None:
    with engine.begin() as conn:
        _seed(conn)
    with engine.begin() as conn:
        assert funnel(conn, "b2b_drip").steps[0].opened == 0  # nothing folded yet
        assert rollup.refresh(conn, utcnow(), timedelta(0)) == rollup.Folded(touches=7, marks=8)
        assert rollup.refresh(conn, utcnow(), timedelta(0)) == rollup.Folded(touches=0, marks=0)
    with engine.connect() as conn:
        assert journeys(conn) == ["b2b_drip"]
        f = funnel(conn, "b2b_drip")
        assert funnel(conn, "no_such_journey").entered == 0
    assert (f.entered, f.running, f.exited) == (4, 2, {"unsubscribed": 1, "customer": 1})
    assert [s.step for s in f.steps] == ["drop 1", "drop 2", "broadcast launch"]
    first, second, launch = f.steps
    assert first.position == 1 and launch.position is None
    assert (first.reached, first.sent, first.by_status.get("suppressed")) == (4, 3, 1)
    assert (first.delivered, first.opened, first.machine_opened, first.clicked, first.machine_clicked) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert first.mean_days_from_entry is not None and abs(first.mean_days_from_entry - 1.0) < 1e-3
    assert first.mean_hours_to_open is not None and abs(first.mean_hours_to_open - 2.0) < 1e-3
    assert first.mean_hours_to_click is not None and abs(first.mean_hours_to_click - 4.0) < 1e-3
    assert (second.reached, second.opened, second.delivered) == (2, 1, 0)
    assert second.mean_days_from_entry is not None and abs(second.mean_days_from_entry - 3.0) < 1e-3
    assert (launch.reached, launch.opened) == (1, 0)


def test_refresh_folds_only_new_settled_rows_and_a_later_open_of_a_touch_counts_once(engine: Engine) -> None:
    with engine.begin() as conn:
        _seed(conn)
        rollup.refresh(conn, utcnow(), timedelta(0))
    fresh = utcnow()

    def event(key: str, contact: int, item: str, kind: str) -> dict[str, Any]:
        return {
            "dedupe_key": key,
            "contact_id": contact,
            "kind": kind,
            "source": "sendgrid",
            "journey": "b2b_drip",
            "item_id": item,
            "machine": False,
            "data": {},
            "occurred_at": fresh,
            "received_at": fresh,
        }

    with engine.begin() as conn:
        conn.execute(
            insert(EVENT),
            [event("late-1", 1, "item-a1", "opened"), event("late-2", 2, "item-a0", "opened")],
        )
        held = rollup.refresh(conn, fresh, timedelta(seconds=30))  # too young: a later refresh folds them
        assert held == rollup.Folded(0, 0)
        assert rollup.refresh(conn, fresh + timedelta(minutes=1), timedelta(seconds=30)) == rollup.Folded(0, 1)
    with engine.connect() as conn:
        first = funnel(conn, "b2b_drip").steps[0]
    assert (first.opened, first.machine_opened) == (2, 1)  # contact 1's second open changed nothing
