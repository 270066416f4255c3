"""``client.jobs``: an app's background jobs, their metric series and sampled traces.

Job metric answers are not always the app-metric shape. Scout's own CLI (and its tests) read the
series of ``execution_time``, ``latency``, ``errors`` and ``allocations`` as an object of named
sub-series (``{"ActiveRecord": [...], "Ruby": [...], "total": [...]}``) and a summary that may be
an object of numbers. ``job_series_results`` reduces such an answer to one series, the way that
CLI does: the only sub-series; else ``total``; else the per-bucket sum. ``latency`` answers carry
the job's total *execution* time as ``total``, so for latency ``total`` is set aside.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._convert import structure
from .._exceptions import ResponseFormatError
from .._models import Point, Series
from .._models_api import Job, JobTrace
from .._series import decode_series
from .._time import format_time
from .._transport import Transport
from ._params import check_flag, check_key
from ._scoped_metrics import ScopedMetrics
from ._shape import field, parse_list
from ._validate import check_id, path_segment
from ._windows import TRACE_LOOKBACK, list_in_windows, lookback_window, short_window

if TYPE_CHECKING:
    from .._client import ScoutClient

__all__ = ["JOB_METRICS", "Jobs", "job_series_results"]

JOB_METRICS = ("throughput", "execution_time", "latency", "errors", "allocations")


def _pick(parts: dict[str, Any], metric: str) -> tuple[str, Any] | None:
    """The one part that stands for the whole, if there is one."""
    if metric == "latency" and len(parts) > 1:
        parts = {name: part for name, part in parts.items() if name != "total"}
    if len(parts) == 1:
        return next(iter(parts.items()))
    if "total" in parts:
        return "total", parts["total"]
    return None


def _sum_series(parts: dict[str, Any], metric: str, path: str) -> builtins.list[Any]:
    """The per-bucket sum of the parts as ``[[time, value], ...]`` (a bucket is null only where
    every part is)."""
    totals: dict[datetime, float | None] = {}
    for name, raw in parts.items():
        if not isinstance(raw, builtins.list):
            raise ResponseFormatError(
                f"series.{metric}.{name} is not a list of points", method="GET", path=path
            )
        try:
            points = [structure(item, Point) for item in raw]
        except Exception as exc:
            raise ResponseFormatError(
                f"a point of series.{metric}.{name} is malformed: {exc}", method="GET", path=path
            ) from exc
        for point in points:
            before = totals.get(point.time)
            if point.value is None:
                totals.setdefault(point.time, None)
            else:
                totals[point.time] = point.value + (before or 0.0)
    return [[time, value] for time, value in sorted(totals.items())]


def _reduce_summary(raw: Any, metric: str) -> Any:
    if not isinstance(raw, dict):
        return raw
    numbers = {
        name: value
        for name, value in raw.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    picked = _pick(numbers, metric)
    if picked is not None:
        return picked[1]
    return sum(numbers.values()) if numbers else None


def job_series_results(results: Any, metric: str, path: str) -> Any:
    """``results`` of a job metric in the app-metric shape ``{summaries: {m: n}, series: {m:
    [points]}}`` (pure; an answer already in that shape, or of no known shape, is returned as is).
    """
    if not isinstance(results, dict):
        return results
    series = results.get("series")
    summaries = results.get("summaries")
    reshaped = dict(results)
    if isinstance(series, dict) and isinstance(series.get(metric), dict):
        parts: dict[str, Any] = series[metric]
        picked = _pick(parts, metric)
        flat = picked[1] if picked is not None else _sum_series(parts, metric, path)
        reshaped["series"] = {**series, metric: flat}
    if isinstance(summaries, dict) and isinstance(summaries.get(metric), dict):
        reshaped["summaries"] = {**summaries, metric: _reduce_summary(summaries[metric], metric)}
    return reshaped


def _decode_job_series(results: Any, metric: str, path: str) -> tuple[list[Point], float | None]:
    return decode_series(job_series_results(results, metric, path), metric, path)


class Jobs:
    def __init__(self, transport: Transport, client: ScoutClient) -> None:
        self._transport = transport
        self._metrics = ScopedMetrics(transport, client, JOB_METRICS, _decode_job_series)

    async def list(self, app_id: int, *, start: datetime, end: datetime) -> builtins.list[Job]:
        """Every background job of the app with its figures over ``[start, end)`` (at most 14
        days).

        >>> jobs = await client.jobs.list(101, start=t0, end=t1)
        >>> [(j.full_name, j.id, j.execution_time) for j in jobs]
        """
        check_id(app_id)
        start_utc, end_utc = short_window(start, end, "jobs.list")
        path = f"/apps/{app_id}/jobs"
        params = {"from": format_time(start_utc), "to": format_time(end_utc)}
        return parse_list(await self._transport.get(path, params), Job, path)

    async def metrics(self, app_id: int, job_id: str) -> builtins.list[str]:
        """The metric names a job offers.

        >>> await client.jobs.metrics(101, job.id)
        ['throughput', 'execution_time', 'latency', 'errors', 'allocations']
        """
        path = f"{self._scope(app_id, job_id)}/metrics"
        results = await self._transport.get(path)
        return [str(name) for name in field(results, "availableMetrics", builtins.list, path)]

    async def metric(
        self,
        app_id: int,
        job_id: str,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
    ) -> Series:
        """A job's series of ``metric`` (``throughput``, ``execution_time``, ``latency``,
        ``errors``, ``allocations``) over ``[start, end)``, any length, at one step.

        Planned, fetched and merged exactly like ``client.metrics.get``; an answer made of
        sub-series is reduced to one (see the module notes).

        >>> series = await client.jobs.metric(101, job.id, "execution_time", start=t0, end=t1)
        """
        path = self._scope(app_id, job_id)
        return await self._metrics.get(app_id, path, metric, start, end, resolution)

    def stream_metric(
        self,
        app_id: int,
        job_id: str,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
    ) -> AsyncGenerator[Point, None]:
        """The points of ``metric``'s series as they arrive, in order, with bounded memory.
        Arguments are checked now, before any request.

        >>> points = client.jobs.stream_metric(101, job.id, "throughput", start=t0, end=t1)
        >>> async for point in points:
        ...     write(point)
        """
        return self._metrics.stream(self._scope(app_id, job_id), metric, start, end, resolution)

    async def traces(
        self,
        app_id: int,
        job_id: str,
        *,
        start: datetime,
        end: datetime,
        clamp: bool = False,
    ) -> builtins.list[JobTrace]:
        """Sampled traces of a job in ``[start, end)``, newest first.

        Scout serves traces of the last 7 days only: an older ``start`` is a ``ValueError``
        before any request, or with ``clamp=True`` is moved up to the earliest allowed instant.
        Scout returns at most 100 traces per request.

        >>> traces = await client.jobs.traces(101, job.id, start=now - timedelta(days=1), end=now)
        """
        path = f"{self._scope(app_id, job_id)}/traces"
        start_utc, end_utc = lookback_window(
            start, end, lookback=TRACE_LOOKBACK, what="traces", clamp=check_flag(clamp, "clamp")
        )
        return await list_in_windows(
            self._transport,
            path,
            "traces",
            JobTrace,
            start_utc,
            end_utc,
            key=lambda trace: trace.id,
            time=lambda trace: trace.time,
        )

    @staticmethod
    def _scope(app_id: int, job_id: str) -> str:
        check_id(app_id)
        return f"/apps/{app_id}/jobs/{path_segment(check_key(job_id, 'job_id'))}"
