"""lifecycle: stage history, the lead row, owners and routing cursors, imported facts; handoff.owner_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from nurture.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owner",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("territory", sa.String(500), nullable=False),
        sa.Column("time_zone", sa.String(60), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("away", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_owner_team", "owner", ["team"])
    op.create_table(
        "routing_cursor",
        sa.Column("team", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "stage_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), nullable=False),
        sa.Column("from_stage", sa.String(40), nullable=True),
        sa.Column("to_stage", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("why", sa.String(500), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
    )
    op.create_index("ix_stage_change_contact_at", "stage_change", ["contact_id", "at"])
    op.create_table(
        "lead",
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), primary_key=True, autoincrement=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("stage_entered_at", UTCDateTime(), nullable=False),
        sa.Column("grade", sa.String(2), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("readiness", sa.Float(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("owner.id"), nullable=True),
        sa.Column("last_engaged_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_lead_readiness", "lead", ["readiness", "contact_id"])
    op.create_index("ix_lead_owner_readiness", "lead", ["owner_id", "readiness", "contact_id"])
    op.create_index("ix_lead_stage_readiness", "lead", ["stage", "readiness", "contact_id"])
    op.create_table(
        "external_ref",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), nullable=False),
        sa.UniqueConstraint("system", "external_id", name="uq_external_ref_system_id"),
    )
    op.create_index("ix_external_ref_contact_id", "external_ref", ["contact_id"])
    op.create_table(
        "contact_fact",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), nullable=False),
        sa.Column("field", sa.String(60), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("contact_id", "field", name="uq_contact_fact_field"),
    )
    op.create_table(
        "purchase",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("ordered_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "order_id", name="uq_purchase_source_order"),
    )
    op.create_index("ix_purchase_contact_id", "purchase", ["contact_id"])
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_key", sa.String(120), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contact.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attended_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("event_key", "contact_id", name="uq_attendance_event_contact"),
    )
    op.create_index("ix_attendance_contact_id", "attendance", ["contact_id"])
    with op.batch_alter_table("handoff") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.drop_column("owner_id")
    for table in ("attendance", "purchase", "contact_fact", "external_ref", "lead", "stage_change", "routing_cursor"):
        op.drop_table(table)
    op.drop_table("owner")
