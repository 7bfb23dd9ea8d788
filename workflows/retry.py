"""Retry policies and timeouts for the activities journeys call."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# The provider call is bounded by NURTURE_SENDGRID_TIMEOUT_SECONDS (10 s) and the claim by the contact's row lock.
SEND_TIMEOUT = timedelta(seconds=20)
# Activities that wait on a provider (SendGrid, the CRM) heartbeat every second (`activities.heartbeat`): a worker
# dying mid-call costs the journey this long before the retry, not the start-to-close timeout. The retry of a drop
# waits for the provider's evidence before any resend (`activities.drop`); a slow beat under load only starts a
# retry that waits the same way.
HEARTBEAT_TIMEOUT = timedelta(seconds=4)
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
