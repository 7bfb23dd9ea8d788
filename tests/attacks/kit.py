"""What the attack scripts share: a contact made by the trusted integration, and a snapshot of every table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, func, select, text
from sqlalchemy.engine import Engine

from tests.fixtures.api import AUTH, ServedApi

VICTIM = "victim@ledgerline.example"


async def victim(api: ServedApi, email: str = VICTIM) -> int:
    """A known, active contact (created by the API token, single opt-in)."""
    made = await api.http.post(
        "/contacts", json={"email": email, "first_name": "Ada", "consent": {"source": "crm"}}, headers=AUTH
    )
    assert made.status_code == 201, made.text
    return int(made.json()["contact_id"])


_schemas: dict[tuple[str, str], MetaData] = {}


def _tables(engine: Engine) -> MetaData:
    """The tables as the database has them, reflected once per backend and migration head (reflection costs
    about a second on PostgreSQL; every test database is migrated to the same head)."""
    with engine.connect() as conn:
        head = str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    key = (engine.dialect.name, head)
    if key not in _schemas:
        meta = MetaData()
        meta.reflect(engine)
        _schemas[key] = meta
    return _schemas[key]


# Derived counters the API's background fold (nurture.measure.rollup) catches up every few seconds from rows that
# already exist: they move on their own, whatever a request does, and hold nothing a request could change.
DERIVED = frozenset({"alembic_version", "funnel_mark", "funnel_count", "funnel_watermark"})


def everything(engine: Engine) -> dict[str, Any]:
    """Every row of every table a request could change: what an attack must leave untouched."""
    meta = _tables(engine)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name in DERIVED:
                continue
            cols = [c for c in table.columns if c.name not in ("updated_at", "last_seen_at")]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted(repr(tuple(r)) for r in rows)
            out[name + "#"] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return out
