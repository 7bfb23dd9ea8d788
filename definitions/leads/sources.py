"""Which source wins a contact field when two disagree. Owner: revenue operations. Pure.

Sources, strongest first, per field: an operator's correction beats everything; the CRM owns the account facts
(company, size, industry); what a person typed in a form wins their own name and role. A source never loses to
itself: a newer import from the same source replaces the older value.
"""

from __future__ import annotations

DEFAULT_ORDER = ("operator", "crm", "form", "events", "enrichment")

FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "first_name": ("operator", "form", "crm", "enrichment"),
    "last_name": ("operator", "form", "crm", "enrichment"),
    "role": ("operator", "form", "crm", "enrichment"),
}


def wins(field: str, incoming: str, current: str | None) -> bool:
    """True when a value from `incoming` may replace the stored one from `current`."""
    if current is None or incoming == current:
        return True
    order = FIELD_ORDER.get(field, DEFAULT_ORDER)
    rank = {source: i for i, source in enumerate(order)}
    return rank.get(incoming, len(order)) <= rank.get(current, len(order))
