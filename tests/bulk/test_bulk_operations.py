"""Bulk pause, resume and end over HTTP on both backends: a preview changes nothing, an operation stores the
reason per contact, queues exactly one signal per journey, and finishes after a crash without repeating one."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from nurture import temporal_names, workflow_ids
from nurture.clock import utcnow
from nurture.db import BulkAction, BulkOperation, BulkOperationItem, Enrollment, Score
from nurture.db.engine import session_scope
from nurture.inbound import bulk
from tests.activities.helpers import add_contact
from tests.fixtures.api import API_TOKEN, ServedApi

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def audience(engine: Engine) -> dict[str, list[int]]:
    """Six b2b_drip journeys (three in decision, one of them ended), one in another journey."""
    now = utcnow()
    ids: dict[str, list[int]] = {"decision": [], "awareness": [], "other": []}
    for n in range(7):
        cid = add_contact(engine, email=f"b{n}@example.com")
        journey = "b2c_cultivation" if n == 6 else "b2b_drip"
        stage = "decision" if n in (0, 1, 5) else "awareness"
        with session_scope(engine) as s:
            wid = workflow_ids.journey_workflow_id(journey, cid)
            s.add(Enrollment(contact_id=cid, journey=journey, workflow_id=wid,
                             enrolled_at=now, ended_at=now if n == 5 else None))  # fmt: skip
            s.add(Score(contact_id=cid, journey=journey, score=10, stage="awareness", scored_at=now))
            s.add(Score(contact_id=cid, journey=journey, score=50 if stage == "decision" else 5, stage=stage,
                        scored_at=now))  # fmt: skip
        if n in (0, 1):
            ids["decision"].append(cid)
        elif n in (2, 3, 4):
            ids["awareness"].append(cid)
        else:
            ids["other"].append(cid)
    return ids


async def test_preview_changes_nothing_and_pause_signals_each_journey_once(api: ServedApi, engine: Engine) -> None:
    ids = audience(engine)
    body = {"action": "pause", "journey": "b2b_drip", "stage": "decision", "reason": "pricing change", "preview": True}
    assert (await api.http.post("/journeys/bulk", json=body)).status_code == 401
    seen = await api.http.post("/journeys/bulk", json=body, headers=AUTH)
    assert seen.status_code == 200
    assert seen.json() == {"preview": True, "count": 2, "sample": ids["decision"]}
    assert api.count(BulkOperation) == 0 and api.outbox() == []

    done = await api.http.post("/journeys/bulk", json={**body, "preview": False}, headers=AUTH)
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["total"], done.json()["done"]) == ("done", 2, 2)
    signals = api.outbox(signal=temporal_names.SIGNAL_PAUSE_JOURNEY)
    assert sorted(o.contact_id for o in signals) == ids["decision"] and {o.journey for o in signals} == {"b2b_drip"}
    with session_scope(engine) as s:
        reasons = {i.reason for i in s.exec(select(BulkOperationItem)).all()}
    assert reasons == {"pricing change"}
    got = await api.http.get(f"/journeys/bulk/{done.json()['operation_id']}", headers=AUTH)
    assert got.json()["done"] == 2
    assert (await api.http.get("/journeys/bulk/999", headers=AUTH)).status_code == 404
    bad = await api.http.post("/journeys/bulk", json={**body, "action": "explode"}, headers=AUTH)
    assert bad.status_code == 422


async def test_an_interrupted_operation_finishes_without_repeating_a_signal(api: ServedApi, engine: Engine) -> None:
    ids = audience(engine)
    everyone = bulk.BulkAudience("b2b_drip")
    with engine.begin() as conn:
        op = bulk.create(conn, BulkAction.END, everyone, "campaign retired", "ops", utcnow())
    with engine.begin() as conn:
        first = bulk.process_batch(conn, op, utcnow(), batch=2)  # then the process dies
    assert (first.done, first.total, first.finished) == (2, 5, False)
    finished = await api.http.post(f"/journeys/bulk/{op}/continue", headers=AUTH)
    assert finished.json()["state"] == "done" and finished.json()["done"] == 5
    again = await api.http.post(f"/journeys/bulk/{op}/continue", headers=AUTH)
    assert again.json()["done"] == 5
    exits = api.outbox(signal=temporal_names.SIGNAL_EXIT)
    assert sorted(o.contact_id for o in exits) == sorted(ids["decision"] + ids["awareness"])  # once each
    assert {o.payload["reason"] for o in exits} == {"manual"}
