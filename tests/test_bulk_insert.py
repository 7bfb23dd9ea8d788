"""Rows written by `nurture.db.bulk_insert` read back exactly as Core writes them, duplicates are skipped, and
two bulk inserts in one transaction each see only their own rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from nurture.db import bulk_insert
from nurture.db.tables import EVENT
from nurture.inbound.store import event_row

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
    with engine.connect() as conn:  # each key's id is the id its row got
        c = EVENT.c
        stored = dict(conn.execute(select(c.dedupe_key, c.id).where(c.dedupe_key.like("bulk:%"))).all())
    assert {**first, **again} == stored


def test_known_keys_among_new_ones_get_no_id(engine: Engine) -> None:
    rows = _rows("mix", 30)
    with engine.begin() as conn:
        bulk_insert.insert_new(conn, EVENT, rows[::3], "dedupe_key")  # every third key is known
        new = bulk_insert.insert_new(conn, EVENT, rows, "dedupe_key")
        c = EVENT.c
        stored = dict(conn.execute(select(c.dedupe_key, c.id).where(c.dedupe_key.like("mix:%"))).all())

    assert sorted(new) == sorted(r["dedupe_key"] for i, r in enumerate(rows) if i % 3)
    assert new == {k: stored[k] for k in new}


def test_a_batch_larger_than_one_chunk_is_inserted_whole(engine: Engine) -> None:
    n = 1_007  # more than any one statement of the earlier chunked inserts held
    with engine.begin() as conn:
        ids = bulk_insert.insert_new(conn, EVENT, _rows("many", n), "dedupe_key")

    assert len(ids) == n == len(_read(engine, "many"))


def test_the_bulk_datetime_converter_gives_what_the_type_and_dialect_processors_give() -> None:
    # on SQLite the stored text is compared in SQL (`occurred_at > ?`): it must be the very text Core writes
    from sqlalchemy.dialects import postgresql, sqlite

    column = EVENT.c.occurred_at.type
    plus_two = timezone(timedelta(hours=2))
    values = [
        T0, T0.replace(microsecond=0), T0.astimezone(plus_two), datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))), None,
    ]  # fmt: skip
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        core = column._cached_bind_processor(dialect)
        assert [column.bulk_converter(dialect)(v) for v in values] == [core(v) for v in values]
    with pytest.raises(ValueError, match="naive"):
        column.bulk_converter(sqlite.dialect())(datetime(2026, 1, 1))
