"""consent: an append-only record of grants, confirmations and withdrawals (backfilled from the contact row)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import nurture.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("wording", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("lawful_basis", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("occurred_at", nurture.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", nurture.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_contact_occurred", "consent", ["contact_id", "occurred_at", "id"], unique=False)
    # What the contact rows knew before the record existed: their opt-in, and a suppression if there was one.
    op.execute(
        "INSERT INTO consent (contact_id, action, source, lawful_basis, ip, actor, occurred_at, recorded_at) "
        "SELECT id, CASE WHEN status = 'pending_confirmation' THEN 'requested' ELSE 'granted' END, consent_source, "
        "'consent', consent_ip, 'migration', COALESCE(consent_at, created_at), updated_at FROM contact"
    )
    op.execute(
        "INSERT INTO consent (contact_id, action, source, lawful_basis, ip, actor, occurred_at, recorded_at) "
        "SELECT id, CASE WHEN suppressed_reason IN ('bounce', 'dropped') THEN 'suppressed' ELSE 'withdrawn' END, "
        "COALESCE(suppressed_reason, 'unknown'), 'consent', NULL, 'migration', COALESCE(suppressed_at, updated_at), "
        "updated_at FROM contact WHERE status = 'suppressed'"
    )


def downgrade() -> None:
    op.drop_index("ix_consent_contact_occurred", table_name="consent")
    op.drop_table("consent")
