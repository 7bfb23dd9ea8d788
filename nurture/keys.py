"""Deprecated: the names once kept here live in one module per role. Import from those instead:

- `nurture.workflow_ids`: workflow ids and keys;
- `nurture.search_attributes`: search-attribute keys;
- `nurture.temporal_names`: task queue, workflow types, signals, queries, activities;
- `nurture.sendgrid_args`: SendGrid custom_args keys.

Kept only so modules not yet moved over keep working; nothing new should import it.
"""

from __future__ import annotations

from nurture.search_attributes import *  # noqa: F403
from nurture.sendgrid_args import *  # noqa: F403
from nurture.temporal_names import *  # noqa: F403
from nurture.workflow_ids import *  # noqa: F403
