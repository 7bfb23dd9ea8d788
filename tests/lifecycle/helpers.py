"""Contacts and facts for lifecycle tests, written with the real models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from nurture.db.tables import CONTACT, CONTACT_FACT, EVENT

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Profile facts: a decision maker at a mid-market software company in a served country (A+), and a student (D-).
STRONG = {"role": "VP Finance", "company_size": "350", "industry": "Software", "country": "GB"}
POOR = {"role": "Student", "company_size": "3", "industry": "education", "country": "ZZ"}


def profile_csv(email: str, facts: dict[str, str]) -> str:
    """A one-contact CRM import (`POST /imports/contacts`, `nurture import contacts`) carrying profile facts."""
    return f"email,{','.join(facts)}\n{email},{','.join(facts.values())}\n"


def unique_contact_id() -> int:
    """A contact id no other test uses: the shared Temporal servers outlive each test's database, and workflow ids
    carry contact ids (an explicit id also keeps PostgreSQL's sequence out of it)."""
    return 10_000_000 + secrets.randbelow(2_000_000_000)


def add_contact(conn: Connection, email: str, at: datetime = T0, contact_id: int | None = None, **facts: str) -> int:
    chosen = {} if contact_id is None else {"id": contact_id}
    cid = conn.execute(
        insert(CONTACT)
        .values(
            **chosen,
            email=email,
            first_name="",
            last_name="",
            company=facts.pop("company", ""),
            persona="general",
            time_zone="UTC",
            topics=[],
            status="active",
            consent_source="test form",
            created_at=at,
            updated_at=at,
        )
        .returning(CONTACT.c.id)
    ).scalar_one()
    for field, value in facts.items():
        conn.execute(
            insert(CONTACT_FACT).values(contact_id=cid, field=field, value=value, source="form", updated_at=at)
        )
    return int(cid)


def add_event(conn: Connection, contact_id: int, kind: str, at: datetime, url: str | None = None) -> None:
    conn.execute(
        insert(EVENT).values(
            dedupe_key=f"t:{contact_id}:{kind}:{at.isoformat()}:{url}",
            contact_id=contact_id,
            kind=kind,
            source="test",
            occurred_at=at,
            received_at=at,
            url=url,
            machine=False,
            data={},
        )
    )
