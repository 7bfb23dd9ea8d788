"""Errors as clear JSON: bad input is a 4xx with a message, an unreachable database a 503 (clients retry)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from nurture.logging import get_logger

log = get_logger(__name__)


class ApiError(HTTPException):
    """An expected refusal with a message for the caller."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code=status_code, detail=message)


def _validation_messages(err: RequestValidationError) -> list[str]:
    messages = []
    for problem in err.errors()[:10]:
        loc = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        messages.append(f"{loc}: {problem.get('msg')}" if loc else str(problem.get("msg")))
    return messages


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

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
        message = f"a value cannot be stored, nothing was stored: {exc.orig}"[:500]
        return JSONResponse({"error": message}, status_code=400)

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if isinstance(exc, IntegrityError):
            log.warning("api.conflict", error=str(exc)[:300])
            return JSONResponse({"error": "conflicting write, nothing was stored; retry"}, status_code=409)
        log.warning("api.database_error", error=str(exc)[:300])
        return JSONResponse({"error": "database error, nothing was stored; retry later"}, status_code=503)
