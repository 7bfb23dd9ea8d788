"""Recording sales' answer to a pending row (a handoff's verdict, a call task's outcome): one shape for both doors.

The CRM calls these with the bearer token (`answer_router`). The answer is written in one transaction (with its
outbox row, by the writer the door passes); an unknown row is a 404 and a refused answer (another answer was
recorded first, or the journey stopped waiting) a 409, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Connection

from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError

T = TypeVar("T")


def answer_router() -> APIRouter:
    """A router for answers from sales: every route needs the API token."""
    return APIRouter(tags=["sales"], dependencies=[Depends(require_token)])


async def record_answer(
    request: Request,
    write: Callable[[Connection], T],
    *,
    unknown: type[LookupError],
    refused: type[ValueError],
) -> T:
    """Run `write` in one transaction; `unknown` becomes a 404 and `refused` a 409."""

    def record(conn: Connection) -> T:
        try:
            return write(conn)
        except unknown as err:
            raise ApiError(404, str(err)) from err
        except refused as err:
            raise ApiError(409, str(err)) from err

    return await in_transaction(request, record)
