"""Ids as the doors accept them: ASCII digits in the column's range, the same answer on SQLite and PostgreSQL.

Python's `int()` (and lax validation) also reads `'١٢'`, `'1_000'`, `' 12'` and `'+12'`; an id in a path is
only ASCII digits. An id beyond the INTEGER column range is a 422, never a database error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator, Field

from nurture.db.types import ROW_ID_MAX


def _ascii_digits(value: object) -> object:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("an id is ASCII digits only")
    return value


PathId = Annotated[int, Path(ge=1, le=ROW_ID_MAX), BeforeValidator(_ascii_digits)]
BodyId = Annotated[int, Field(ge=1, le=ROW_ID_MAX, strict=True)]  # a JSON integer, not a string of digits
