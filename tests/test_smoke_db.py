"""The schema migrates and round-trips aware datetimes on both backends."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from nurture.db import Contact
from nurture.db.engine import session_scope


def test_contact_round_trips_aware_utc_datetimes(engine: Engine) -> None:
    local = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    with session_scope(engine) as s:
        c = Contact(email="ada@example.com", first_name="Ada", created_at=local, updated_at=local, topics=["x"])
        s.add(c)
        s.flush()
        cid = c.id
    with session_scope(engine) as s:
        got = s.get(Contact, cid)
        assert got is not None
        assert got.created_at == local
        assert got.created_at.tzinfo == UTC
        assert got.topics == ["x"]
