"""Bulk inserts for the ingest path: a thousand rows per statement, without per-value ORM or Core work.

SQLAlchemy's executemany runs a Python bind processor for every value (UTC datetimes, JSON) and builds a
parameter dict per row; on a 1,000-event webhook batch that was most of the time. Here each column's value is
converted once per distinct value (datetimes repeat within a batch) with the column type's own processor, JSON
is written by orjson, and the statement goes straight to the driver:

- SQLite: multi-row `INSERT ... VALUES (...), ... [ON CONFLICT (key) DO NOTHING RETURNING id, key]` in chunks of
  a fixed size (so the driver's statement cache keeps them prepared);
- PostgreSQL: `COPY` into a temporary staging table (one per session, emptied at commit), then one
  `INSERT ... SELECT ... ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING id, key`. Rows go in sorted by key:
  concurrent inserts of overlapping keys then wait in one order, never in a cycle.

Both run in the caller's transaction; the rows land exactly as Core would write them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection

SQLITE_CHUNK = 500  # rows per statement (13 columns: 6,500 parameters, far under SQLite's 32,766)


def json_text(value: Any) -> str | None:
    """A JSON column's text (orjson; the standard encoder for what orjson refuses, e.g. integers over 64 bits)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> dict[Any, int]:
    """Insert the rows whose `key` is new; {key: id} of the inserted ones. Rows are taken sorted by `key`."""
    if not rows:
        return {}
    names = list(rows[0])
    values = _converted(conn, table, names, rows)
    k = names.index(key)
    if conn.dialect.name == "postgresql":
        return dict(_copy_then_insert(conn, table, names, values, _quote(conn, key)))
    values.sort(key=lambda row: str(row[k]))
    conflict = f" ON CONFLICT ({_quote(conn, key)}) DO NOTHING RETURNING {_quote(conn, key)}, id"
    return dict(_sqlite_values(conn, table, names, values, conflict))


def insert_all(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert every row in the given order (ids follow it); the count."""
    if not rows:
        return 0
    names = list(rows[0])
    values = _converted(conn, table, names, rows)
    if conn.dialect.name == "postgresql":
        cursor = _driver_cursor(conn)
        try:
            with cursor.copy(f"COPY {_quote(conn, table.name)} ({_columns(conn, names)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        finally:
            cursor.close()
        return len(values)
    _sqlite_values(conn, table, names, values, "")
    return len(values)


def _converted(conn: Connection, table: Table, names: list[str], rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows as driver values, in `names` order: converted column by column, once per distinct value."""
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        convert = _converter(conn, table, name)
        columns.append(values if convert is None else list(map(convert, values)))
    return [list(row) for row in zip(*columns, strict=True)]


def _converter(conn: Connection, table: Table, name: str) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return json_text  # PostgreSQL reads the text in COPY; SQLite stores it as is
    process = column_type._cached_bind_processor(conn.dialect)  # the type's own conversion
    if process is None:
        return None
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = process(value)
            return converted
        except TypeError:  # unhashable
            return process(value)

    return once


def _sqlite_values(
    conn: Connection, table: Table, names: list[str], values: list[list[Any]], tail: str
) -> list[tuple[Any, ...]]:
    columns = _columns(conn, names)
    one = "(" + ", ".join("?" * len(names)) + ")"
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(values), SQLITE_CHUNK):
        chunk = values[start : start + SQLITE_CHUNK]
        rows_sql = ", ".join([one] * len(chunk))
        sql = f"INSERT INTO {_quote(conn, table.name)} ({columns}) VALUES {rows_sql}{tail}"  # noqa: S608 - names
        flat = [value for row in chunk for value in row]
        cursor = _driver_cursor(conn)
        try:
            cursor.execute(sql, flat)
            if tail:
                out += cursor.fetchall()
        finally:
            cursor.close()
    return out


def _copy_then_insert(
    conn: Connection, table: Table, names: list[str], values: list[list[Any]], key: str
) -> list[tuple[Any, int]]:
    target = _quote(conn, table.name)
    shape = zlib.crc32(",".join(names).encode())  # one staging table per column list, should callers differ
    stage = _quote(conn, f"{table.name}_stage_{shape:08x}")
    columns = _columns(conn, names)
    cursor = _driver_cursor(conn)
    try:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608 - quoted names
            f"SELECT {columns} FROM {target} WITH NO DATA"
        )
        with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {stage} ORDER BY {key} "  # noqa: S608 - names
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}, id"
        )
        found: list[tuple[Any, int]] = cursor.fetchall()
        cursor.execute(f"DELETE FROM {stage}")  # noqa: S608 - a second batch in this transaction starts empty
        return found
    finally:
        cursor.close()


def _quote(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def _columns(conn: Connection, names: list[str]) -> str:
    return ", ".join(_quote(conn, name) for name in names)


def _driver_cursor(conn: Connection) -> Any:
    """A DBAPI cursor on the connection's current transaction (SQLAlchemy has begun it)."""
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
