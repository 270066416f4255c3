"""Turning one chunk's answer into the points it owns (pure, no I/O).

Ownership makes the merge independent of whether the server includes the bucket at ``to`` and of
widened requests overlapping their neighbours; the step check refuses a series of another
granularity instead of mixing it in.

Answers are read straight into columns (``Points``): a regular answer, every bucket of a grid once
and in order (what Scout sends), is checked by comparing its time strings, joined, with the text
of that grid (``grid_text``), and its times are a ``range``: no per-point parsing. Any other
answer (gaps, disorder, duplicates, another time form, the spec's ``{timestamp, value}`` objects)
is read point by point and checked the same way.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from itertools import islice
from operator import sub
from typing import Any

from .._exceptions import ResponseFormatError, StepMismatchError
from .._time import display_time, grid_text, parse_time
from ..types._models import Point
from ..types._points import Points, ceil_seconds, epoch_seconds, floor_seconds
from .planner import Chunk
from .steps import STEPS, format_step

__all__ = ["owned_points", "parse_series_results", "read_points"]

_NAN = math.nan
_NUMBERS = frozenset({float, int})
_NONE = type(None)


def parse_series_results(
    results: Any, metric: str, *, method: str, path: str
) -> tuple[Points, float | None]:
    """Points (in the answer's order) and summary from ``{"summaries": {m: n}, "series": {m:
    [[iso, n], ...]}}``."""
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
        points = read_points(raw)
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


def read_points(raw: list[Any]) -> Points:
    """``[[iso, number | null], ...]`` as columns; raises on a malformed point."""
    return _regular(raw) or Points.from_points(_point(item) for item in raw)


def _regular(raw: list[Any]) -> Points | None:
    """The fast path: ``raw`` as columns if it is a regular grid of Scout's time strings with
    numbers or nulls, else ``None`` (and the caller reads it point by point)."""
    if len(raw) < 2 or type(raw[0]) is not list:
        return None
    try:
        texts, values = zip(*raw, strict=True)
        first, second = parse_time(texts[0]), parse_time(texts[1])
    except (TypeError, ValueError):
        return None
    start, after = _whole_seconds(first), _whole_seconds(second)
    if start is None or after is None:
        return None
    step = after - start
    try:
        expected = grid_text(start, step, len(texts))
        if expected is None or "".join(texts) != expected:
            return None
    except (TypeError, OverflowError):  # a time that is not a string; a grid past year 9999
        return None
    if set(map(len, texts)) != {20}:  # the same text, cut elsewhere: not these instants
        return None
    kinds = set(map(type, values))
    if not kinds <= _NUMBERS:
        if not kinds <= _NUMBERS | {_NONE}:
            return None
        values = tuple(_NAN if value is None else value for value in values)
    try:
        columns = array("d", values)
    except OverflowError:
        return None
    return Points.on_grid(start, step, columns)


def _whole_seconds(moment: datetime) -> int | None:
    try:
        return epoch_seconds(moment)
    except ValueError:
        return None


def _point(item: Any) -> Point:
    # Scout's [iso, number] pairs read directly; anything else (the {timestamp, value} objects
    # the spec claims) goes through the converter.
    if type(item) is list and len(item) == 2 and type(item[0]) is str:
        value = item[1]
        if value is None or type(value) is float or type(value) is int:
            return Point(parse_time(item[0]), None if value is None else float(value))
    # Imported on first use: the converters and cattrs, ~20 ms (Scout's pairs never need them).
    from ..types._convert import structure

    return structure(item, Point)


def owned_points(
    points: Points | Sequence[Point], chunk: Chunk, *, method: str, path: str
) -> Points:
    """The points of ``chunk``'s answer that it owns, in strictly increasing time.

    Raises ``StepMismatchError`` if the answer is not on the planned step, and
    ``ResponseFormatError`` if it holds a bucket twice.
    """
    if not isinstance(points, Points):
        points = Points.from_points(points)
    times = points.times
    if points.grid is None:  # not known to be in order, unique and evenly spaced: check
        if not all(map(int.__lt__, times, islice(times, 1, None))):
            order = sorted(range(len(points)), key=times.__getitem__)
            values = points.values
            points = Points([times[i] for i in order], [values[i] for i in order])
            times = points.times
        gaps = list(map(sub, islice(times, 1, None), times))
        spaced = [gap for gap in gaps if gap]
        finest = min(spaced) if spaced else None
        _check_step(times, finest, math.gcd(*spaced), len(spaced), chunk, method=method, path=path)
        if 0 in gaps:
            twice = times[gaps.index(0)]
            raise ResponseFormatError(
                f"the series holds the bucket {display_time(_moment(twice))} twice",
                method=method,
                path=path,
            )
    else:
        # In order, each bucket once, every gap the grid's: the gaps are known without a pass.
        count = len(times) - 1
        grid = points.grid if count else None
        _check_step(times, grid, grid or 0, count, chunk, method=method, path=path)
    low = bisect_left(times, ceil_seconds(chunk.owned_start))
    high = bisect_left(times, ceil_seconds(chunk.owned_end))
    return points if low == 0 and high == len(times) else points[low:high]


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _check_step(
    times: Any,
    finest: int | None,
    common: int,
    gaps: int,
    chunk: Chunk,
    *,
    method: str,
    path: str,
) -> None:
    """``times`` in order; of the nonzero gaps between neighbours, ``finest`` is the least,
    ``common`` their greatest common divisor (0 if none) and ``gaps`` how many there are."""
    step = chunk.step
    step_s = int(step.total_seconds())

    def mismatch(actual: int | None, why: str) -> StepMismatchError:
        return StepMismatchError(
            f"expected a series at {format_step(step)}, {why}",
            expected=step,
            actual=None if actual is None else timedelta(seconds=actual),
            method=method,
            path=path,
        )

    if times and (times[0] % step_s or common % step_s):
        off = next(t for t in times if t % step_s)
        raise mismatch(finest, f"got {display_time(_moment(off))}, off that grid")
    if finest is not None and finest < step_s:
        raise mismatch(finest, f"got points {format_step(timedelta(seconds=finest))} apart")
    # A coarser answer stays on the grid: it shows as every gap being a multiple of a coarser
    # step, even with a bucket missing here and there. Three gaps at least, so a series that
    # happens to hold a few sparse points is not taken for one.
    # Fewer gaps are a coarser answer too when the gaps are one of Scout's steps and the points
    # fill the request window at it (a 5-minute window answered at 2 minutes: 3 points, 2 gaps),
    # up to the bucket at `to` that a server may leave out; sparser, they are a finer series
    # with gaps.
    if gaps and common > step_s and (gaps >= 3 or _fills(len(times), chunk, common)):
        shown = format_step(timedelta(seconds=common))
        raise mismatch(common, f"got every point a multiple of {shown} apart")


def _fills(count: int, chunk: Chunk, step_s: int) -> bool:
    """Whether ``count`` points are all but at most one of the (3 or more) buckets of the step
    ``step_s`` that overlap ``chunk``'s request window, that step being one Scout answers at."""
    step = timedelta(seconds=step_s)
    if step not in STEPS:
        return False
    start = floor_seconds(chunk.start)
    first = start - start % step_s
    buckets = -(-(ceil_seconds(chunk.end) - first) // step_s)
    return buckets >= 3 and count >= buckets - 1
