"""uplift indexes: touch (contact_id, journey, id) and event (contact_id, kind, machine, occurred_at)

Arms come from what touches recorded (`touch.variants`, `held_out`): each enrolled contact's latest touch in the
journey is found in the first index (index only) instead of every touch of the journey being grouped; its first
outcome event is the first entry of the second.

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
    op.create_index("ix_event_contact_kind", "event", ["contact_id", "kind", "machine", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_event_contact_kind", table_name="event")
    op.drop_index("ix_touch_contact_journey", table_name="touch")
