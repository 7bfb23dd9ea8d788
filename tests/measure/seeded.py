"""A seeded population for uplift tests and reports: 3,000 contacts in b2b_drip with a 10% holdout and an A/B
subject test, converting (clicking) at known rates; plus clicks that must not count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from nurture.db import Contact, Enrollment, Event
from workflows.experiments import Experiment, in_holdout, position

JOURNEY = "b2b_drip"
HOLDOUT_SHARE = 0.1
SUBJECT = Experiment.of("subject-line", ["a", "b"])
RATES = {"holdout": 0.10, "a": 0.20, "b": 0.30}  # click within 14 days
POPULATION = 3000


def rate_of(contact_id: int) -> float:
    if in_holdout(JOURNEY, HOLDOUT_SHARE, contact_id):
        return RATES["holdout"]
    return RATES[SUBJECT.arm(contact_id)]


def converts(contact_id: int) -> bool:
    return position("seed", contact_id) < rate_of(contact_id)


def seed(conn: Any, now: datetime) -> None:
    """Contacts 1..POPULATION enrolled 30 days ago; 100 more enrolled yesterday (their window is still open)."""
    t0 = now - timedelta(days=30)
    ids = range(1, POPULATION + 101)
    conn.execute(
        insert(Contact.__table__),  # type: ignore[attr-defined]
        [
            {
                "id": i,
                "email": f"c{i}@example.com",
                "status": "active",
                "topics": [],
                "created_at": t0,
                "updated_at": t0,
                "first_name": "",
                "last_name": "",
                "company": "",
                "persona": "general",
                "time_zone": "UTC",
                "consent_source": "",
            }
            for i in ids
        ],
    )
    conn.execute(
        insert(Enrollment.__table__),  # type: ignore[attr-defined]
        [
            {
                "contact_id": i,
                "journey": JOURNEY,
                "workflow_id": f"journey/{JOURNEY}/contact-{i}",
                "enrolled_at": t0 if i <= POPULATION else now - timedelta(days=1),
            }
            for i in ids
        ],
    )
    events = []
    for i in ids:

        def ev(kind: str, at: datetime, n: int, machine: bool = False, i: int = i) -> dict[str, Any]:
            return {
                "dedupe_key": f"seed-{i}-{n}",
                "contact_id": i,
                "kind": kind,
                "source": "demo",
                "occurred_at": at,
                "received_at": at,
                "journey": JOURNEY,
                "machine": machine,
                "data": {},
            }

        if i > POPULATION:
            events.append(ev("clicked", now - timedelta(hours=2), 0))  # recent enrollee: not counted
        elif converts(i):
            events.append(ev("clicked", t0 + timedelta(days=3), 0))
            events.append(ev("clicked", t0 + timedelta(days=5), 1))  # a second click: still one conversion
        elif i % 5 == 0:
            events.append(ev("clicked", t0 + timedelta(days=20), 0))  # outside the 14-day window
        elif i % 7 == 0:
            events.append(ev("clicked", t0 + timedelta(days=2), 0, machine=True))  # a scanner, not a person
        if i % 11 == 0:
            events.append(ev("clicked", t0 - timedelta(days=3), 9))  # before enrollment
    conn.execute(insert(Event.__table__), events)  # type: ignore[attr-defined]


def expected(arm_of: Any) -> dict[str, tuple[int, int]]:
    """(entered, converted) per arm, from the seeding rules alone."""
    out: dict[str, list[int]] = {}
    for i in range(1, POPULATION + 1):
        arm = arm_of(i)
        if arm is None:
            continue
        n = out.setdefault(arm, [0, 0])
        n[0] += 1
        n[1] += converts(i)
    return {k: (v[0], v[1]) for k, v in out.items()}
