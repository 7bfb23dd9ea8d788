"""Errors as clear JSON: bad input is a 4xx with a message, an unreachable database a 503 (clients retry).

Every error answer has one shape, `ErrorOut` (`{"error": "...", "detail": [...]}`), documented on every route
(`RESPONSES`, given to the app). Messages never echo undecodable text (a lone surrogate would break the answer).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from nurture.logging import get_logger

log = get_logger(__name__)


class ErrorOut(BaseModel):
    """The error schema: a message for people, and for invalid requests one line per problem."""

    error: str
    detail: list[str] | None = None


_DESCRIPTIONS = {
    400: "Unreadable or unstorable input (not JSON, a value the database refuses)",
    401: "The API token is missing or wrong",
    403: "Not allowed: a bad signature, token or link",
    404: "No such resource",
    405: "Method not allowed",
    409: "Conflicts with what is stored",
    413: "Body too large",
    422: "Invalid request: one line per problem in `detail`",
    429: "Too many requests",
    503: "Database or Temporal unavailable, nothing was stored: retry later",
}
# `content` names JSON even on routes whose own answer is HTML (a page): their errors are JSON all the same
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "model": ErrorOut,
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    for code, text in _DESCRIPTIONS.items()
}


def safe_text(text: object) -> str:
    """`text` as a string any JSON encoder takes (lone surrogates and other unencodable characters escaped)."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


class ApiError(HTTPException):
    """An expected refusal with a message for the caller."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)


def _validation_messages(err: RequestValidationError) -> list[str]:
    messages = []
    for problem in err.errors()[:10]:
        loc = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        msg = str(problem.get("msg")).removeprefix("Value error, ")
        messages.append(f"{loc}: {msg}" if loc else msg)
    return [safe_text(m) for m in messages]


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException and ApiError too
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": safe_text(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RuntimeError)
    async def temporal_down(_request: Request, exc: RuntimeError) -> JSONResponse:
        # the Temporal client connects lazily: an unreachable server surfaces as "Failed client connect"
        if "client connect" not in str(exc):
            raise exc
        log.warning("api.temporal_unavailable", error=safe_text(exc)[:300])
        return JSONResponse({"error": "Temporal unavailable, nothing was changed; retry later"}, status_code=503)

    @app.exception_handler(UnicodeError)
    async def undecodable(_request: Request, exc: UnicodeError) -> JSONResponse:
        # a lone surrogate or invalid UTF-8 that got past validation (a path, a header): bad input
        log.warning("api.undecodable_input", error=safe_text(exc)[:300])
        return JSONResponse({"error": "a value is not valid unicode, nothing was stored"}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(p.get("type") == "json_invalid" for p in exc.errors()):
            return JSONResponse({"error": "body is not valid JSON"}, status_code=400)
        messages = _validation_messages(exc)
        return JSONResponse({"error": "invalid request: " + "; ".join(messages), "detail": messages}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    async def database_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("api.database_unavailable", error=str(exc)[:300])
        return JSONResponse({"error": "database unavailable, nothing was stored; retry later"}, status_code=503)

    @app.exception_handler(DataError)
    async def unstorable(_request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value (too long, NUL byte, out of range): bad input, retrying cannot help
        log.warning("api.unstorable_input", error=str(exc.orig)[:300])
        message = safe_text(f"a value cannot be stored, nothing was stored: {exc.orig}")[:500]
        return JSONResponse({"error": message}, status_code=400)

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if isinstance(exc, IntegrityError):
            log.warning("api.conflict", error=str(exc)[:300])
            return JSONResponse({"error": "conflicting write, nothing was stored; retry"}, status_code=409)
        log.warning("api.database_error", error=str(exc)[:300])
        return JSONResponse({"error": "database error, nothing was stored; retry later"}, status_code=503)
