"""Reading an import file: one typed record per line, or the line's number and what is wrong with it. No I/O."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from definitions.leads.sources import DEFAULT_ORDER
from definitions.leads.stages import STAGES

KINDS = ("contacts", "orders", "attendance")
MAX_LINES = 200_000
ATTENDANCE_STATUSES = ("attended", "registered", "no_show")
CONTACT_COLUMNS = ("first_name", "last_name", "company")  # mirrored onto the contact row
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
KEY_COLUMNS = {"email", "external_id", "source"}


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based line number in the file (the header is line 1)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Key:
    """How a line names its contact: an email, a CRM external id, or both."""

    email: str | None
    external_id: str | None


@dataclass(frozen=True)
class ContactLine:
    line: int
    key: Key
    source: str
    facts: dict[str, str] = field(default_factory=dict)
    stage: str | None = None


@dataclass(frozen=True)
class OrderLine:
    line: int
    key: Key
    source: str
    order_id: str
    amount: float
    currency: str
    product: str
    ordered_at: datetime


@dataclass(frozen=True)
class AttendanceLine:
    line: int
    key: Key
    source: str
    event: str
    status: str
    attended_at: datetime


Record = ContactLine | OrderLine | AttendanceLine


def parse_when(text: str) -> datetime:
    """ISO date or datetime; a date is midnight UTC, a time without a zone is UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _key(row: dict[str, str]) -> Key:
    email = (row.get("email") or "").strip().lower() or None
    external = (row.get("external_id") or "").strip() or None
    if email is None and external is None:
        raise ValueError("needs an email or an external_id")
    if email is not None and (len(email) > 320 or not _EMAIL.match(email)):
        raise ValueError(f"invalid email {email[:80]!r}")
    if external is not None and len(external) > 200:
        raise ValueError("external_id longer than 200 characters")
    return Key(email, external)


def _source(row: dict[str, str], default: str) -> str:
    source = (row.get("source") or "").strip().lower() or default
    if source not in DEFAULT_ORDER:
        raise ValueError(f"unknown source {source!r}; sources are {', '.join(DEFAULT_ORDER)}")
    return source


def _required(row: dict[str, str], name: str, limit: int) -> str:
    value = (row.get(name) or "").strip()
    if not value:
        raise ValueError(f"{name} is empty")
    if len(value) > limit:
        raise ValueError(f"{name} longer than {limit} characters")
    return value


def _contact(n: int, row: dict[str, str], source: str) -> ContactLine:
    key = _key(row)
    facts: dict[str, str] = {}
    for name, raw in row.items():
        value = (raw or "").strip()
        if name in KEY_COLUMNS or name == "lifecycle_stage" or not value:
            continue
        if len(value) > 500:
            raise ValueError(f"{name} longer than 500 characters")
        facts[name] = value
    stage = (row.get("lifecycle_stage") or "").strip().lower() or None
    if stage is not None and stage not in STAGES.names:
        raise ValueError(f"unknown lifecycle_stage {stage!r}")
    return ContactLine(n, key, _source(row, source), facts, stage)


def _order(n: int, row: dict[str, str], source: str) -> OrderLine:
    key = _key(row)
    amount_text = (row.get("amount") or "0").strip()
    try:
        amount = float(amount_text)
    except ValueError:
        raise ValueError(f"amount {amount_text[:40]!r} is not a number") from None
    if not (0 <= amount < 1e12):
        raise ValueError(f"amount {amount_text[:40]} is out of range")
    currency = (row.get("currency") or "").strip().upper()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency[:10]!r} is not a 3-letter code")
    product = (row.get("product") or "").strip()[:200]
    return OrderLine(
        n,
        key,
        _source(row, source),
        _required(row, "order_id", 200),
        amount,
        currency,
        product,
        _when(row, "ordered_at"),
    )


def _attendance(n: int, row: dict[str, str], source: str) -> AttendanceLine:
    key = _key(row)
    status = (row.get("status") or "attended").strip().lower()
    if status not in ATTENDANCE_STATUSES:
        raise ValueError(f"status {status[:20]!r} is not one of {', '.join(ATTENDANCE_STATUSES)}")
    return AttendanceLine(n, key, _source(row, source), _required(row, "event", 120), status, _when(row, "attended_at"))


def _when(row: dict[str, str], name: str) -> datetime:
    text = _required(row, name, 40)
    try:
        return parse_when(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an ISO date") from None


PARSERS: dict[str, Callable[[int, dict[str, str], str], Record]] = {
    "contacts": _contact,
    "orders": _order,
    "attendance": _attendance,
}
REQUIRED_HEADERS = {"contacts": set(), "orders": {"order_id", "ordered_at"}, "attendance": {"event", "attended_at"}}


def parse(kind: str, text: str, source: str = "crm") -> tuple[list[Record], list[LineError]]:
    """Every record of the file, and every problem (with its line number). Any problem: import nothing."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; kinds are {', '.join(KINDS)}")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    problems = [f"column {h!r} is not a field name" for h in headers if not _FIELD.match(h)]
    missing = REQUIRED_HEADERS[kind] - set(headers)
    if not {"email", "external_id"} & set(headers):
        missing.add("email or external_id")
    problems += [f"missing column {m}" for m in sorted(missing)]
    if len(set(headers)) != len(headers):
        problems.append("a column appears twice")
    if problems:
        return [], [LineError(1, "; ".join(problems))]
    reader.fieldnames = headers
    records: list[Record] = []
    errors: list[LineError] = []
    seen: dict[tuple[str, ...], int] = {}
    for row in reader:
        n = reader.line_num
        if len(records) + len(errors) >= MAX_LINES:
            errors.append(LineError(n, f"file has more than {MAX_LINES} lines; split it"))
            break
        if None in row:
            errors.append(LineError(n, "more values than columns"))
            continue
        try:
            record = PARSERS[kind](n, row, source)
        except ValueError as err:
            errors.append(LineError(n, str(err)))
            continue
        natural = _natural_key(record)
        if natural in seen:
            errors.append(LineError(n, f"repeats line {seen[natural]} ({' '.join(natural[1:])})"))
            continue
        seen[natural] = n
        records.append(record)
    return records, errors


def _natural_key(record: Record) -> tuple[str, ...]:
    who = record.key.email or f"external_id {record.key.external_id}"
    if isinstance(record, OrderLine):
        return ("order", record.source, f"order {record.order_id}")
    if isinstance(record, AttendanceLine):
        return ("attendance", record.event, who)
    return ("contact", who)
