"""What funnels read (`nurture.measure.funnel`): indexes on the journey tables, and the funnel's own rollup.

The rollup turns touches and engagement events into a few counters per journey and step, incrementally
(`nurture.measure.rollup`): a page reads dozens of rows, however many touches there are.
- `funnel_mark`: one row per (touch, event kind, machine or not): the touch's first such event. Its primary key
  is what makes a touch count once however many opens it gets.
- `funnel_count`: per (journey, step, measure, machine): how many touches, and the seconds summed for means.
- `funnel_watermark`: the last touch and event ids folded in.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from nurture.db.contact import Enrollment
from nurture.db.event import Event
from nurture.db.touch import Touch

_T = Touch.__table__.c  # type: ignore[attr-defined]
_E = Event.__table__.c  # type: ignore[attr-defined]
_N = Enrollment.__table__.c  # type: ignore[attr-defined]

FUNNEL_INDEXES = (
    Index("ix_touch_journey_step", _T.journey, _T.step, _T.status),  # touches per step and status
    Index("ix_touch_contact_item", _T.contact_id, _T.item_id),  # an event's touch
    Index("ix_enrollment_journey_ended", _N.journey, _N.ended_at),  # entered, running, exited
    Index("ix_touch_contact_journey", _T.contact_id, _T.journey, _T.id),  # a contact's recorded arms (uplift)
    Index("ix_event_contact_kind", _E.contact_id, _E.kind, _E.machine, _E.occurred_at),  # first outcome (uplift)
)


class FunnelMark(SQLModel, table=True):
    __tablename__ = "funnel_mark"

    touch_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=40)
    machine: bool = Field(primary_key=True)
    journey: str = Field(max_length=64)
    step: str = Field(max_length=120)
    seconds: float | None = None  # from the touch's send to this first event


class FunnelCount(SQLModel, table=True):
    __tablename__ = "funnel_count"

    journey: str = Field(primary_key=True, max_length=64)
    step: str = Field(primary_key=True, max_length=120)
    measure: str = Field(primary_key=True, max_length=40)  # entered_to_touch | delivered | opened | clicked
    machine: bool = Field(primary_key=True)
    n: int = 0
    timed: int = 0  # how many of the n have a time (a send time, an event after it)
    seconds: float = 0.0


class FunnelWatermark(SQLModel, table=True):
    __tablename__ = "funnel_watermark"

    source: str = Field(primary_key=True, max_length=20)  # touch | event
    last_id: int = 0
