"""touch: index (contact_id, journey, id), the uplift's lookup of a contact's first touches in a journey

Arms come from what touches recorded (`touch.variants`, `held_out`): each enrolled contact's first touch in the
journey is read through this index instead of every touch of the journey being grouped.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_touch_contact_journey", "touch", ["contact_id", "journey", "id"])


def downgrade() -> None:
    op.drop_index("ix_touch_contact_journey", table_name="touch")
