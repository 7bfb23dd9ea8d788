"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

ROW_ID_MAX = 2**31 - 1  # ids are INTEGER columns: PostgreSQL's range, enforced on SQLite too


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite forgets the zone; we do not)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bulk_converter(self, dialect: Dialect) -> Callable[[datetime | None], Any]:
        """What `process_bind_param` and the dialect's own processor make of a value, in one step (bulk inserts
        convert a thousand values per batch). SQLite: the text SQLAlchemy's DATETIME writes,
        `YYYY-MM-DD HH:MM:SS.ffffff` in UTC; PostgreSQL: the aware UTC datetime psycopg adapts itself."""
        sqlite = dialect.name == "sqlite"

        def convert(value: datetime | None) -> Any:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            # the first 26 characters leave out the "+00:00"; years are always four digits
            return value.isoformat(" ", "microseconds")[:26] if sqlite else value

        return convert

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
