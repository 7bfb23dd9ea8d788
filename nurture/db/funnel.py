"""Indexes the funnels read (`nurture.measure.funnel`), declared beside the tables they serve.

Kept apart from the table modules so the funnel's needs stay in one place; migration 0007 creates them.
"""

from __future__ import annotations

from sqlalchemy import Index

from nurture.db.contact import Enrollment
from nurture.db.event import Event
from nurture.db.touch import Touch

_T = Touch.__table__.c  # type: ignore[attr-defined]
_E = Event.__table__.c  # type: ignore[attr-defined]
_N = Enrollment.__table__.c  # type: ignore[attr-defined]

FUNNEL_INDEXES = (
    Index("ix_touch_journey_step", _T.journey, _T.step, _T.status),  # touches per step and status
    Index("ix_touch_contact_item", _T.contact_id, _T.item_id),  # an event's touch
    Index("ix_event_journey_kind", _E.journey, _E.kind, _E.contact_id, _E.item_id),  # engagement per journey
    Index("ix_enrollment_journey_ended", _N.journey, _N.ended_at),  # entered, running, exited
)
