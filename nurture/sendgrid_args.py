"""SendGrid `custom_args` keys (values must be strings): every event for a drop routes back by these ids."""

from __future__ import annotations

CUSTOM_ARG_CONTACT = "nurture_contact_id"
CUSTOM_ARG_JOURNEY = "nurture_journey"
CUSTOM_ARG_ITEM = "nurture_item_id"
CUSTOM_ARG_TOUCH = "nurture_touch_id"
CUSTOM_ARG_BROADCAST = "nurture_broadcast_id"
