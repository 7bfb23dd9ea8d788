"""Sign-in and sign-out. Users are console users (database or configuration), never the API token.

The session cookie holds a random token (the database keeps its hash): HttpOnly, SameSite=Lax, Secure over
https. The sign-in form carries its own CSRF token (a double-submit cookie), every later POST the session's.
Attempts are limited per user name from one address, per address and per user name (`throttle`), counted when
they start by the app's own throttle (`app.state.login_throttle`, made by `nurture.console.mount`: two apps in
one process never share counts); passwords are checked off the event loop, `VERIFY_AT_ONCE` at a time.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from nurture.clock import utcnow
from nurture.console import passwords, store
from nurture.console.throttle import Attempt, LoginThrottle
from nurture.console.web import COOKIE, PREFIX, checked_form, ctx_of, db, page, signed_in
from nurture.logging import get_logger

log = get_logger(__name__)
router = APIRouter(prefix=PREFIX, include_in_schema=False)
PRE_COOKIE = "nurture_console_signin"


def throttle_of(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def _safe_next(value: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/journeys"


def _login_page(request: Request, next_path: str, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status_code, next=next_path, error=error, csrf_token=token)
    secure = request.url.scheme == "https"
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="lax", secure=secure, path=PREFIX)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "") -> HTMLResponse:
    return _login_page(request, _safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or ""))
    given, expected = str(form.get("csrf_token") or ""), request.cookies.get(PRE_COOKIE, "")
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _login_page(request, next_path, "The form expired: please sign in again.", 403)
    client = request.client.host if request.client else "?"
    throttle = throttle_of(request)
    attempt = throttle.attempt(client, username)  # counted now: attempts sent at once all see each other
    if not isinstance(attempt, Attempt):
        log.warning("console.login_throttled", username=username[:120], client=client)
        wait = int(attempt) + 1
        response = _login_page(request, next_path, f"Too many failed attempts: try again in {wait} s.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    settings = ctx_of(request).settings
    stored = await db(request, lambda s: store.password_hash_of(s, username, settings.console_users))
    async with request.app.state.login_verifies:  # argon2 holds 64 MiB and ~50 ms of CPU: a few at a time
        right = await run_in_threadpool(passwords.verify, stored, password)  # off the event loop
    if not username or not right:
        log.warning("console.login_failed", username=username[:120], client=client)
        return _login_page(request, next_path, "Wrong user name or password.", 401)
    throttle.succeeded(attempt)
    now, lifetime = utcnow(), timedelta(hours=settings.console_session_hours)

    def open_it(s: Session) -> str:
        token, _ = store.open_session(s, username, now, lifetime)
        store.audit(s, username, "console.signed_in", f"user:{username}", {"client": client}, now)
        return token

    token = await db(request, open_it)
    log.info("console.signed_in", username=username)
    done = RedirectResponse(next_path, status_code=303)
    done.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )
    done.delete_cookie(PRE_COOKIE, path=PREFIX)
    return done


@router.post("/logout")
async def logout(request: Request, user: store.SignedIn = Depends(signed_in)) -> Response:
    await checked_form(request, user)
    token = request.cookies.get(COOKIE, "")
    await db(request, lambda s: store.close_session(s, token))
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response
