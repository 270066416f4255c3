"""Fixed facts of the simulated API: its prefix, key, messages, metric names and limits."""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "API_PREFIX",
    "API_VERSION",
    "APP_METRICS",
    "DEFAULT_API_KEY",
    "DEFAULT_APPS",
    "DEFAULT_RETENTION",
    "ERROR_LOOKBACK",
    "INSIGHT_TYPES",
    "JOB_METRICS",
    "MESSAGES",
    "TRACE_LOOKBACK",
]

DEFAULT_API_KEY = "sim-key"
API_PREFIX = "/api/v0"
API_VERSION = "0.1"

# The messages the live API puts in `header.status.message` (quirk 2 in the API notes); other
# codes use the standard HTTP reason phrase.
MESSAGES: dict[int, str] = {
    200: "OK",
    403: "Forbidden, check your API key",
    404: "Record Not Found",
    422: "Invalid timeframe parameters",
}

# Realistic names so that demos and screenshots read like a real account.
DEFAULT_APPS: tuple[tuple[int, str], ...] = (
    (101, "Storefront Production"),
    (102, "Storefront Staging"),
    (103, "Billing API Production"),
    (104, "Search Service Production"),
    (105, "Admin Portal Production"),
)

APP_METRICS: tuple[str, ...] = (
    "apdex",
    "response_time",
    "response_time_95th",
    "errors",
    "throughput",
    "queue_time",
)
JOB_METRICS: tuple[str, ...] = ("throughput", "execution_time", "latency", "errors", "allocations")
INSIGHT_TYPES: tuple[str, ...] = ("n_plus_one", "memory_bloat", "slow_query")

DEFAULT_RETENTION = timedelta(days=30)
# Traces are refused when `from` is at or before now - 7 days (exactly 7 x 24 h was refused);
# error groups and anomaly events use the same rule with 30 days.
TRACE_LOOKBACK = timedelta(days=7)
ERROR_LOOKBACK = timedelta(days=30)
