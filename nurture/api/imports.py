"""`POST /imports/{kind}` (API token): a CRM sync sends the same CSV the CLI imports (contacts, orders, attendance).

The body is the CSV itself (`Content-Type: text/csv`, UTF-8), at most `NURTURE_IMPORT_MAX_BODY_BYTES` (20 MB by
default; read in chunks and refused with a 413 past the limit by `nurture.api.limits`, before this handler).
All or nothing: any bad line is a 422 naming every bad line (`detail`: "line N: reason"), and nothing is stored.
Sending the same file again changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from definitions.leads.sources import DEFAULT_ORDER
from nurture.api.auth import require_token
from nurture.api.deps import in_transaction
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.lifecycle.imports import KINDS, ImportRefusedError, import_file

router = APIRouter(tags=["imports"], dependencies=[Depends(require_token)])
MAX_NAMED = 1000  # bad lines named in one answer (the count says how many there were)


@router.post("/imports/{kind}", response_model=None)
async def import_csv(
    request: Request,
    kind: Annotated[str, Path(max_length=20)],
    source: Annotated[str, Query(max_length=40)] = "crm",
    name: Annotated[str, Query(max_length=200)] = "http",
) -> dict[str, Any] | JSONResponse:
    if kind not in KINDS:
        raise ApiError(404, f"no import of {kind!r}; kinds are {', '.join(KINDS)}")
    if source not in DEFAULT_ORDER:
        raise ApiError(422, f"unknown source {source!r}; sources are {', '.join(DEFAULT_ORDER)}")
    body = await request.body()  # within the import limit: the body limit refused anything larger
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, f"body is not UTF-8 text (byte {err.start})") from err
    now = utcnow()

    def run(conn: Connection) -> dict[str, Any]:
        return import_file(conn, kind, text, name=f"{name} ({kind})", now=now, source=source).as_dict()

    try:
        return await in_transaction(request, run)
    except ImportRefusedError as refused:
        errors = refused.errors
        message = f"{len(errors)} bad line(s), nothing imported"
        detail = [str(e) for e in errors[:MAX_NAMED]]
        lines = [{"line": e.line, "reason": e.reason} for e in errors[:MAX_NAMED]]
        return JSONResponse({"error": message, "detail": detail, "lines": lines}, status_code=422)
