"""call tasks: a journey asks a rep to phone a contact; the rep records the outcome

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import nurture.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "call_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", text(length=300), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("journey", text(length=64), nullable=False),
        sa.Column("workflow_id", text(length=200), nullable=False),
        sa.Column("why", text(length=500), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("status", text(length=20), nullable=False),
        sa.Column("outcome", text(length=30), nullable=True),
        sa.Column("note", text(length=500), nullable=True),
        sa.Column("crm_response", text(length=500), nullable=True),
        sa.Column("created_at", nurture.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", nurture.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index(op.f("ix_call_task_contact_id"), "call_task", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_call_task_contact_id"), table_name="call_task")
    op.drop_table("call_task")
