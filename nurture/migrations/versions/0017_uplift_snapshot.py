"""uplift snapshot: the console's uplift panel as last computed, shared by every API process

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import nurture.db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uplift_snapshot",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("journey", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=True),
        sa.Column("as_of", nurture.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("asked_at", nurture.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", nurture.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("uplift_snapshot")
