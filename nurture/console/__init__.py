"""The browser console under /console: sign-in, journeys and funnels, broadcasts, contacts, leads, bulk operations.

Server-rendered (Jinja2 templates in `templates/`), with a little plain JavaScript and a vendored Chart.js in
`static/` (no CDN at run time). `mount(app)` adds it to the API.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import RequestResponseEndpoint

from nurture.console import auth, broadcasts, bulk, contacts, journeys, leads
from nurture.console.web import HERE, PREFIX, SignInRequiredError


def mount(app: FastAPI) -> None:
    """Serve the console from `app` under /console."""
    app.mount(PREFIX + "/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    for module in (auth, journeys, broadcasts, contacts, leads, bulk):
        app.include_router(module.router)

    @app.get(PREFIX, include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse(PREFIX + "/journeys", status_code=303)

    @app.middleware("http")
    async def no_framing(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Clickjacking: no other site may frame a signed-in console and steer its clicks."""
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    @app.exception_handler(SignInRequiredError)
    async def sign_in(_request: Request, exc: SignInRequiredError) -> Response:
        return RedirectResponse(f"{PREFIX}/login?next={exc.next_path}", status_code=303)
