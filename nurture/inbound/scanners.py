"""Telling a person's click from a machine's, on the links nurture renders.

Corporate mail gateways (Microsoft Defender Safe Links, Mimecast, Proofpoint, Barracuda, ...) follow every link in
a message when it arrives, and link previews fetch them too. Counted as engagement, those would score a contact
as hot and move every journey waiting for a click. A machine click is stored (the history shows it, with why)
but never counts: the same rule SendGrid's `sg_machine_open` gets for opens.

A click is a machine's when:
- it is a HEAD request (scanners check the target without fetching it; browsers never send HEAD for a link);
- the User-Agent is missing or names a scanner, a crawler or a link-preview bot;
- it comes within `DELIVERY_WINDOW` of the drop being sent: no person has opened and read the email by then.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

DELIVERY_WINDOW = timedelta(seconds=20)

_SCANNER_AGENTS = re.compile(
    r"bot\b|bot/|crawler|spider|scanner|preview|slurp|facebookexternalhit|"
    r"barracuda|mimecast|proofpoint|safelinks|safe links|forcepoint|symantec|trendmicro|trend micro|"
    r"fireeye|sophos|zscaler|cisco|ironport|microsoft office protocol discovery|ms-office|"
    r"headlesschrome|phantomjs",
    re.IGNORECASE,
)


def machine_reason(
    *, kind: str, method: str, user_agent: str | None, sent_at: datetime | None, now: datetime
) -> str | None:
    """Why this request is a machine's (a short label for the event's data), or None for a person.

    A HEAD request is a machine's whatever it fetched; the other signs are judged on clicks only (an open pixel
    is fetched by the reader's own mail client and image proxies, whose agents and timing say nothing).
    """
    if method.upper() == "HEAD":
        return "HEAD request (link scanner)"
    if kind != "clicked":
        return None
    agent = (user_agent or "").strip()
    if not agent:
        return "no user agent"
    if _SCANNER_AGENTS.search(agent):
        return f"scanner user agent: {agent[:80]}"
    if sent_at is not None and timedelta(0) <= now - sent_at < DELIVERY_WINDOW:
        return f"within {int(DELIVERY_WINDOW.total_seconds())} s of delivery"
    return None
