"""One-click unsubscribe (RFC 8058): `POST /u/{token}` suppresses the contact and ends its journeys.

Mail providers POST `List-Unsubscribe=One-Click` to the URL in the `List-Unsubscribe` header; the signed token
in the URL is the authorisation, so any POST to it unsubscribes. A GET (a person, or a link scanner) only shows
a page with a button: scanners must not unsubscribe anyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from nurture.api.deps import in_transaction, verified
from nurture.api.errors import ApiError
from nurture.api.pages import page
from nurture.clock import utcnow
from nurture.inbound.contacts import unsubscribe
from nurture.logging import get_logger

router = APIRouter(tags=["unsubscribe"])
log = get_logger(__name__)


@router.get("/u/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    verified(request, "unsubscribe", token)
    return page("Unsubscribe", "Stop receiving these emails?", form_action=str(request.url.path))


@router.post("/u/{token}", response_class=HTMLResponse)
async def unsubscribe_now(request: Request, token: str) -> HTMLResponse:
    contact_id = int(verified(request, "unsubscribe", token)["contact_id"])
    body = (await request.body())[:200]
    how = "one-click" if b"List-Unsubscribe=One-Click" in body else "unsubscribe page"
    now = utcnow()

    ip, agent = request.client.host if request.client else None, request.headers.get("user-agent")

    def suppress(conn: Connection) -> int:
        return unsubscribe(conn, contact_id, now, how=how, ip=ip, user_agent=agent).signals

    try:
        exits = await in_transaction(request, suppress)
    except LookupError as err:
        raise ApiError(404, "this link is no longer valid") from err
    log.info("contact.unsubscribed", contact_id=contact_id, how=how, exits_queued=exits)
    return page("Unsubscribed", "You will not receive these emails any more.")
