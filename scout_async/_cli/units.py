"""The unit of every figure the command line shows, as Scout documents it (the API notes, quirk 6;
Scout's FAQ), and how a value is written with its unit.

Scout documents: response times and queue time in milliseconds, throughput in requests per
minute, an endpoint's error rate as a fraction. It does not document the apdex range (an apdex
score is 0 to 1 by definition) nor whether ``errors`` counts per step: the units below say so.
The metric series' units live in ``scout_async._units`` (the DataFrames and Arrow tables carry
them too); the listings' are here.
"""

from __future__ import annotations

from .._units import APP_METRIC_UNITS, JOB_METRIC_UNITS, Unit, metric_unit

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
