"""broadcast content a marketer wrote in the console, owned by its broadcast

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import nurture.db.types

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcastcontent",
        sa.Column("broadcast_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("written_at", nurture.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("broadcast_id"),
    )


def downgrade() -> None:
    op.drop_table("broadcastcontent")
