"""What handlers share: the app context, one transaction per request off the event loop, caller identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from nurture import tokens
from nurture.api.auth import has_api_token
from nurture.api.errors import ApiError
from nurture.clock import utcnow
from nurture.context import AppContext
from nurture.outbound.relay import OutboxRelay

T = TypeVar("T")


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def relay_of(request: Request) -> OutboxRelay | None:
    relay: OutboxRelay | None = request.app.state.relay
    return relay


async def in_transaction(request: Request, work: Callable[[Connection], T]) -> T:
    """Run `work` in one database transaction on a worker thread; nudge the relay after it commits."""
    engine = ctx_of(request).engine

    def run() -> T:
        with engine.begin() as conn:
            return work(conn)

    result = await run_in_threadpool(run)
    relay = relay_of(request)
    if relay is not None:
        relay.nudge()
    return result


def verified(request: Request, purpose: str, token: str, *, expiring: bool = False) -> dict[str, str]:
    """The fields of a signed token, or 403."""
    secret = ctx_of(request).settings.tracking_secret.get_secret_value()
    try:
        return tokens.verify(secret, purpose, token, now=utcnow() if expiring else None)
    except tokens.BadTokenError as err:
        raise ApiError(403, f"invalid or expired link ({err})") from err


def acting_contact(request: Request, contact_id: int | None, contact_token: str | None) -> int | None:
    """The contact a browser or server may act for: a signed contact token, or a contact id with the API token."""
    if contact_token is not None:
        signed = int(verified(request, "contact", contact_token)["contact_id"])
        if contact_id is not None and contact_id != signed:
            raise ApiError(403, "contact_id does not match contact_token")
        return signed
    if contact_id is not None and not has_api_token(request):
        raise ApiError(
            403,
            "a contact_id needs proof: pass the contact_token returned by POST /contacts, "
            "or call with the API token (Authorization: Bearer)",
        )
    return contact_id
