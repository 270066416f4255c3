"""A series' points held as two arrays (columnar); ``Point`` objects only when someone reads them.

A 30-day backfill at one minute is 43,200 points a series: as ``datetime`` plus attrs objects that
is about 150 bytes a point; as two machine arrays it is 16. ``Points`` is an immutable
``Sequence[Point]``, so code written against a ``list[Point]`` keeps working, and it hands the
arrays themselves to Arrow, NumPy, pandas, polars and the built-in sinks without a copy.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, overload

import attrs

__all__ = ["Point", "Points", "as_points", "ceil_seconds", "epoch_seconds", "floor_seconds"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UTC = timezone.utc
_NAN = math.nan
_fromtimestamp = datetime.fromtimestamp


@attrs.frozen
class Point:
    """One bucket of a series: ``time`` is the bucket's start (aware UTC), ``value`` its value.

    ``value`` is ``None`` where Scout sent a null for the bucket.
    """

    time: datetime
    value: float | None


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC of an aware ``moment`` (a bucket start)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a point's time must be timezone-aware, got {moment.isoformat()}")
    delta = moment - _EPOCH
    if delta.microseconds:
        raise ValueError(f"a point's time must be whole seconds, got {moment.isoformat()}")
    return delta.days * 86_400 + delta.seconds


_SECOND = timedelta(seconds=1)


def ceil_seconds(moment: datetime) -> int:
    """The first whole epoch second at or after the aware ``moment``."""
    return -((_EPOCH - moment) // _SECOND)


def floor_seconds(moment: datetime) -> int:
    """The last whole epoch second at or before the aware ``moment``."""
    return (moment - _EPOCH) // _SECOND


class Points(Sequence[Point]):
    """The points of a series as two arrays, read-only.

    ``times``: the buckets' starts as whole seconds since 1970-01-01 UTC (``array('q')``, int64);
    ``values``: their values as ``array('d')`` (float64), ``NaN`` where Scout sent no value (a
    null), so a missing value stays distinguishable from 0. Both are exposed as read-only
    ``memoryview``s: zero-copy for ``numpy.frombuffer``, ``pyarrow.py_buffer`` and the like.

    Indexing or iterating makes ``Point(time, value)`` objects on the fly (``value`` ``None``
    where the array holds ``NaN``). Compares equal to another ``Points`` or to any sequence of
    the same ``Point``s.

    >>> series = await client.metrics.get(101, "throughput", start=t0, end=t1)
    >>> series.points[0]            # a Point, made now
    >>> len(series.points), series.points.nbytes
    >>> numpy.frombuffer(series.points.values, dtype="float64")  # no copy
    """

    __slots__ = ("_grid", "_times", "_values")

    def __init__(self, times: Iterable[int] = (), values: Iterable[float] = ()) -> None:
        self._times: array[int] = (
            times if isinstance(times, array) and times.typecode == "q" else array("q", times)
        )
        self._values: array[float] = (
            values if isinstance(values, array) and values.typecode == "d" else array("d", values)
        )
        if len(self._times) != len(self._values):
            raise ValueError(
                f"times and values differ in length ({len(self._times)} vs {len(self._values)})"
            )
        #: The spacing in seconds when the times are known to be ``first + k * spacing`` (set by
        #: ``on_grid``, kept by slices): the merge then skips its per-point order checks.
        self._grid: int | None = None

    @classmethod
    def on_grid(cls, first: int, spacing: int, values: array[float]) -> Points:
        """``values`` at ``first``, ``first + spacing``, ... (epoch seconds, ``spacing`` > 0)."""
        if spacing <= 0:
            raise ValueError(f"the spacing must be positive, got {spacing}")
        made = cls(array("q", range(first, first + spacing * len(values), spacing)), values)
        made._grid = spacing
        return made

    @property
    def grid(self) -> int | None:
        """The spacing in seconds if the times are known to be evenly spaced, else ``None``."""
        return self._grid

    @classmethod
    def from_points(cls, points: Iterable[Point]) -> Points:
        """Points from ``Point`` objects (their times aware and in whole seconds)."""
        if isinstance(points, Points):
            return points
        times = array("q")
        values = array("d")
        for point in points:
            times.append(epoch_seconds(point.time))
            values.append(_NAN if point.value is None else point.value)
        return cls(times, values)

    @classmethod
    def concat(cls, parts: Iterable[Points]) -> Points:
        """One ``Points`` of ``parts`` end to end (the arrays copied once)."""
        times = array("q")
        values = array("d")
        for part in parts:
            times.extend(part._times)
            values.extend(part._values)
        return cls(times, values)

    @property
    def times(self) -> memoryview:
        """Bucket starts, whole seconds since 1970-01-01 UTC (int64, read-only)."""
        return memoryview(self._times).toreadonly()

    @property
    def values(self) -> memoryview:
        """Values as float64, ``NaN`` where missing (read-only)."""
        return memoryview(self._values).toreadonly()

    @property
    def nbytes(self) -> int:
        """Bytes the two arrays hold (their buffers, as allocated)."""
        return self._times.buffer_info()[1] * 8 + self._values.buffer_info()[1] * 8

    def __len__(self) -> int:
        return len(self._times)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> Points: ...

    def __getitem__(self, index: int | slice) -> Point | Points:
        if isinstance(index, slice):
            part = Points(self._times[index], self._values[index])
            if self._grid is not None and index.step in (None, 1):
                part._grid = self._grid
            return part
        value = self._values[index]
        return Point(_fromtimestamp(self._times[index], _UTC), None if value != value else value)

    def __iter__(self) -> Iterator[Point]:
        fromtimestamp = _fromtimestamp
        utc = _UTC
        for time, value in zip(self._times, self._values, strict=True):
            yield Point(fromtimestamp(time, utc), None if value != value else value)

    def __reversed__(self) -> Iterator[Point]:
        for index in range(len(self._times) - 1, -1, -1):
            yield self[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Points):
            return self._times == other._times and _same_values(self._values, other._values)
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        # The times alone: values equal as numbers may differ in bits (0.0 and -0.0, NaNs).
        return hash(self._times.tobytes())

    def __repr__(self) -> str:
        if not self._times:
            return "Points([])"
        first, last = (
            _fromtimestamp(t, _UTC).isoformat().replace("+00:00", "Z")
            for t in (self._times[0], self._times[-1])
        )
        return f"Points({len(self)} points, {first} .. {last})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._times, self._values, self._grid))


def _rebuild(times: array[int], values: array[float], grid: int | None) -> Points:
    points = Points(times, values)
    points._grid = grid
    return points


def _same_values(a: array[float], b: array[float]) -> bool:
    """Equal arrays, ``NaN`` equal to ``NaN`` (a missing value is the same missing value)."""
    if a == b:
        return True
    if len(a) != len(b):
        return False
    return all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))


def as_points(value: Iterable[Point]) -> Points:
    """A ``Points`` as is; any other iterable of ``Point`` copied into one (attrs converter)."""
    return Points.from_points(value)
