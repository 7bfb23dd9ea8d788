"""The Mail Send request checks the fake SendGrid applies, with SendGrid's error shape.

Not all of SendGrid's rules: the ones a sender gets wrong in practice (no recipient, non-string custom_args,
reserved headers, HTML before plain text, missing subject or content).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BODY_BYTES = 30 * 1024 * 1024  # SendGrid's Mail Send limit
MAX_CUSTOM_ARGS_BYTES = 10_000
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding"}
    | {"to", "from", "subject", "reply-to", "cc", "bcc"}
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_mail(body: Any) -> list[dict[str, Any]]:
    """SendGrid-style errors for a Mail Send body (empty list: valid)."""
    errors: list[dict[str, Any]] = []

    def err(message: str, field: str | None) -> None:
        errors.append({"message": message, "field": field, "help": None})

    if not isinstance(body, dict):
        err("Bad Request", None)
        return errors
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not 1 <= len(personalizations) <= 1000:
        err("The personalizations field is required and must have at least one personalization.", "personalizations")
        personalizations = []
    for i, p in enumerate(personalizations):
        to = p.get("to") if isinstance(p, dict) else None
        if not isinstance(to, list) or not to:
            err("The to array is required for all personalization objects.", f"personalizations.{i}.to")
            continue
        for j, rcpt in enumerate(to):
            if not isinstance(rcpt, dict) or not _EMAIL.match(str(rcpt.get("email", ""))):
                err("Does not contain a valid address.", f"personalizations.{i}.to.{j}.email")
        if not body.get("subject") and not p.get("subject") and not body.get("template_id"):
            err("The subject is required.", "subject")
    sender = body.get("from")
    if not isinstance(sender, dict) or not _EMAIL.match(str(sender.get("email", ""))):
        err("The from object must be provided for every email send.", "from.email")
    content = body.get("content")
    if not body.get("template_id"):
        if not isinstance(content, list) or not content:
            err("Unless a valid template_id is provided, the content parameter is required.", "content")
        else:
            types = [part.get("type") if isinstance(part, dict) else None for part in content]
            if any(not isinstance(part, dict) or not part.get("value") for part in content):
                err("The content value must be a string at least one character in length.", "content.value")
            if "text/plain" in types and types[0] != "text/plain":
                err("If present, text/plain must be first, followed by text/html.", "content")
    for where, args in [("custom_args", body.get("custom_args", {}))] + [
        (f"personalizations.{i}.custom_args", p.get("custom_args", {}))
        for i, p in enumerate(personalizations)
        if isinstance(p, dict)
    ]:
        if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
            err("Custom args values must be strings.", where)
        elif len(json.dumps(args)) > MAX_CUSTOM_ARGS_BYTES:
            err("Custom args must be less than 10000 bytes.", where)
    headers = body.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        err("Headers values must be strings.", "headers")
    elif reserved := sorted(h for h in headers if h.lower() in RESERVED_HEADERS):
        err(f"These headers are reserved: {', '.join(reserved)}.", "headers")
    return errors
