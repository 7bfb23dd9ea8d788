"""The preference center: `GET /p/{token}` shows the contact's choices, `POST /p/{token}` changes them.

The signed token in every email's "preferences" link is the authorisation (knowing an email address gives
nothing). GET never changes anything (link scanners follow links); the form posts topics, frequency, a snooze
of 30/60/90 days, or unsubscribes through the same path as the unsubscribe link. Server-rendered, escaped.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Connection

from nurture.api.deps import in_transaction, verified
from nurture.api.errors import ApiError
from nurture.caps import Frequency
from nurture.clock import utcnow
from nurture.inbound import preferences
from nurture.inbound.contacts import unsubscribe
from nurture.logging import get_logger
from workflows.dsl import CATALOGS

router = APIRouter(tags=["preferences"])
log = get_logger(__name__)
PURPOSE = "preferences"
MAX_FORM_BYTES = 4096
FREQUENCY_LABELS = (
    (Frequency.ANY, "as it comes"),
    (Frequency.WEEKLY, "at most weekly"),
    (Frequency.MONTHLY, "at most monthly"),
)


def known_topics() -> list[str]:
    return sorted({t for catalog in CATALOGS.values() for item in catalog.items for t in item.topics})


def _form(action: str, now: preferences.Current) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="topics" value="{escape(t)}"{" checked" if t in now.topics else ""}>'
        f" {escape(t)}</label><br>"
        for t in sorted({*known_topics(), *now.topics})
    )
    freq = "".join(
        f'<label><input type="radio" name="frequency" value="{f.value}"{" checked" if f == now.frequency else ""}>'
        f" {escape(label)}</label><br>"
        for f, label in FREQUENCY_LABELS
    )
    snooze = "".join(f'<option value="{d}">pause all email for {d} days</option>' for d in preferences.SNOOZE_DAYS)
    until = f"<p>Email is paused until {escape(now.snoozed_until.date().isoformat())}.</p>" if now.snoozed_until else ""
    return (
        f'<form method="post" action="{escape(action)}"><h2>Topics</h2>{boxes}<h2>How often</h2>{freq}'  # noqa: S608
        f'<h2>A break</h2>{until}<select name="snooze"><option value="">no change</option>'
        f'<option value="0">resume email now</option>{snooze}</select>'
        '<p><button type="submit" name="action" value="save">Save</button> '
        '<button type="submit" name="action" value="unsubscribe">Unsubscribe from everything</button></p></form>'
    )


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _contact(request: Request, token: str) -> int:
    return int(verified(request, PURPOSE, token)["contact_id"])


@router.get("/p/{token}", response_class=HTMLResponse)
async def show(request: Request, token: str) -> HTMLResponse:
    contact_id = _contact(request, token)

    def read(conn: Connection) -> preferences.Current:
        return preferences.current(conn, contact_id)

    try:
        now = await in_transaction(request, read)
    except LookupError as err:
        raise ApiError(404, "this link is no longer valid") from err
    if now.status == "suppressed":
        return _page("Your email preferences", "<p>You are unsubscribed: we do not email you.</p>")
    return _page("Your email preferences", _form(str(request.url.path), now))


def parse_choice(body: bytes) -> tuple[str, preferences.Choice]:
    """The form's fields; ValueError with a message for anything else."""
    fields = parse_qs(body.decode("utf-8", errors="strict"), keep_blank_values=True, max_num_fields=64)
    action = fields.get("action", ["save"])[-1]
    if action not in ("save", "unsubscribe"):
        raise ValueError(f"unknown action {action!r}")
    topics = tuple(dict.fromkeys(t.strip()[:100] for t in fields.get("topics", []) if t.strip()))
    if len(topics) > 50:
        raise ValueError("too many topics")
    frequency = Frequency(fields.get("frequency", [Frequency.ANY.value])[-1])
    raw_snooze = fields.get("snooze", [""])[-1]
    snooze = int(raw_snooze) if raw_snooze else None
    return action, preferences.Choice(topics=topics, frequency=frequency, snooze_days=snooze)


@router.post("/p/{token}", response_class=HTMLResponse)
async def change(request: Request, token: str) -> HTMLResponse:
    contact_id = _contact(request, token)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ApiError(413, "form too large")
    try:
        action, choice = parse_choice(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(422, f"invalid form: {err}") from err
    now = utcnow()

    def apply(conn: Connection) -> int:
        if action == "unsubscribe":
            return unsubscribe(conn, contact_id, now, how="preference center").signals
        return preferences.save(conn, contact_id, choice, now)

    try:
        signals = await in_transaction(request, apply)
    except LookupError as err:
        raise ApiError(404, "this link is no longer valid") from err
    except PermissionError as err:
        raise ApiError(409, str(err)) from err
    log.info("preferences.changed", contact_id=contact_id, action=action, signals_queued=signals)
    if action == "unsubscribe":
        return _page("Unsubscribed", "<p>You will not receive these emails any more.</p>")
    return _page("Saved", "<p>Your choices are saved and apply to the next emails.</p>")
