"""Retry policies for the activities journeys call."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# A worker dying mid-send costs the journey this long before the retry (which waits for the provider's evidence
# before any resend, activities.drop): the provider call is bounded by NURTURE_SENDGRID_TIMEOUT_SECONDS (10 s).
SEND_TIMEOUT = timedelta(seconds=20)
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
