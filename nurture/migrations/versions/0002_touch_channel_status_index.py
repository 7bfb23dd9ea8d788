"""touch: index on (channel, status) for the transactional mailer's queue scan

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_touch_channel_status", "touch", ["channel", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_touch_channel_status", table_name="touch")
