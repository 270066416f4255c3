"""Metric series: which buckets a window answers with, and each bucket's synthetic value.

A value is a pure function of (seed, app, source, metric, bucket start, step), so two requests that
cover the same bucket at the same step agree exactly, however the caller splits its windows. So is
whether a bucket is a gap (`Gaps`): left out of the series, or sent with a null value.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal

import attrs

from ._noise import symmetric, text_key, unit
from ._rules import EPOCH, ceil_to_grid, epoch_seconds, floor_to_grid, format_time
from ._traffic import incident_excess, load

__all__ = [
    "SUMMED_METRICS",
    "Gaps",
    "Source",
    "bucket_starts",
    "filling_bucket",
    "job_series_results",
    "plain",
    "series_points",
    "series_results",
    "value",
]

# Assumed (Scout does not document how it summarises, nor whether `errors` is a count per step,
# quirk 6): `errors` is a count per bucket, so its summary is the total; every other metric is a
# level or a rate (ms, apdex, requests per minute; units documented in quirk 6) and is
# summarised by its mean.
SUMMED_METRICS = frozenset({"errors"})


@attrs.frozen
class Source:
    """Whose traffic a series describes: a whole app, one of its endpoints, or one of its jobs.

    ``volume`` is requests (or jobs) per minute at an average hour, ``duration_ms`` the typical
    response (or execution) time, ``error_rate`` the usual failing fraction and ``sensitivity``
    how hard the app's incidents hit this source.
    """

    seed: int
    app_id: int
    name: str
    volume: float
    duration_ms: float
    error_rate: float
    sensitivity: float = 1.0
    key: int = attrs.field(init=False)

    @key.default
    def _key(self) -> int:
        return text_key(self.name)


_GAP_TAG = 0x6A9


@attrs.frozen
class Gaps:
    """How a series shows buckets without data, which the API notes leave open (quirk 9: "how
    gaps appear in a series (missing points or nulls)").

    ``missing`` is the fraction of buckets left out of a series altogether, ``nulls`` the
    fraction sent as ``[time, null]``. Which buckets is a pure function of the source, the bucket
    and the step (not the metric: an agent that did not report misses every metric of it).
    """

    missing: float = 0.0
    nulls: float = 0.0

    def __attrs_post_init__(self) -> None:
        for name in ("missing", "nulls"):
            share = getattr(self, name)
            if isinstance(share, bool) or not isinstance(share, (int, float)):
                raise TypeError(f"{name} must be a fraction between 0 and 1, got {share!r}")
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a fraction between 0 and 1, got {share!r}")
        if self.missing + self.nulls > 1.0:
            raise ValueError(
                f"missing + nulls must not exceed 1, got {self.missing} + {self.nulls}"
            )

    def draw(self, source: Source, t: int, step: int) -> Literal["missing", "null", "value"]:
        """``"missing"``, ``"null"`` or ``"value"`` for the bucket ``[t, t + step)``."""
        if not self.missing and not self.nulls:
            return "value"
        u = unit(source.seed, source.app_id, source.key, _GAP_TAG, t, step)
        if u < self.missing:
            return "missing"
        return "null" if u < self.missing + self.nulls else "value"


NO_GAPS = Gaps()


def bucket_starts(
    *,
    start: datetime,
    end: datetime,
    step: timedelta,
    now: datetime,
    retention: timedelta,
    inclusive_end: bool,
) -> range:
    """Epoch seconds of the buckets a window ``[start, end)`` is answered with.

    Grid times ``t`` with ``floor(start) <= t < end`` (``<= end`` when ``inclusive_end``), and only
    ``now - retention <= t <= now``: no data past retention, none from the future, and the bucket
    holding ``now`` is included although it is still filling (its value is 0: ``series_points``).

    Evidence: the bucket holding ``from`` is the first (assumed: the grid is epoch-aligned,
    ``_rules.EPOCH``); the bucket at ``to`` is a variant (quirk 9, unknown); no data past about
    30 days (API notes, quirk 4; the exact edge is assumed); the filling bucket is reported
    (observed: Scout's Go CLI internal/output/chart.go, ``trimPartialBucket``: "The API's most
    recent bucket is incomplete and usually reads near zero"); the simulator sends it as 0, as the
    live API typically does.
    """
    seconds = int(step.total_seconds())
    first = max(floor_to_grid(start, step), ceil_to_grid(now - retention, step))
    last = floor_to_grid(end, step)
    if not inclusive_end and last == end:
        last -= step
    last = min(last, floor_to_grid(now, step))
    return range(epoch_seconds(first), epoch_seconds(last) + 1, seconds)


_TAGS = {
    name: i
    for i, name in enumerate(
        (
            "apdex",
            "response_time",
            "response_time_95th",
            "errors",
            "throughput",
            "queue_time",
            "execution_time",
            "latency",
            "allocations",
        )
    )
}


def value(source: Source, metric: str, t: int, step: int) -> float:
    """The value of ``metric`` for the bucket ``[t, t + step)`` (epoch seconds)."""
    seed, app = source.seed, source.app_id

    def noise(tag: str) -> float:
        # Averaging more minutes into a bucket smooths it, as it would in a real rollup.
        return symmetric(seed, app, source.key, _TAGS[tag], t, step) / math.sqrt(max(1, step / 60))

    level = load(seed, app, t + step / 2)
    excess = incident_excess(seed, app, t, t + step) * source.sensitivity
    throughput = (
        source.volume * level * (1 - 0.15 * min(excess, 1.0)) * (1 + 0.1 * noise("throughput"))
    )
    response = (
        source.duration_ms
        * (0.85 + 0.15 * level)
        * (1 + excess)
        * (1 + 0.12 * noise("response_time"))
    )

    if metric == "throughput":
        return round(throughput, 2)
    if metric in ("response_time", "execution_time"):
        return round(response, 2)
    if metric == "response_time_95th":
        return round(response * (2.3 + 0.3 * noise("response_time_95th") + 0.4 * excess), 2)
    if metric == "errors":
        expected = throughput * source.error_rate * (1 + 12 * excess) * step / 60
        # Stochastic rounding keyed by the bucket keeps small counts honest and deterministic.
        return float(math.floor(expected + unit(seed, app, source.key, _TAGS["errors"], t, step)))
    if metric == "apdex":
        slowdown = response / source.duration_ms - 1
        apdex = 0.99 - 0.08 * max(slowdown, 0.0) - 0.015 * abs(noise("apdex"))
        return round(min(1.0, max(0.0, apdex)), 3)
    if metric == "queue_time":
        queued = (2 + 3 * max(level - 0.5, 0.0) + 25 * excess) * (1 + 0.2 * noise("queue_time"))
        return round(max(queued, 0.1), 2)
    if metric == "latency":  # seconds a job waited in its queue
        waited = (0.3 + 1.5 * max(level - 1, 0.0) + 4 * excess) * (1 + 0.2 * noise("latency"))
        return round(max(waited, 0.01), 3)
    if metric == "allocations":
        return float(round((20_000 + 150 * source.duration_ms) * (1 + 0.1 * noise("allocations"))))
    raise ValueError(f"unknown metric {metric!r}")


def series_points(
    source: Source,
    metric: str,
    buckets: range,
    gaps: Gaps = NO_GAPS,
    *,
    filling: int | None = None,
) -> list[tuple[int, float | None]]:
    """``(epoch seconds, value)`` of the buckets the series holds: gaps left out, nulls None.

    ``filling`` is the start (epoch seconds) of the bucket holding "now": it reads 0, as the
    live API reports the bucket in progress (observed: Scout's Go CLI internal/output/chart.go,
    ``trimPartialBucket``, "The API's most recent bucket is incomplete and usually reads near
    zero"; API notes quirk 14). A gap stays a gap.
    """
    step = buckets.step
    points: list[tuple[int, float | None]] = []
    for t in buckets:
        kind = gaps.draw(source, t, step)
        if kind == "missing":
            continue
        if kind == "null":
            points.append((t, None))
        elif t == filling:
            points.append((t, 0.0))
        else:
            points.append((t, value(source, metric, t, step)))
    return points


def filling_bucket(now: datetime, step: timedelta) -> int:
    """The start (epoch seconds) of the bucket of ``step`` that holds ``now``."""
    return epoch_seconds(floor_to_grid(now, step))


def _series(
    source: Source, metric: str, buckets: range, gaps: Gaps, filling: int | None = None
) -> tuple[list[tuple[int, float | None]], list[list[Any]], float | int]:
    """The points, as they are and as ``[iso, value]`` pairs, and their summary."""
    points = series_points(source, metric, buckets, gaps, filling=filling)
    values = [v for _, v in points if v is not None]
    if metric in SUMMED_METRICS:
        summary = float(sum(values))
    else:
        # An empty window summarises to 0 rather than null: the live API's summary is a number.
        summary = round(sum(values) / len(values), 3) if values else 0.0
    pairs = [[_iso(t), None if v is None else plain(v, metric)] for t, v in points]
    return points, pairs, plain(summary, metric)


def _iso(t: int) -> str:
    return format_time(EPOCH + timedelta(seconds=t))


def series_results(
    source: Source,
    metric: str,
    buckets: range,
    gaps: Gaps = NO_GAPS,
    *,
    filling: int | None = None,
) -> dict[str, Any]:
    """The `results` of a metric call: a plain-number summary and ``[iso, value]`` pairs (the
    bucket starting at ``filling``, the one holding "now", reads 0: ``series_points``)."""
    _, pairs, summary = _series(source, metric, buckets, gaps, filling)
    return {"summaries": {metric: summary}, "series": {metric: pairs}}


def plain(number: float, metric: str) -> float | int:
    """A value as it goes out: counts as integers, as a JSON consumer would expect them."""
    return int(number) if metric in ("errors", "allocations") else number


def job_series_results(
    source: Source,
    metric: str,
    buckets: range,
    *,
    name: str,
    full_name: str,
    gaps: Gaps = NO_GAPS,
    filling: int | None = None,
) -> dict[str, Any]:
    """The `results` of a job metric call, in the shapes Scout's own CLI reads (and tests).

    ``throughput`` is a plain series. The others send an object of named sub-series:
    ``execution_time`` its parts (``ActiveRecord``, ``Ruby``) and their ``total``; ``latency`` a
    ``Latency`` series beside a ``total`` that is the job's execution time, not its latency;
    ``errors`` one series named after the job, with an object summary; ``allocations`` one
    series named ``Job/<class>``. The job's own figure (the ``total`` of execution time, else
    the one series besides ``total``) has the values of the plain series of the same metric. A
    gap is a gap in every sub-series.
    """
    values, points, summary = _series(source, metric, buckets, gaps, filling)
    parts: dict[str, list[list[Any]]]
    summaries: dict[str, Any] = {metric: summary}
    if metric == "throughput":
        return {"summaries": summaries, "series": {metric: points}}
    if metric == "execution_time":
        database: list[list[Any]] = []
        ruby: list[list[Any]] = []
        for (t, total), (moment, _) in zip(values, points, strict=True):
            if total is None:
                database.append([moment, None])
                ruby.append([moment, None])
                continue
            part = round(total * (0.2 + 0.4 * unit(source.seed, source.key, t, 0xAC)), 2)
            database.append([moment, part])
            ruby.append([moment, round(total - part, 2)])
        parts = {"ActiveRecord": database, "Ruby": ruby, "total": points}
    elif metric == "latency":
        execution = _series(source, "execution_time", buckets, gaps, filling)[1]
        parts = {"Latency": points, "total": execution}
    elif metric == "errors":
        parts = {full_name: points}
        summaries = {metric: {f"Job/{full_name}": summary}}
    else:  # allocations
        parts = {f"Job/{name}": points}
    return {"summaries": summaries, "series": {metric: parts}}
