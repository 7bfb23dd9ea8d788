"""What of a URL may reach Temporal: what journeys match on (the path), with personal data taken out.

Journeys match page views on the URL path (`workflows.dsl.PAGE_VIEW("/pricing*")`), so a signal carries the
scheme, host and path only: no query or fragment (`?email=...`, tokens), no user info. Email addresses are
always redacted from the path (`/pricing/for/someone@example.org`), and so is every pattern configured in
`NURTURE_PII_URL_PATTERNS` (a JSON list of regular expressions). The full URL stays in the database.

One redactor per configuration: `Settings.url_redactor` (built here, once per list of patterns). Every writer
that routes events (`nurture.inbound.store.route` and the functions that call it) takes it as a required
argument, so a door, the CLI or a worker cannot fall back to a redactor without the configured patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

EMAIL = r"[^/\s@]+@[^/\s@]+"
REDACTED = "redacted"
_PATH_SAFE = "/:@!$&'()*+,;=~"


@dataclass(frozen=True)
class Redactor:
    """Reduces URLs for Temporal; build one with `Redactor.of(extra_patterns)`."""

    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, extra: Iterable[str] = ()) -> Redactor:
        return cls(tuple(re.compile(p) for p in (EMAIL, *extra)))

    def url(self, url: str | None) -> str | None:
        """`https://shop.example/pricing/for/redacted` from `https://u:p@shop.example/pricing/for/a@b.c?x=1#y`."""
        if url is None:
            return None
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            host = f"[{host}]" if ":" in host else host
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # an unparseable netloc or port: keep nothing of it
            host = port = ""
            try:
                parts = urlsplit(url.split("://", 1)[-1].partition("/")[2])
            except ValueError:  # nor of a path that itself reads as a bad netloc (`http://a:99999///[::1`)
                parts = urlsplit("")
        path = unquote(parts.path)
        for pattern in self.patterns:
            path = pattern.sub(REDACTED, path)
        path = quote(path, safe=_PATH_SAFE)
        if not parts.scheme:
            return path if path.startswith("/") else "/" + path
        return f"{parts.scheme}://{host}{port}{path}"


@lru_cache(maxsize=16)
def configured(patterns: tuple[str, ...]) -> Redactor:
    """The redactor for these configured patterns (`Settings.url_redactor`)."""
    return Redactor.of(patterns)
