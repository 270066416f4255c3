"""Turning one chunk's answer into the points it owns (pure, no I/O).

Ownership makes the merge independent of whether the server includes the bucket at ``to`` and of
widened requests overlapping their neighbours; the step check refuses a series of another
granularity instead of mixing it in.
"""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from typing import Any

from .._exceptions import ResponseFormatError, StepMismatchError
from .._time import display_time, parse_time
from ..types._convert import structure
from ..types._models import Point
from .planner import Chunk
from .steps import EPOCH, STEPS, format_step

__all__ = ["owned_points", "parse_series_results"]


def parse_series_results(
    results: Any, metric: str, *, method: str, path: str
) -> tuple[list[Point], float | None]:
    """Points and summary from ``{"summaries": {m: n}, "series": {m: [[iso, n], ...]}}``."""
    if not isinstance(results, dict):
        raise ResponseFormatError(
            f"expected an object with 'series', got {type(results).__name__}",
            method=method,
            path=path,
        )
    series = results.get("series")
    if not isinstance(series, dict):
        raise ResponseFormatError("the results have no 'series' object", method=method, path=path)
    if metric in series:
        raw = series[metric]
    elif not series:
        raw = []  # no data for the window at all
    else:
        raise ResponseFormatError(
            f"the series is for {', '.join(map(repr, series))}, not {metric!r}",
            method=method,
            path=path,
        )
    if not isinstance(raw, list):
        raise ResponseFormatError(
            f"series.{metric} is not a list of points", method=method, path=path
        )
    try:
        points = [_point(item) for item in raw]
    except Exception as exc:
        raise ResponseFormatError(
            f"a point of series.{metric} is malformed: {exc}", method=method, path=path
        ) from exc
    summary: float | None = None
    summaries = results.get("summaries")
    if isinstance(summaries, dict):
        value = summaries.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            summary = float(value)
    return points, summary


def _point(item: Any) -> Point:
    # The hot path of every series: a direct read of Scout's [iso, number] pairs; anything else
    # (the {timestamp, value} objects the spec claims) goes through the converter.
    if type(item) is list and len(item) == 2 and type(item[0]) is str:
        value = item[1]
        if value is None or type(value) is float or type(value) is int:
            return Point(parse_time(item[0]), None if value is None else float(value))
    return structure(item, Point)


def owned_points(points: list[Point], chunk: Chunk, *, method: str, path: str) -> list[Point]:
    """The points of ``chunk``'s answer that it owns, in strictly increasing time.

    Raises ``StepMismatchError`` if the answer is not on the planned step, and
    ``ResponseFormatError`` if it holds a bucket twice.
    """
    ordered = sorted(points, key=lambda p: p.time)
    _check_step(ordered, chunk, method=method, path=path)
    for before, after in itertools.pairwise(ordered):
        if before.time == after.time:
            raise ResponseFormatError(
                f"the series holds the bucket {display_time(after.time)} twice",
                method=method,
                path=path,
            )
    return [p for p in ordered if chunk.owned_start <= p.time < chunk.owned_end]


def _check_step(ordered: list[Point], chunk: Chunk, *, method: str, path: str) -> None:
    step = chunk.step

    def mismatch(actual: timedelta | None, why: str) -> StepMismatchError:
        return StepMismatchError(
            f"expected a series at {format_step(step)}, {why}",
            expected=step,
            actual=actual,
            method=method,
            path=path,
        )

    gaps = [b.time - a.time for a, b in itertools.pairwise(ordered) if b.time != a.time]
    finest = min(gaps) if gaps else None
    for point in ordered:
        if (point.time - EPOCH) % step:
            raise mismatch(finest, f"got {display_time(point.time)}, off that grid")
    if finest is not None and finest < step:
        raise mismatch(finest, f"got points {format_step(finest)} apart")
    # A coarser answer stays on the grid: it shows as every gap being a multiple of a coarser
    # step, even with a bucket missing here and there. Three gaps at least, so a series that
    # happens to hold a few sparse points is not taken for one.
    # Fewer gaps are a coarser answer too when the gaps are one of Scout's steps and the points
    # fill the request window at it (a 5-minute window answered at 2 minutes: 3 points, 2 gaps),
    # up to the bucket at `to` that a server may leave out; sparser, they are a finer series
    # with gaps.
    if gaps:
        common = timedelta(seconds=math.gcd(*(int(g.total_seconds()) for g in gaps)))
        if common > step and (len(gaps) >= 3 or _fills(ordered, chunk, common)):
            raise mismatch(common, f"got every point a multiple of {format_step(common)} apart")


def _fills(ordered: list[Point], chunk: Chunk, step: timedelta) -> bool:
    """Whether ``ordered`` holds all but at most one of the (3 or more) buckets of ``step``
    that overlap ``chunk``'s request window, ``step`` being one Scout answers at."""
    if step not in STEPS:
        return False
    first = chunk.start - (chunk.start - EPOCH) % step
    buckets = -(-(chunk.end - first) // step)
    return buckets >= 3 and len(ordered) >= buckets - 1
