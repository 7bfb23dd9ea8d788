"""Profile text that reaches email bodies ("Hi {first_name},"): what a stranger may put there.

Names and company names are plain words: no links, no markup, no control characters. Emails escape them in HTML
anyway (`activities.email.render`); this keeps a form from turning a greeting into a phishing line in the text
part as well.
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 120
COMPANY_MAX = 200

_LINK = re.compile(r"(?i)(://|\bwww\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(/|\b))")
_LINK_WITH_PATH = re.compile(r"(?i)(://|\bwww\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}/)")
_MARKUP = re.compile(r"[<>{}$\\]")


def _plain(value: str, what: str, most: int) -> str:
    text = value.strip()
    if len(text) > most:
        raise ValueError(f"{what} is longer than {most} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") for ch in text):
        raise ValueError(f"{what} contains control or invisible characters")
    if _MARKUP.search(text):
        raise ValueError(f"{what} contains markup characters")
    return text


def check_name(value: str, what: str = "name") -> str:
    """A person's name: no links or domain names at all."""
    text = _plain(value, what, NAME_MAX)
    if _LINK.search(text) or "@" in text:
        raise ValueError(f"{what} looks like a link or an address; names cannot carry links")
    return text


def check_company(value: str) -> str:
    """A company name: a bare domain is a name some companies go by (Booking.com); a link with a path is not."""
    text = _plain(value, "company", COMPANY_MAX)
    if _LINK_WITH_PATH.search(text) or "@" in text:
        raise ValueError("company looks like a link; company names cannot carry links")
    return text
