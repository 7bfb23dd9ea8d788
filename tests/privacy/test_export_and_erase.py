"""GDPR over HTTP on both backends: export holds every fact; erase leaves no personal data anywhere in the
database, queues the journeys' exits, keeps counts, is idempotent and audited, and the address stays suppressed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from nurture import temporal_names, workflow_ids
from nurture.db import CallTask, Enrollment, Erasure, Event, Handoff, Preference, Score, StageChange, Touch, Visitor
from nurture.db.engine import session_scope
from tests.activities.helpers import T0, drop, outbox_activities
from tests.fixtures.api import AUTH, ServedApi

EMAIL = "Zephyrine.Q@Brightwater.example"
PERSON = {"first_name": "Zephyrine", "last_name": "Quillfeather", "company": "Brightwater Obscura"}
NEEDLES = ["zephyrine", "quillfeather", "brightwater", "203.0.113.77"]


async def opt_in(api: ServedApi) -> int:
    body = {
        "email": EMAIL,
        "persona": "finance-lead",
        **PERSON,
        "consent": {"source": "https://ledgerline.example/whitepaper#form", "ip": "203.0.113.77"},
    }
    created = await api.http.post("/contacts", json=body, headers=AUTH)  # a trusted integration learns the id
    assert created.status_code == 201, created.text
    return int(created.json()["contact_id"])


def give_it_a_life(engine: Engine, cid: int) -> None:
    """Rows in every kind of table: a drop (rendered mail with the name), a visitor, a handoff, preferences."""
    workflow_id = workflow_ids.journey_workflow_id("b2b_drip", cid)
    with session_scope(engine) as s:
        s.add(Enrollment(contact_id=cid, journey="b2b_drip", workflow_id=workflow_id, enrolled_at=T0))
        s.add(Visitor(anonymous_id="anon-zq-1", contact_id=cid, first_seen_at=T0, identified_at=T0))
        s.add(
            Event(
                dedupe_key="web:pv:zq",
                anonymous_id="anon-zq-1",
                kind="page_view",
                source="web",
                occurred_at=T0,
                received_at=T0,
                url="https://ledgerline.example/pricing?email=zephyrine.q%40brightwater.example",
            )
        )
        s.add(
            Handoff(
                idempotency_key=f"{workflow_id}:1",
                contact_id=cid,
                journey="b2b_drip",
                workflow_id=workflow_id,
                score=50,
                reason="qualified",
                context={"email": EMAIL, "name": "Zephyrine Quillfeather"},
                feedback_reason="Zephyrine wants a call",
                created_at=T0,
            )
        )
        s.add(Preference(contact_id=cid, topics=["compliance"], frequency="weekly", updated_at=T0))
        s.add(Score(contact_id=cid, journey="b2b_drip", score=50, stage="decision", scored_at=T0))
        s.add(StageChange(contact_id=cid, to_stage="mql", at=T0, why="qualified", actor_kind="journey_step"))
        s.add(
            CallTask(
                idempotency_key=f"{workflow_id}:call:1",
                contact_id=cid,
                journey="b2b_drip",
                workflow_id=workflow_id,
                why="nearly ready",
                context={"name": "Zephyrine Quillfeather"},
                note="Zephyrine asked for Tuesday",
                created_at=T0,
            )
        )
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid, "b2b-close-checklist", workflow_id=workflow_id)).status == "sent"
        # the next one is held back by the weekly frequency: a deferred drop is a fact held about them too
        later = drop(cid, "b2b-approval-costs", workflow_id=workflow_id, now=T0 + timedelta(hours=1))
        assert acts.send_drop(later).status == "deferred"


def personal_data_left(engine: Engine) -> list[str]:
    """Every text and JSON value in every table, searched for the person's details."""
    found = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if any(n in str(value).lower() for n in [EMAIL.lower(), *NEEDLES]):
                        found.append(f"{table.name}.{column}")
    return found


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{model.__tablename__}"')).scalar_one())


async def test_export_returns_every_table_holding_the_contact(api: ServedApi, engine: Engine) -> None:
    cid = await opt_in(api)
    give_it_a_life(engine, cid)
    assert (await api.http.get(f"/contacts/{cid}/export")).status_code == 401
    got = await api.http.get(f"/contacts/{cid}/export", headers=AUTH)
    assert got.status_code == 200
    tables = got.json()["tables"]
    assert tables["contact"]["email"] == EMAIL.lower()
    assert tables["contact"]["consent_ip"] == "203.0.113.77"
    # profile, consent trail, events, touches, scores, stages, handoffs, tasks, deferred drops, preferences
    for name in ("touch", "outboxemail", "enrollment", "visitor", "handoff", "preference", "signaloutbox",
                 "consent", "score", "stage_change", "call_task", "deferred_drop"):  # fmt: skip
        assert tables[name], name
    assert tables["call_task"][0]["note"] == "Zephyrine asked for Tuesday"
    assert tables["deferred_drop"][0]["item_id"] == "b2b-approval-costs"
    kinds = {e["kind"] for e in tables["event"]}
    assert {"form_fill", "page_view"} <= kinds  # the anonymous visit before identifying is theirs too
    every_contact_table = {t.name for t in SQLModel.metadata.sorted_tables if "contact_id" in t.c}
    assert every_contact_table - {"erasure"} <= set(tables)
    assert (await api.http.get("/contacts/999999/export", headers=AUTH)).status_code == 404


async def test_erase_leaves_no_personal_data_keeps_counts_and_suppresses_the_address(
    api: ServedApi, engine: Engine
) -> None:
    cid = await opt_in(api)
    give_it_a_life(engine, cid)
    assert personal_data_left(engine)  # the search finds what is there
    touches, events = count(engine, Touch), count(engine, Event)

    assert (await api.http.delete(f"/contacts/{cid}?reason=asked+by+email")).status_code == 401
    erased = await api.http.delete(
        f"/contacts/{cid}?reason=request+ticket+4711", headers={**AUTH, "X-Requested-By": "dpo"}
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["already_erased"] is False
    assert erased.json()["journey_exits_queued"] == 1

    assert personal_data_left(engine) == []
    assert (count(engine, Touch), count(engine, Event)) == (touches, events)  # aggregates intact
    exits = api.outbox(contact_id=cid, signal=temporal_names.SIGNAL_EXIT)
    assert [(o.journey, o.payload["reason"]) for o in exits] == [("b2b_drip", "erased")]
    assert api.outbox(contact_id=cid, signal="enroll_journey") == []  # queued enrollments never start
    with session_scope(engine) as s:
        [audit] = s.execute(select(Erasure)).scalars().all()
    assert (audit.contact_id, audit.requested_by, audit.reason) == (cid, "dpo", "request ticket 4711")

    again = await api.http.delete(f"/contacts/{cid}?reason=twice", headers=AUTH)
    assert again.status_code == 200 and again.json()["already_erased"] is True
    assert personal_data_left(engine) == []

    # no future drop: the tombstone is suppressed
    with outbox_activities(engine) as acts:
        assert acts.send_drop(drop(cid, "b2b-approval-costs", workflow_id="wf-late")).status == "suppressed"
    # and the address, typed into a form again, is suppressed at once: no confirmation, no journey
    form = {"email": EMAIL, "double_opt_in": True, "consent": {"source": "form"}}
    stranger = await api.http.post("/contacts", json=form)  # the public door says nothing either way
    assert stranger.status_code == 202 and "contact_id" not in stranger.json()
    back = await api.http.post("/contacts", json=form, headers=AUTH)  # a trusted integration sees the outcome
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "suppressed"
    assert back.json()["confirmation_sent"] is False and back.json()["journeys"] == []
