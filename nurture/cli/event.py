"""`nurture event`: deliver an event (a page view, an open, an unsubscribe, sales feedback) to a contact's journeys.

The event is stored and routed like the HTTP doors' events (one transaction with the outbox), then a relay pass
delivers it to Temporal.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nurture.cli import app
from nurture.cli.common import console, err_console, run_and_exit, settings_for_cli
from nurture.cli.drain import drain_with_progress
from nurture.clock import utcnow
from nurture.context import AppContext, app_context
from nurture.inbound.contacts import unsubscribe
from nurture.inbound.sales import VerdictRefusedError, open_handoff, record_verdict
from nurture.inbound.web import PageViewIn, store_page_view, store_web_engagement

EVENT_KINDS = ("page_view", "opened", "clicked", "unsubscribe", "sales_accepted", "sales_rejected")


@app.command()
def event(
    contact_id: Annotated[int, typer.Argument(help="The contact")],
    kind: Annotated[str, typer.Argument(help=" | ".join(EVENT_KINDS))],
    url: Annotated[str | None, typer.Option(help="Page URL (page_view) or link URL (clicked)")] = None,
    item: Annotated[str | None, typer.Option(help="Catalog item the open/click was on")] = None,
    topic: str | None = None,
    reason: Annotated[str, typer.Option(help="Sales feedback reason")] = "",
    journey: Annotated[str | None, typer.Option(help="Sales feedback: which journey (default: all)")] = None,
) -> None:
    """Deliver an event to a contact's journeys (stored and scored like any other event)."""
    settings = settings_for_cli()
    if kind not in EVENT_KINDS:
        err_console.print(f"[red]unknown event kind {kind!r}[/red]; use one of {', '.join(EVENT_KINDS)}")
        raise typer.Exit(2)
    if kind == "page_view" and not url:
        err_console.print("[red]page_view needs --url[/red]")
        raise typer.Exit(2)
    run_and_exit(_event(settings, contact_id, kind, url, item, topic, reason, journey))


async def _event(
    settings: Any, contact_id: int, kind: str, url: str | None, item: str | None, topic: str | None,
    reason: str, journey: str | None,
) -> int:  # fmt: skip
    async with app_context(settings) as ctx:
        if kind.startswith("sales_"):
            return await _sales_feedback(ctx, contact_id, kind == "sales_accepted", reason, journey)
        now = utcnow()
        try:
            with ctx.engine.begin() as conn:
                if kind == "page_view":
                    assert url is not None
                    stored = store_page_view(
                        conn,
                        PageViewIn(url=url, occurred_at=now, contact_id=contact_id, topic=topic),
                        now,
                        redactor=settings.url_redactor,  # the configured patterns, as the API's doors
                    )
                elif kind == "unsubscribe":
                    stored = unsubscribe(conn, contact_id, now, how="cli")
                else:
                    stored = store_web_engagement(
                        conn, contact_id=contact_id, kind=kind, token=f"cli:{now.isoformat()}", touch_id=None,
                        item_id=item, url=url, now=now, redactor=settings.url_redactor,
                    )  # fmt: skip
        except LookupError as err:
            err_console.print(f"[red]{err}[/red]")
            return 2
        await drain_with_progress(ctx, stored.signals, "signalling")
        console.print(f"stored {stored.stored} event(s); {stored.signals} signal(s) to journeys that listen for it")
    return 0


async def _sales_feedback(ctx: AppContext, contact_id: int, accepted: bool, reason: str, journey: str | None) -> int:
    """The same verdict as the CRM's HTTP door (`nurture.inbound.sales`), for the contact's open handoff."""
    try:
        with ctx.engine.begin() as conn:
            handoff_id = open_handoff(conn, contact_id, journey)
            if handoff_id is None:
                err_console.print(f"[red]contact {contact_id} has no handoff waiting for sales[/red]")
                return 2
            verdict = record_verdict(conn, handoff_id, accepted, reason, utcnow())
    except VerdictRefusedError as err:
        err_console.print(f"[red]{err}[/red]")
        return 2
    if verdict.queued:
        await drain_with_progress(ctx, 1, "signalling")
    console.print(f"handoff {handoff_id}: {verdict.status}" + ("" if verdict.queued else " (already recorded)"))
    return 0
