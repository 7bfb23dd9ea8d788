"""The one writer of lifecycle stages: `move_stage`, plus the history and "stage and time in stage" reads.

`move_stage` locks the contact's lead row (PostgreSQL `FOR UPDATE`; SQLite's single writer), asks the stage model
(`definitions.leads.stages.STAGES`) whether the move is allowed for this actor, then updates the lead row and
appends a `stage_change` row in the caller's transaction. A contact first seen here starts as a subscriber from
the time it was created (its opt-in), recorded as the first history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from definitions.leads.stages import STAGES
from nurture.db.tables import CONTACT, LEAD, STAGE_CHANGE, upsert
from workflows.lifecycle import ActorKind, MoveKind, StageModel


class UnknownContactError(LookupError):
    """No such contact."""


@dataclass(frozen=True)
class StageMove:
    moved: bool
    from_stage: str
    to_stage: str
    kind: MoveKind
    detail: str  # why it was refused, or what kind of move it was


@dataclass(frozen=True)
class StageRecord:
    from_stage: str | None
    to_stage: str
    at: datetime
    why: str
    actor_kind: str
    actor_id: str


@dataclass(frozen=True)
class StageStatus:
    stage: str
    label: str
    entered_at: datetime
    time_in_stage: timedelta


def ensure_lead(conn: Connection, contact_id: int, now: datetime, model: StageModel = STAGES) -> None:
    """The contact's lead row, created at its first stage (with that first history row) if missing."""
    if conn.execute(select(LEAD.c.contact_id).where(LEAD.c.contact_id == contact_id)).first() is not None:
        return
    person = conn.execute(
        select(CONTACT.c.created_at, CONTACT.c.consent_source).where(CONTACT.c.id == contact_id)
    ).first()
    if person is None:
        raise UnknownContactError(f"no contact {contact_id}")
    since = person.created_at or now
    row = {"contact_id": contact_id, "stage": model.initial, "stage_entered_at": since}
    defaults = {"grade": "D+", "score": 0.0, "signals": [], "value": 0.0, "readiness": 0.0, "why": {}}
    stmt = upsert(conn, LEAD).values(**row, **defaults, updated_at=now).on_conflict_do_nothing()
    if conn.execute(stmt.returning(LEAD.c.contact_id)).first() is not None:
        why = f"opted in ({person.consent_source})" if person.consent_source else "first seen"
        conn.execute(
            insert(STAGE_CHANGE).values(
                contact_id=contact_id,
                from_stage=None,
                to_stage=model.initial,
                at=since,
                why=why,
                actor_kind=ActorKind.OPT_IN.value,
                actor_id="",
            )
        )


def move_stage(
    conn: Connection,
    contact_id: int,
    to: str,
    *,
    actor: ActorKind,
    actor_id: str,
    why: str,
    now: datetime,
    model: StageModel = STAGES,
) -> StageMove:
    """Move the contact to stage `to` if the model allows it for `actor`; a refusal changes nothing."""
    model.check(to)
    ensure_lead(conn, contact_id, now, model)
    current = conn.execute(select(LEAD.c.stage).where(LEAD.c.contact_id == contact_id).with_for_update()).scalar_one()
    if current not in model.names:  # a stage a team has since removed: treat it as the start of the line
        current = model.initial
    judged = model.judge(current, to, actor, why)
    if not judged.allowed:
        return StageMove(False, current, to, judged.kind, judged.why)
    conn.execute(
        update(LEAD).where(LEAD.c.contact_id == contact_id).values(stage=to, stage_entered_at=now, updated_at=now)
    )
    conn.execute(
        insert(STAGE_CHANGE).values(
            contact_id=contact_id,
            from_stage=current,
            to_stage=to,
            at=now,
            why=why[:500],
            actor_kind=actor.value,
            actor_id=actor_id[:200],
        )
    )
    return StageMove(True, current, to, judged.kind, judged.why)


def advance_to(
    conn: Connection,
    contact_id: int,
    to: str,
    *,
    actor: ActorKind,
    actor_id: str,
    why: str,
    now: datetime,
    detours: bool = False,
) -> StageMove:
    """Move only forward along the line (and, with `detours`, back onto it from a side stage): nudges such as
    "attended an event -> lead" or "ordered -> customer" never pull an advocate back."""
    ensure_lead(conn, contact_id, now)
    current = conn.execute(select(LEAD.c.stage).where(LEAD.c.contact_id == contact_id)).scalar_one()
    kind = STAGES.kind_of(current, to) if current in STAGES.names else MoveKind.FORWARD
    if kind is not MoveKind.FORWARD and not (detours and kind is MoveKind.RETURN):
        return StageMove(False, current, to, kind, f"not a forward move ({current} -> {to})")
    return move_stage(conn, contact_id, to, actor=actor, actor_id=actor_id, why=why, now=now)


def stage_history(conn: Connection, contact_id: int) -> list[StageRecord]:
    s = STAGE_CHANGE.c
    rows = conn.execute(
        select(s.from_stage, s.to_stage, s.at, s.why, s.actor_kind, s.actor_id)
        .where(s.contact_id == contact_id)
        .order_by(s.at, s.id)
    ).all()
    return [StageRecord(r.from_stage, r.to_stage, r.at, r.why, r.actor_kind, r.actor_id) for r in rows]


def stage_status(conn: Connection, contact_id: int, now: datetime) -> StageStatus | None:
    """Stage and time in stage for `nurture status`; None when lifecycle has never seen the contact."""
    row = conn.execute(select(LEAD.c.stage, LEAD.c.stage_entered_at).where(LEAD.c.contact_id == contact_id)).first()
    if row is None:
        return None
    return StageStatus(row.stage, STAGES.label(row.stage), row.stage_entered_at, now - row.stage_entered_at)
