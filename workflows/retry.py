"""Retry policies for the activities journeys call."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
