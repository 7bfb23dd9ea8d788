"""The browser console under /console: sign-in, journeys and funnels, broadcasts, contacts, leads, bulk operations.

Server-rendered (Jinja2 templates in `templates/`), with a little plain JavaScript and a vendored Chart.js in
`static/` (no CDN at run time). `mount(app)` adds it to the API.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from nurture.api.errors import ApiError
from nurture.console import auth, broadcasts, bulk, contacts, journeys, leads
from nurture.console.throttle import VERIFY_AT_ONCE, LoginThrottle
from nurture.console.web import HERE, PREFIX, SignInRequiredError, signed_in

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def mount(app: FastAPI) -> None:
    """Serve the console from `app` under /console. Every page but the sign-in form asks for a session first
    (the routers' own dependency, and a catch-all for paths that name nothing): a stranger gets the same trip
    to the sign-in page for a journey, broadcast or contact that exists and one that does not."""
    app.state.login_throttle = LoginThrottle()
    app.state.login_verifies = asyncio.Semaphore(VERIFY_AT_ONCE)
    app.mount(PREFIX + "/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.include_router(auth.router)
    for module in (journeys, broadcasts, contacts, leads, bulk):
        app.include_router(module.router, dependencies=[Depends(signed_in)])

    @app.get(PREFIX, include_in_schema=False, dependencies=[Depends(signed_in)])
    async def home() -> Response:
        return RedirectResponse(PREFIX + "/journeys", status_code=303)

    @app.api_route(PREFIX + "/{rest:path}", methods=METHODS, include_in_schema=False, dependencies=[Depends(signed_in)])
    async def nothing_here(rest: str) -> Response:
        raise ApiError(404, "no such console page")

    @app.exception_handler(SignInRequiredError)
    async def sign_in(_request: Request, exc: SignInRequiredError) -> Response:
        return RedirectResponse(f"{PREFIX}/login?next={quote(exc.next_path, safe='/')}", status_code=303)
