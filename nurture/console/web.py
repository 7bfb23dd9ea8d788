"""What console pages share: templates, the database off the event loop, the signed-in user, CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.console import store
from nurture.context import AppContext
from nurture.db.engine import session_scope

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
COOKIE = "nurture_console"
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))  # autoescape on for .html
T = TypeVar("T")


class SignInRequiredError(Exception):
    """No valid session: the handler sends the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def db(request: Request, work: Callable[[Session], T]) -> T:
    """One unit of work on a worker thread, committed when it returns."""
    engine = ctx_of(request).engine

    def run() -> T:
        with session_scope(engine) as session:
            return work(session)

    return await run_in_threadpool(run)


async def signed_in(request: Request) -> store.SignedIn:
    """FastAPI dependency: the session behind the cookie, or a trip to the sign-in page."""
    token = request.cookies.get(COOKIE)
    now, configured = utcnow(), ctx_of(request).settings.console_users

    def find(s: Session) -> store.SignedIn | None:
        found = store.find_session(s, token or "", now)
        # a user removed or disabled since signing in is signed out at once
        return found if found and store.password_hash_of(s, found.username, configured) else None

    user = await db(request, find) if token else None
    if user is None:
        raise SignInRequiredError(request.url.path)
    return user


async def checked_form(request: Request, user: store.SignedIn) -> dict[str, Any]:
    """The posted form, refused (403) unless it carries this session's CSRF token."""
    form = await request.form()
    given = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
    if not given or not hmac.compare_digest(given.encode(), user.csrf_token.encode()):
        raise ApiError(403, "missing or wrong CSRF token: reload the page and try again")
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}


def page(
    request: Request, name: str, user: store.SignedIn | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, name, {"user": user, "prefix": PREFIX, **values}, status_code=status_code
    )


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


TEMPLATES.env.filters["when"] = fmt_time
