"""The worker's Prometheus endpoint: the Temporal SDK's runtime telemetry, which also serves nurture's own
worker metrics (`workflows.metrics`, recorded through the SDK's metric meter).

Off unless `NURTURE_WORKER_METRICS_ADDRESS` is set (for example `127.0.0.1:9464`; `0.0.0.0:9464` in a container
scraped from outside): two workers on one host would otherwise fight over a default port. The SDK's series are
prefixed `temporal_`; nurture's keep their own `nurture_` names (the prefix applies to the SDK's metrics only).
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def telemetry_runtime(bind_address: str) -> Runtime:
    """A runtime serving `/metrics` on `bind_address` (host:port) for every client and worker built on it."""
    metrics = PrometheusConfig(bind_address=bind_address, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


def install(bind_address: str | None) -> Runtime | None:
    """Make the telemetry runtime the default, so the worker's client (built later) reports through it."""
    if not bind_address:
        return None
    runtime = telemetry_runtime(bind_address)
    Runtime.set_default(runtime, error_if_already_set=False)
    return runtime
