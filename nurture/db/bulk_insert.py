"""Bulk inserts for the ingest path: a thousand rows per statement, without per-value ORM or Core work.

SQLAlchemy's executemany runs a Python bind processor for every value (UTC datetimes, JSON) and builds a
parameter dict per row; on a 1,000-event webhook batch that was most of the time. Here each column is converted
in one pass: UTC datetimes by `UTCDateTime.bulk_converter` (the text or value the type's own processor chain
gives, without the chain), JSON by orjson, other types by the type's own processor once per distinct value; the
rows then go straight to the driver:

- SQLite: the driver's `executemany` of one prepared `INSERT ... [ON CONFLICT (key) DO NOTHING]`; the ids of
  the rows it inserted are then read back by id range (`_sqlite_insert_new` says why that range is exact);
- PostgreSQL: `COPY` into a temporary staging table (one per session, emptied at commit), then one
  `INSERT ... SELECT ... ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING id, key`.

Rows go in sorted by key: concurrent inserts of overlapping keys then wait in one order, never in a cycle. Both
run in the caller's transaction; the rows land exactly as Core would write them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection

from nurture.db.types import UTCDateTime

Row = tuple[Any, ...]


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
    if conn.dialect.name == "postgresql":
        return dict(_copy_then_insert(conn, table, names, values, _quote(conn, key)))
    k = names.index(key)
    values.sort(key=lambda row: str(row[k]))
    return _sqlite_insert_new(conn, table, names, values, k)


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
    cursor = _driver_cursor(conn)
    try:
        cursor.executemany(_sqlite_insert(conn, table, names), values)
    finally:
        cursor.close()
    return len(values)


def _converted(conn: Connection, table: Table, names: list[str], rows: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows as driver values, in `names` order: converted column by column."""
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        convert = _converter(conn, table, name)
        columns.append(values if convert is None else list(map(convert, values)))
    return list(zip(*columns, strict=True))


def _converter(conn: Connection, table: Table, name: str) -> Callable[[Any], Any] | None:
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return json_text  # PostgreSQL reads the text in COPY; SQLite stores it as is
    process: Callable[[Any], Any] | None
    if isinstance(column_type, UTCDateTime):
        process = column_type.bulk_converter(conn.dialect)
    else:
        process = column_type._cached_bind_processor(conn.dialect)  # the type's own conversion
    if process is None:
        return None
    return _once(process)


def _once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, run once per distinct value (a batch's datetimes and flags repeat)."""
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


def _sqlite_insert(conn: Connection, table: Table, names: list[str], tail: str = "") -> str:
    values = ", ".join("?" * len(names))
    return f"INSERT INTO {_quote(conn, table.name)} ({_columns(conn, names)}) VALUES ({values}){tail}"  # noqa: S608


def _sqlite_insert_new(conn: Connection, table: Table, names: list[str], values: list[Row], k: int) -> dict[Any, int]:
    """`executemany` of `INSERT ... ON CONFLICT DO NOTHING`, then {key: id} of the rows it inserted.

    The driver's executemany binds each row in C (a multi-row VALUES with RETURNING cost a third more), but it
    returns no rows, so the new ids are read back by range. That range is exact: from its first write the
    transaction holds SQLite's one write lock, so no other connection inserts meanwhile, and SQLite gives each
    new row of a rowid table the largest id so far plus one (https://sqlite.org/autoinc.html; ids here are far
    below the 2**63 where it would start picking at random). So the `rowcount` rows just inserted are the ones
    with the highest ids. Checked anyway: every key read back must be one of this call's and the count must
    match, else the transaction is refused (rolled back by the caller) rather than a row mis-attributed."""
    key = _quote(conn, names[k])
    target = _quote(conn, table.name)
    cursor = _driver_cursor(conn)
    try:
        cursor.executemany(_sqlite_insert(conn, table, names, f" ON CONFLICT ({key}) DO NOTHING"), values)
        inserted = cursor.rowcount
        if inserted <= 0:
            return {}
        if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            raise RuntimeError("bulk_insert.insert_new needs a transaction on SQLite (ids are read back by range)")
        cursor.execute(
            f"SELECT {key}, id FROM {target} WHERE id > (SELECT max(id) FROM {target}) - ?",  # noqa: S608 - names
            (inserted,),
        )
        found: dict[Any, int] = dict(cursor.fetchall())
    finally:
        cursor.close()
    if len(found) != inserted or not found.keys() <= {row[k] for row in values}:
        raise RuntimeError(f"{table.name}: the {inserted} new ids read back do not match the rows inserted")
    return found


def _copy_then_insert(
    conn: Connection, table: Table, names: list[str], values: list[Row], key: str
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
