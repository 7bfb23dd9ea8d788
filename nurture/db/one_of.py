"""`column IN (values)` with the values bound as one parameter, so the statement's text is the same whatever the
number of values: PostgreSQL `column = ANY(:array)`, SQLite `column IN (SELECT value FROM json_each(:json))`.

SQLAlchemy's expanding IN renders one placeholder (and on PostgreSQL one cast) per value at every execution, and
psycopg then parses a query text it has never seen; for a webhook batch's hundreds of contact and touch ids
that cost more than the queries. Both forms use the column's index (SQLite: `SEARCH ... USING INDEX`, one
lookup per value).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import ARRAY, String, any_, bindparam, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement


def one_of(conn: Connection, column: ColumnElement[Any], values: Iterable[int | str]) -> ColumnElement[bool]:
    """`column` is one of `values` (integers or strings), for a statement run on `conn`."""
    items = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, orjson.dumps(items).decode(), type_=String()))
    return column.in_(select(literal_column("value")).select_from(listed))
