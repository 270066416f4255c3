"""``client.metrics``: metric series over any window, at one step, of an app, one of its
endpoints (``endpoint_id=``) or one of its background jobs (``job_id=``).

Every series goes through one machinery: ``plan_series`` plans the window, ``SeriesReader``
fetches, merges and checks it; only the path differs, and for jobs the ``decode`` step that reads
their answers' other shapes (``job_series``). Backfill and poll ask ``series_reader`` here for
the series they read, so a series' path is built in one place.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime, timedelta

import attrs

from .._constants import DEFAULT_LATENESS, LOGGER_NAME, METRIC_RETENTION
from .._core import Core
from .._exceptions import ArgumentError, ArgumentTypeError
from .._series.planner import Chunk, plan_series
from .._series.reader import Decode, SeriesReader, decode_series
from .._time import display_time
from ..types._models import Point, Series
from .checks import check_id, check_name, check_string_id, path_segment
from .job_series import decode_job_series
from .names import check_job_id
from .shape import field

__all__ = [
    "APP_METRICS",
    "ENDPOINT_METRICS",
    "JOB_METRICS",
    "Metrics",
    "series_reader",
    "warn_past_retention",
]

_log = logging.getLogger(LOGGER_NAME)

APP_METRICS = (
    "apdex",
    "response_time",
    "response_time_95th",
    "errors",
    "throughput",
    "queue_time",
)
#: The spec gives endpoint metrics the same names as app metrics.
ENDPOINT_METRICS = APP_METRICS
JOB_METRICS = ("throughput", "execution_time", "latency", "errors", "allocations")


@attrs.frozen
class _Scope:
    """Where a series lives: its path prefix, the metric names it offers, how to read it."""

    path: str
    names: tuple[str, ...]
    decode: Decode = decode_series


def _scope(app_id: object, endpoint_id: object, job_id: object) -> _Scope:
    app = f"/apps/{check_id(app_id)}"
    if endpoint_id is not None and job_id is not None:
        raise ArgumentError("pass endpoint_id or job_id, not both: a series has one scope")
    if endpoint_id is not None:
        segment = path_segment(check_string_id(endpoint_id, "endpoint_id"))
        return _Scope(f"{app}/endpoints/{segment}", ENDPOINT_METRICS)
    if job_id is not None:
        path = f"{app}/jobs/{path_segment(check_string_id(job_id, 'job_id'))}"
        # Scout answers an id that is no base64 of "queue/JobName" with a bare 500: not sent.
        check_job_id(job_id, "job_id", path)
        return _Scope(path, JOB_METRICS, decode_job_series)
    return _Scope(app, APP_METRICS)


def series_reader(
    core: Core,
    app_id: int,
    metric: str,
    chunks: Sequence[Chunk],
    *,
    window: int,
    endpoint_id: str | None = None,
    job_id: str | None = None,
    lateness: timedelta = DEFAULT_LATENESS,
    partial: bool = False,
    horizon: datetime | None = None,
) -> SeriesReader:
    """The reader of one series over planned ``chunks`` (no request yet), with at most
    ``window`` chunks in flight or held: how backfill and poll read a series.

    A bucket ending later than the client's clock less ``lateness`` has not closed: it is left
    out, or with ``partial`` kept and marked (``SeriesReader.partial_from``). ``horizon``, if
    given, is that moment instead (a job that records it as a watermark)."""
    scope = _scope(app_id, endpoint_id, job_id)
    check_name(metric, scope.names, "metric")
    return SeriesReader(
        core,
        f"{scope.path}/metrics/{path_segment(metric)}",
        metric,
        chunks,
        window=window,
        decode=scope.decode,
        horizon=core.clock.now() - lateness if horizon is None else horizon,
        partial=partial,
    )


def warn_past_retention(core: Core, start: datetime, what: str) -> datetime | None:
    """Log a warning if ``start`` is before Scout's metric retention (about 30 days before the
    client's clock); returns where the data Scout still holds begins, else ``None``."""
    kept_from = core.clock.now() - METRIC_RETENTION
    if start >= kept_from:
        return None
    _log.warning(
        "%s starts at %s, before Scout's metric retention (about %d days): there is no data "
        "before %s",
        what,
        display_time(start),
        METRIC_RETENTION.days,
        display_time(kept_from),
    )
    return kept_from


class Metrics:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, app_id: int, *, job_id: str | None = None) -> builtins.list[str]:
        """The metric names an app (or one of its jobs, ``job_id=``) offers.

        >>> await client.metrics.list(101)
        ['apdex', 'response_time', ...]
        >>> await client.metrics.list(101, job_id=job.id)
        ['throughput', 'execution_time', 'latency', 'errors', 'allocations']
        """
        path = f"{_scope(app_id, None, job_id).path}/metrics"
        results = await self._core.get(path)
        names = field(results, "availableMetrics", builtins.list, path)
        return [str(name) for name in names]

    async def get(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
        endpoint_id: str | None = None,
        job_id: str | None = None,
        partial: bool = False,
    ) -> Series:
        """The series of ``metric`` over ``[start, end)``, any length, at one step.

        ``resolution=None``: up to 14 days, one request at the step Scout picks; longer, 2 h.
        ``resolution="1m"`` (or a ``timedelta``): the finest data at that documented step, in as
        many requests as it takes. The series holds every grid bucket overlapping the window.
        ``endpoint_id`` (``Endpoint.id``) or ``job_id`` (``Job.id``) reads that endpoint's or
        job's series instead of the app's; a job's answer made of sub-series is reduced to one.
        A ``job_id`` that is not base64 of a ``queue/JobName`` raises ``NotFoundError`` before any
        request: Scout answers it with a bare HTTP 500 (a well-formed id of a job that does not
        exist gets an empty series, as Scout answers it).

        The series ends at the last bucket that has closed: one that ended ``DEFAULT_LATENESS``
        (2 minutes, as ``poll`` waits) before the client's clock. Scout reports the bucket in
        progress before it is complete, typically as 0; ``partial=True`` keeps those buckets
        and sets ``Series.partial_from`` to the first of them. A window starting before Scout's
        metric retention (about 30 days) logs a warning: there is no data that far back.

        >>> series = await client.metrics.get(101, "response_time", start=t0, end=t1)
        >>> series.step, series.points[0]
        >>> await client.metrics.get(101, "execution_time", job_id=job.id, start=t0, end=t1)
        """
        reader, chunks = self._plan(
            app_id, metric, start, end, resolution, endpoint_id, job_id, partial
        )
        points, summary = await reader.collect()
        return Series(
            app_id=app_id,
            metric=metric,
            step=chunks[0].step,
            points=points,
            summary=summary,
            partial_from=reader.partial_from,
        )

    def stream(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
        endpoint_id: str | None = None,
        job_id: str | None = None,
        partial: bool = False,
    ) -> AsyncGenerator[Point, None]:
        """The points of ``get``'s series as they arrive, in order, with bounded memory.

        Arguments are checked now, before any request. Break out early or cancel at any time:
        what is in flight is cancelled. A failure raises with ``resume_from`` set.

        As ``get``, the stream ends at the last closed bucket; with ``partial=True`` it goes on
        with the buckets in progress: those that end after the client's clock less
        ``DEFAULT_LATENESS``, as read when ``stream`` is called.

        >>> async for point in client.metrics.stream(101, "throughput", start=t0, end=t1):
        ...     write(point)
        """
        reader, _ = self._plan(app_id, metric, start, end, resolution, endpoint_id, job_id, partial)
        self._core.require_open()
        return reader.stream()

    def stream_batches(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
        endpoint_id: str | None = None,
        job_id: str | None = None,
        partial: bool = False,
    ) -> AsyncGenerator[Series, None]:
        """``get``'s series one request's worth at a time: a ``Series`` per chunk of the plan,
        in time order, with bounded memory (at most ``max_concurrency`` chunks held).

        The bulk way to read a long window: each batch is columnar (``batch.times``,
        ``batch.values``, ``batch.to_arrow()``) and no ``Point`` is made unless you ask. Batches
        follow one another without overlap or gap in the grid; one may be empty (no data there).
        ``summary`` is ``None`` on every batch. Arguments are checked now, before any request;
        break out or cancel at any time. A failure raises with ``resume_from`` set.

        >>> async for batch in client.metrics.stream_batches(101, "throughput", start=t0, end=t1):
        ...     table = batch.to_arrow()
        """
        reader, chunks = self._plan(
            app_id, metric, start, end, resolution, endpoint_id, job_id, partial
        )
        self._core.require_open()
        return _batches(reader, app_id, metric, chunks[0].step)

    def _plan(
        self,
        app_id: object,
        metric: str,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None,
        endpoint_id: str | None,
        job_id: str | None,
        partial: bool,
    ) -> tuple[SeriesReader, Sequence[Chunk]]:
        """Check everything, plan the window, and make its reader (no request yet)."""
        check_name(metric, _scope(app_id, endpoint_id, job_id).names, "metric")
        if not isinstance(partial, bool):
            raise ArgumentTypeError(f"partial must be True or False, got {partial!r}")
        chunks = plan_series(start, end, resolution, now=self._core.clock.now())
        warn_past_retention(self._core, chunks[0].owned_start, f"the {metric} series")
        reader = series_reader(
            self._core,
            check_id(app_id),
            metric,
            chunks,
            window=self._core.max_concurrency,
            endpoint_id=endpoint_id,
            job_id=job_id,
            partial=partial,
        )
        return reader, chunks


async def _batches(
    reader: SeriesReader, app_id: int, metric: str, step: timedelta
) -> AsyncGenerator[Series, None]:
    async with contextlib.aclosing(reader.stream_chunks()) as chunks:
        async for _, points in chunks:
            yield Series(
                app_id=app_id,
                metric=metric,
                step=step,
                points=points,
                partial_from=reader.open_from(points, step),
            )
