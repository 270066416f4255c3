"""The unit of every metric series, as Scout documents it (the API notes, quirk 6; Scout's FAQ).

Scout documents: response times and queue time in milliseconds, throughput in requests per
minute (jobs per minute for a job's), an endpoint's error rate as a fraction. It does not document
the apdex range (an apdex score is 0 to 1 by definition) nor whether ``errors`` counts per step:
the units below say so. The command line shows them (``scout_async._cli.units``); the DataFrames
and Arrow tables carry them in their metadata (``scout_async.frames``).
"""

from __future__ import annotations

import attrs

__all__ = [
    "APP_METRIC_UNITS",
    "JOB_METRIC_UNITS",
    "Unit",
    "metric_unit",
    "series_unit",
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
UNDOCUMENTED = Unit("", "not documented")

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


def metric_unit(metric: str, *, job: bool = False) -> Unit:
    """The unit of a metric series (of a job with ``job``)."""
    table = JOB_METRIC_UNITS if job else APP_METRIC_UNITS
    return table.get(metric, UNDOCUMENTED)


def series_unit(metric: str) -> Unit:
    """The unit of a series known by its metric name only (a ``Series`` does not say whether it
    is an app's, an endpoint's or a job's): the app metric's unit, else the job metric's (the
    names only jobs have: ``execution_time``, ``latency``, ``allocations``)."""
    return APP_METRIC_UNITS.get(metric) or JOB_METRIC_UNITS.get(metric, UNDOCUMENTED)
