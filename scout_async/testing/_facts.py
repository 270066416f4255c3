"""Fixed facts of the simulated API: its prefix, key, messages, metric names and default apps.

The time rules (window limits, lookbacks, retention, steps) live in ``_rules``.
"""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "API_VERSION",
    "IN_PROCESS_BASE_URL",
    "APP_METRICS",
    "DEFAULT_API_KEY",
    "DEFAULT_APPS",
    "INSIGHT_TYPES",
    "JOB_METRICS",
    "MESSAGES",
]

DEFAULT_API_KEY = "sim-key"
API_PREFIX = "/api/v0"
API_VERSION = "0.1"
# Where `ScoutSimulator.http_client()` points: any host reaches the app over ASGI.
IN_PROCESS_BASE_URL = "http://simulator" + API_PREFIX

# The messages the live API puts in `header.status.message` (API notes, quirk 2: 403 "Forbidden,
# check your API key", 404 "Record Not Found", 422 "Invalid timeframe parameters"); other codes
# use the standard HTTP reason phrase (assumed).
MESSAGES: dict[int, str] = {
    200: "OK",
    403: "Forbidden, check your API key",
    404: "Record Not Found",
    422: "Invalid timeframe parameters",
}

# Realistic names so that demos and screenshots read like a real account (synthetic data, no API
# rule).
DEFAULT_APPS: tuple[tuple[int, str], ...] = (
    (101, "Storefront Production"),
    (102, "Storefront Staging"),
    (103, "Billing API Production"),
    (104, "Search Service Production"),
    (105, "Admin Portal Production"),
)

# Documented: the FAQ ("Available metrics include ...") and openapi.yaml (MetricType).
APP_METRICS: tuple[str, ...] = (
    "apdex",
    "response_time",
    "response_time_95th",
    "errors",
    "throughput",
    "queue_time",
)
# Documented: the API notes' table; observed: Scout's Go CLI cmd/jobs.go (validJobMetricTypes).
JOB_METRICS: tuple[str, ...] = ("throughput", "execution_time", "latency", "errors", "allocations")
# Documented: openapi.yaml (InsightType).
INSIGHT_TYPES: tuple[str, ...] = ("n_plus_one", "memory_bloat", "slow_query")
