"""Public opt-ins answered and not yet worked: the durable hand-off between the door and its worker.

Written only by `nurture.inbound.signup_inbox` (one row per opt-in at the door, deleted by whoever works it).
A row holds what the person typed until it is worked (normally milliseconds): an API process killed after the
answer leaves it here for the next worker, in this process or another. No index but the key: the door's insert
must cost the same whatever the address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from nurture.db.types import UTCDateTime


class SignupInbox(SQLModel, table=True):
    __tablename__ = "signup_inbox"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)  # lower-cased; also inside `signup`: its own column so an erasure can find it
    signup: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the opt-in's fields, as typed
    time_scale: float = 1.0
    attempts: int = 0  # failed tries to store it: retried ones go behind fresh ones, and it is set aside after a few
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
