"""Validating contacts typed at the CLI or imported from CSV, before anything is written."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.filters import known_personas
from nurture.inbound.contacts import ContactIn

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PERSONA = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
COLUMNS = ("email", "first_name", "last_name", "company", "persona", "time_zone", "topics", "consent_source")
MAX_ROWS = 100_000


class RowError(ValueError):
    """One or more rows are invalid; the message lists each with its line number."""


@dataclass(frozen=True)
class ContactRow:
    email: str
    first_name: str
    last_name: str
    company: str
    persona: str
    time_zone: str
    topics: list[str]
    consent_source: str

    def to_contact_in(self, now: datetime) -> ContactIn:
        return ContactIn(
            email=self.email,
            consent_source=self.consent_source,
            consent_at=now,
            first_name=self.first_name,
            last_name=self.last_name,
            company=self.company,
            persona=self.persona,
            time_zone=self.time_zone,
            topics=tuple(self.topics),
        )


def validate_contact(raw: Mapping[str, str | None], line: int, default_source: str = "cli") -> ContactRow:
    def get(name: str, default: str = "") -> str:
        return (raw.get(name) or default).strip()

    problems: list[str] = []
    email = get("email").lower()
    if not EMAIL.match(email) or len(email) > 320:
        problems.append(f"invalid email {email!r}" if email else "email is missing")
    persona = get("persona", "general").lower()
    if not PERSONA.match(persona):
        problems.append(f"invalid persona {persona!r}")
    elif persona not in (known := known_personas()):
        problems.append(f"unknown persona {persona!r}; use {', '.join(known)}")
    tz = get("time_zone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone {tz!r}")
    for name, limit in (("first_name", 120), ("last_name", 120), ("company", 200)):
        if len(get(name)) > limit:
            problems.append(f"{name} longer than {limit} characters")
    topics = [t.strip().lower() for t in get("topics").replace(";", ",").split(",") if t.strip()]
    if problems:
        where = f"line {line}: " if line else ""
        raise RowError(where + "; ".join(problems))
    return ContactRow(
        email=email,
        first_name=get("first_name"),
        last_name=get("last_name"),
        company=get("company"),
        persona=persona,
        time_zone=tz,
        topics=topics,
        consent_source=get("consent_source", default_source),
    )


def read_contacts_csv(path: Path) -> list[ContactRow]:
    """Every row validated; RowError lists every bad row (nothing is imported then)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "email" not in reader.fieldnames:
            raise RowError(f"{path}: the header row must include 'email' (columns: {', '.join(COLUMNS)})")
        unknown = set(reader.fieldnames) - set(COLUMNS)
        if unknown:
            raise RowError(f"{path}: unknown columns {sorted(unknown)} (columns: {', '.join(COLUMNS)})")
        rows: list[ContactRow] = []
        errors: list[str] = []
        seen: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= MAX_ROWS:
                raise RowError(f"{path}: more than {MAX_ROWS} rows; split the file")
            try:
                row = validate_contact(raw, line, default_source=f"import:{path.name}")
            except RowError as err:
                errors.append(str(err))
                continue
            if row.email in seen:
                errors.append(f"line {line}: duplicate of line {seen[row.email]} ({row.email})")
                continue
            seen[row.email] = line
            rows.append(row)
    if errors:
        shown = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise RowError("\n".join(shown))
    if not rows:
        raise RowError(f"{path}: no contacts in the file")
    return rows
