"""The unit of every figure the command line shows, as Scout documents it (the API notes, quirk 6;
Scout's FAQ), and how a value is written with its unit.

Scout documents: response times and queue time in milliseconds, throughput in requests per
minute, an endpoint's error rate as a fraction. It does not document the apdex range (an apdex
score is 0 to 1 by definition) nor whether ``errors`` counts per step: the units below say so.
"""

from __future__ import annotations

import attrs

__all__ = [
    "APP_METRIC_UNITS",
    "ENDPOINT_UNITS",
    "JOB_METRIC_UNITS",
    "JOB_UNITS",
    "JOB_TRACE_UNITS",
    "TRACE_UNITS",
    "Unit",
    "metric_unit",
    "with_unit",
]


@attrs.frozen
class Unit:
    """``symbol`` follows a number (``127.7 ms``); ``meaning`` says it in words."""

    symbol: str
    meaning: str


MS = Unit("ms", "milliseconds")
RPM = Unit("rpm", "requests per minute")
ERRORS = Unit("errors", "errors per step (a count; Scout does not document it)")
APDEX = Unit("apdex", "apdex score, 0 (all frustrated) to 1 (all satisfied)")

APP_METRIC_UNITS: dict[str, Unit] = {
    "apdex": APDEX,
    "response_time": MS,
    "response_time_95th": MS,
    "errors": ERRORS,
    "throughput": RPM,
    "queue_time": MS,
}
JOB_METRIC_UNITS: dict[str, Unit] = {
    "throughput": Unit("jobs/min", "jobs per minute"),
    "execution_time": MS,
    "latency": MS,
    "errors": ERRORS,
    "allocations": Unit("allocs", "object allocations per job"),
}
#: The figures of a listing, by field name: what each record's ``units`` holds in JSON.
ENDPOINT_UNITS = {
    "response_time": "ms",
    "p95": "ms",
    "throughput": "rpm",
    "error_rate": "fraction",
    "percentage_of_total": "percent",
}
JOB_UNITS = {
    "throughput": "jobs/min",
    "execution_time": "ms",
    "latency": "s",
    "time_consumed": "fraction",
}
TRACE_UNITS = {"total_call_time": "ms", "mem_delta": "MB"}
JOB_TRACE_UNITS = {"duration": "ms"}


def metric_unit(metric: str, *, job: bool = False) -> Unit:
    """The unit of a metric series (of a job with ``job``)."""
    table = JOB_METRIC_UNITS if job else APP_METRIC_UNITS
    return table.get(metric, Unit("", "not documented"))


def with_unit(value: float | None, unit: Unit | str, digits: int | None = None) -> str:
    """``127.66 ms``, ``0.93 apdex``, ``1,234 rpm``; ``-`` for none.

    Without ``digits``: up to 2 decimals below 100, 1 below 10,000, none above.
    """
    if value is None:
        return "-"
    symbol = unit.symbol if isinstance(unit, Unit) else unit
    if digits is None:
        size = abs(value)
        digits = 2 if size < 100 else 1 if size < 10_000 else 0
    text = f"{value:,.{digits}f}"
    return f"{text} {symbol}" if symbol else text
