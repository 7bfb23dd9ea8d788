"""console users, sessions and audit; funnel indexes and rollup tables

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import nurture.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", nurture.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "console_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", nurture.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", nurture.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_console_session_username", "console_session", ["username"])
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", nurture.db.types.UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_console_audit_target", "console_audit", ["target", "at"])
    op.create_index("ix_touch_journey_step", "touch", ["journey", "step", "status"])
    op.create_index("ix_touch_contact_item", "touch", ["contact_id", "item_id"])
    op.create_table(
        "funnel_mark",
        sa.Column("touch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=120), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("touch_id", "kind", "machine"),
    )
    op.create_table(
        "funnel_count",
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=120), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("journey", "step", "measure", "machine"),
    )
    op.create_table(
        "funnel_watermark",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_index("ix_enrollment_journey_ended", "enrollment", ["journey", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_enrollment_journey_ended", table_name="enrollment")
    op.drop_table("funnel_watermark")
    op.drop_table("funnel_count")
    op.drop_table("funnel_mark")
    op.drop_index("ix_touch_contact_item", table_name="touch")
    op.drop_index("ix_touch_journey_step", table_name="touch")
    op.drop_index("ix_console_audit_target", table_name="console_audit")
    op.drop_table("console_audit")
    op.drop_index("ix_console_session_username", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
