"""CSV imports on both databases: all or nothing with every bad line named, source-wins per field, idempotent,
and imported facts flowing into fit, score, stages and goals (an order ends the contact's journeys)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from nurture import temporal_names as names
from nurture.db.tables import CONTACT, ENROLLMENT, SIGNAL_OUTBOX
from nurture.lifecycle.imports import ImportRefusedError, import_file
from nurture.lifecycle.leads import profile_facts, top_leads
from nurture.lifecycle.stages import stage_history
from nurture.workflow_ids import journey_workflow_id
from tests.lifecycle.helpers import T0, add_contact

NOW = T0 + timedelta(days=5)

CONTACTS = """email,external_id,first_name,company,role,company_size,industry,country,lifecycle_stage
ada@example.com,crm-1,Ada,Acme Ltd,VP Finance,350,Software,GB,
new@example.com,crm-2,Nia,Beta Inc,Director,40,Software,US,lead
"""

ORDERS = """order_id,external_id,email,amount,currency,product,ordered_at
A-1,crm-1,,1200,GBP,ledgerline pro,2026-03-05
A-2,,new@example.com,99.5,USD,ledgerline lite,2026-03-06T10:00:00+00:00
"""


def row_counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in SQLModel.metadata.sorted_tables
    }


def enroll(conn: Connection, cid: int, journey: str = "b2b_drip") -> None:
    conn.execute(
        insert(ENROLLMENT).values(
            contact_id=cid, journey=journey, workflow_id=journey_workflow_id(journey, cid), enrolled_at=T0
        )
    )


def test_contacts_import_creates_grades_and_is_idempotent(engine: Engine) -> None:
    with engine.begin() as conn:
        ada = add_contact(conn, "ada@example.com", role="Student")  # typed in a form: the form wins the role
        first = import_file(conn, "contacts", CONTACTS, name="crm.csv", now=NOW)
    assert first.as_dict() == {
        "kind": "contacts", "lines": 2, "created": 1, "changed": 11, "unchanged": 0, "stages_moved": 1,
        "journeys_ended": 0, "contacts_touched": 2,
    }  # fmt: skip
    with engine.begin() as conn:
        facts = profile_facts(conn, ada)
        assert facts["role"] == "Student" and facts["company_size"] == "350" and facts["company"] == "Acme Ltd"
        new = conn.execute(select(CONTACT).where(CONTACT.c.email == "new@example.com")).one()
        assert new.status == "pending_confirmation" and new.first_name == "Nia" and new.consent_source == "import:crm"
        assert [h.to_stage for h in stage_history(conn, new.id)] == ["subscriber", "lead"]
        grades = {v.contact_id: v.grade for v in top_leads(conn)}
        assert grades == {ada: "C+", new.id: "A"}  # the form wins the role: "Student" holds Ada back
        before = row_counts(conn)
        again = import_file(conn, "contacts", CONTACTS, name="crm.csv", now=NOW + timedelta(hours=1))
        assert (again.created, again.changed, again.stages_moved, again.unchanged) == (0, 0, 0, 2)
        assert row_counts(conn) == before


def test_orders_make_customers_and_end_their_journeys_once(engine: Engine) -> None:
    with engine.begin() as conn:
        ada = add_contact(conn, "ada@example.com")
        enroll(conn, ada)
        import_file(conn, "contacts", CONTACTS, name="crm.csv", now=NOW)
        result = import_file(conn, "orders", ORDERS, name="orders.csv", now=NOW)
    assert (result.created, result.stages_moved, result.journeys_ended) == (2, 2, 1)
    with engine.begin() as conn:
        [exit_row] = conn.execute(select(SIGNAL_OUTBOX).where(SIGNAL_OUTBOX.c.signal == names.SIGNAL_EXIT)).all()
        assert exit_row.contact_id == ada and exit_row.journey == "b2b_drip"
        assert exit_row.payload["reason"] == "goal_reached" and exit_row.payload["goal"] == "purchase"
        last = stage_history(conn, ada)[-1]
        assert (last.to_stage, last.actor_kind, last.actor_id, last.why) == (
            "customer",
            "import",
            "orders.csv",
            "order A-1 (crm)",
        )
        assert conn.execute(select(CONTACT.c.status).where(CONTACT.c.id == ada)).scalar_one() == "customer"
        [ada_lead] = top_leads(conn, contact_ids=[ada])
        assert ada_lead.value == 1200 and "orders worth 1200" in ada_lead.why
        before = row_counts(conn)
        again = import_file(conn, "orders", ORDERS, name="orders.csv", now=NOW + timedelta(days=1))
        assert (again.created, again.journeys_ended, again.unchanged) == (0, 0, 2)
        assert row_counts(conn) == before


def test_attendance_scores_and_makes_a_lead(engine: Engine) -> None:
    text = (
        "event,email,status,attended_at\n"
        "summit-26,ada@example.com,attended,2026-03-06\n"
        "summit-26,lin@example.com,no_show,2026-03-06\n"
    )
    with engine.begin() as conn:
        ada = add_contact(conn, "ada@example.com")
        lin = add_contact(conn, "lin@example.com")
        result = import_file(conn, "attendance", text, name="summit.csv", now=NOW)
        views = {v.contact_id: v for v in top_leads(conn)}
        assert [h.to_stage for h in stage_history(conn, ada)] == ["subscriber", "lead"]
        assert [h.to_stage for h in stage_history(conn, lin)] == ["subscriber"]
    assert result.created == 2 and result.stages_moved == 1
    assert views[ada].score > 9 and "event_attended" in views[ada].signals and views[lin].score == 0


def test_a_bad_file_imports_nothing_and_names_every_bad_line(engine: Engine) -> None:
    text = (
        "order_id,email,amount,ordered_at\n"
        "B-1,ada@example.com,10,2026-03-01\n"
        "B-2,nobody@example.com,10,2026-03-01\n"
        "B-3,ada@example.com,ten,2026-03-01\n"
        "B-1,ada@example.com,10,2026-03-01\n"
        "B-5,not-an-email,10,yesterday\n"
        ",ada@example.com,5,2026-03-01\n"
    )
    with engine.begin() as conn:
        add_contact(conn, "ada@example.com")
        before = row_counts(conn)
        with pytest.raises(ImportRefusedError) as refused:
            import_file(conn, "orders", text, name="bad.csv", now=NOW)
        assert row_counts(conn) == before
    reasons = {e.line: e.reason for e in refused.value.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "no contact with nobody@example.com" in reasons[3]
    assert "not a number" in reasons[4]
    assert "repeats line 2" in reasons[5]
    assert "invalid email" in reasons[6]
    assert "order_id is empty" in reasons[7]
    with pytest.raises(ImportRefusedError, match="missing column ordered_at"):
        import_file(engine.connect(), "orders", "order_id,email\nX,ada@example.com\n", name="x.csv", now=NOW)
