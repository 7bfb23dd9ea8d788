"""Rows written by `nurture.db.bulk_insert` read back exactly as Core writes them, duplicates are skipped, and
two bulk inserts in one transaction each see only their own rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from nurture.db import bulk_insert
from nurture.inbound.store import EVENT, event_row

T0 = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _rows(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        event_row(
            dedupe_key=f"{prefix}:{i:04d}", kind="clicked", source="sendgrid",
            occurred_at=T0 + timedelta(seconds=i % 7),
            received_at=T0, url=f"https://x.example/{i}", machine=i % 2 == 0,
            data={"n": i, "big": 2**70, "text": "é\u2603\n\t\\\"", "list": [1, None, True], "nested": {"a": 1.5}},
        )
        for i in range(n)
    ]  # fmt: skip


def _read(engine: Engine, prefix: str) -> list[dict[str, Any]]:
    c = EVENT.c
    with engine.connect() as conn:
        found = conn.execute(select(EVENT).where(c.dedupe_key.like(f"{prefix}:%")).order_by(c.dedupe_key)).mappings()
        return [{k: v for k, v in row.items() if k not in ("id", "dedupe_key")} for row in found]


def test_bulk_rows_read_back_as_core_rows_and_duplicates_are_skipped(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(EVENT), _rows("core", 40))
        first = bulk_insert.insert_new(conn, EVENT, _rows("bulk", 40), "dedupe_key")
        again = bulk_insert.insert_new(conn, EVENT, _rows("bulk", 45), "dedupe_key")  # 40 known, 5 new

    assert _read(engine, "bulk")[:40] == _read(engine, "core")
    assert sorted(first) == [f"bulk:{i:04d}" for i in range(40)]
    assert sorted(again) == [f"bulk:{i:04d}" for i in range(40, 45)]
    assert not set(first.values()) & set(again.values())


def test_a_batch_larger_than_one_chunk_is_inserted_whole(engine: Engine) -> None:
    n = bulk_insert.SQLITE_CHUNK * 2 + 7
    with engine.begin() as conn:
        ids = bulk_insert.insert_new(conn, EVENT, _rows("many", n), "dedupe_key")

    assert len(ids) == n == len(_read(engine, "many"))
