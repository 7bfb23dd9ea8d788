"""claims and backoff in the database: outbox leases per contact, touch claim times and retry schedule

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import nurture.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signaloutbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("lease_until", nurture.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", nurture.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_signal_outbox_contact_pending", ["contact_id", "delivered_at"], unique=False)
    with op.batch_alter_table("touch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("claimed_at", nurture.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", nurture.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("touch", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("signaloutbox", schema=None) as batch_op:
        batch_op.drop_index("ix_signal_outbox_contact_pending")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
