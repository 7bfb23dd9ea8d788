"""What the attack scripts share: a contact made by the trusted integration, and a snapshot of every table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, func, select
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


def everything(engine: Engine) -> dict[str, Any]:
    """Every row of every table: what an attack must leave untouched."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            cols = [c for c in table.columns if c.name not in ("updated_at", "last_seen_at")]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted(repr(tuple(r)) for r in rows)
            out[name + "#"] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return out
