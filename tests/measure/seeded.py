"""A seeded population for uplift tests and reports: 3,000 contacts through the shipped b2b_drip, with its
declared holdout and subject-line test (`definitions/b2b_drip.py`), converting (clicking) at known rates; plus
clicks that must not count, and lifecycle moves for stage outcomes.

Each contact's first touch records what the journey would have recorded: `held_out` for the holdout, and its
subject-line arm in `touch.variants` (held-out contacts too: the storyboard asks `j.variant` for everyone).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from definitions.b2b_drip import SUBJECT_LINE
from nurture.db import Contact, Enrollment, Event, StageChange, Touch
from workflows.dsl import REGISTRY
from workflows.experiments import in_holdout, position

JOURNEY = "b2b_drip"
SPEC = REGISTRY[JOURNEY]
HOLDOUT_SHARE = SPEC.holdout
SUBJECT = SPEC.experiment(SUBJECT_LINE.key) or SUBJECT_LINE
RATES = {"holdout": 0.10, "a": 0.20, "b": 0.30}  # click within 14 days
MQL_RATES = {"holdout": 0.05, "a": 0.12, "b": 0.12}  # reached mql (or later) within 14 days
POPULATION = 3000


def true_arm(contact_id: int) -> str:
    return "holdout" if in_holdout(JOURNEY, HOLDOUT_SHARE, contact_id) else SUBJECT.arm(contact_id)


def converts(contact_id: int) -> bool:
    return position("seed", contact_id) < RATES[true_arm(contact_id)]


def qualifies(contact_id: int) -> bool:
    return position("seed-mql", contact_id) < MQL_RATES[true_arm(contact_id)]


def _rows(table: Any) -> Any:
    return insert(table.__table__)


def seed(conn: Any, now: datetime) -> None:
    """Contacts 1..POPULATION enrolled 30 days ago; 100 more enrolled yesterday (their window is still open)."""
    t0 = now - timedelta(days=30)
    ids = range(1, POPULATION + 101)
    person = {"status": "active", "topics": [], "created_at": t0 - timedelta(days=9), "updated_at": t0}
    person |= {"first_name": "", "last_name": "", "company": "", "persona": "finance-lead", "time_zone": "UTC"}
    conn.execute(_rows(Contact), [{"id": i, "email": f"c{i}@example.com", "consent_source": ""} | person for i in ids])
    enrolled = {i: t0 if i <= POPULATION else now - timedelta(days=1) for i in ids}
    conn.execute(
        _rows(Enrollment),
        [
            {"contact_id": i, "journey": JOURNEY, "workflow_id": f"journey/{JOURNEY}/contact-{i}", "enrolled_at": at}
            for i, at in enrolled.items()
        ],
    )
    conn.execute(_rows(Touch), [touch(i, enrolled[i]) for i in ids])
    events: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for i in ids:

        def ev(kind: str, at: datetime, n: int, machine: bool = False, i: int = i) -> None:
            events.append(
                {"dedupe_key": f"seed-{i}-{n}", "contact_id": i, "kind": kind, "source": "demo", "occurred_at": at}
                | {"received_at": at, "journey": JOURNEY, "machine": machine, "data": {}}
            )

        def move(to: str, at: datetime, i: int = i) -> None:
            moves.append({"contact_id": i, "from_stage": None, "to_stage": to, "at": at, "why": "seed"})
            moves[-1] |= {"actor_kind": "journey_step", "actor_id": ""}

        move("subscriber", t0 - timedelta(days=9))  # before enrollment: never an outcome
        if i > POPULATION:
            ev("clicked", now - timedelta(hours=2), 0)  # recent enrollee: not counted
            move("mql", now - timedelta(hours=2))
            continue
        if converts(i):
            ev("clicked", t0 + timedelta(days=3), 0)
            ev("clicked", t0 + timedelta(days=5), 1)  # a second click: still one conversion
        elif i % 5 == 0:
            ev("clicked", t0 + timedelta(days=20), 0)  # outside the 14-day window
        elif i % 7 == 0:
            ev("clicked", t0 + timedelta(days=2), 0, machine=True)  # a scanner, not a person
        if i % 11 == 0:
            ev("clicked", t0 - timedelta(days=3), 9)  # before enrollment
        if qualifies(i):  # a third of them straight to customer: reaching a later stage passes mql too
            move("customer" if i % 3 == 0 else "mql", t0 + timedelta(days=4))
        elif i % 4 == 0:
            move("recycled", t0 + timedelta(days=6))  # a side stage: never "reached mql"
        elif i % 9 == 0:
            move("mql", t0 + timedelta(days=20))  # outside the window
    conn.execute(_rows(Event), events)
    conn.execute(_rows(StageChange), moves)


def touch(contact_id: int, at: datetime, step: str = "drop 1", **changes: Any) -> dict[str, Any]:
    """The first drop's touch as the journey records it: held out or sent, with the contact's arm."""
    held = in_holdout(JOURNEY, HOLDOUT_SHARE, contact_id)
    row = {
        "idempotency_key": f"journey/{JOURNEY}/contact-{contact_id}:{step}",
        "contact_id": contact_id,
        "journey": JOURNEY,
        "workflow_id": f"journey/{JOURNEY}/contact-{contact_id}",
        "step": step,
        "item_id": "b2b-close-checklist",
        "channel": "email",
        "sender": "outbox",
        "status": "held_out" if held else "sent",
        "reason": "",
        "created_at": at,
        "sent_at": None if held else at,
        "variants": {SUBJECT.key: SUBJECT.arm(contact_id)},
    }
    return row | changes


def expected(arm_of: Any, converted: Any = converts) -> dict[str, tuple[int, int]]:
    """(entered, converted) per arm, from the seeding rules alone."""
    out: dict[str, list[int]] = {}
    for i in range(1, POPULATION + 1):
        arm = arm_of(i)
        if arm is None:
            continue
        n = out.setdefault(arm, [0, 0])
        n[0] += 1
        n[1] += converted(i)
    return {k: (v[0], v[1]) for k, v in out.items()}


def holdout_arm(contact_id: int) -> str:
    return "holdout" if in_holdout(JOURNEY, HOLDOUT_SHARE, contact_id) else "treated"


def subject_arm(contact_id: int) -> str | None:
    return None if in_holdout(JOURNEY, HOLDOUT_SHARE, contact_id) else SUBJECT.arm(contact_id)
