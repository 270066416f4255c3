"""Points: a series' points as two arrays, a Point made only when one is read."""

from __future__ import annotations

import math
import pickle
import sys
from array import array
from datetime import datetime, timedelta, timezone

import pytest

from scout_async import Point, Points, Series

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
M = timedelta(minutes=1)
E0 = int(T0.timestamp())


def sample() -> list[Point]:
    return [Point(T0, 0.0), Point(T0 + M, None), Point(T0 + 2 * M, 2.5), Point(T0 + 3 * M, -1.0)]


def test_points_round_trip_and_keep_a_missing_value_apart_from_zero() -> None:
    points = Points.from_points(sample())
    assert list(points) == sample()
    assert points[0].value == 0.0
    assert points[1].value is None
    assert list(points.times) == [E0, E0 + 60, E0 + 120, E0 + 180]
    assert points.values[0] == 0.0
    assert math.isnan(points.values[1])


def test_indexing_slicing_and_reversing() -> None:
    points = Points.from_points(sample())
    assert points[-1] == Point(T0 + 3 * M, -1.0)
    assert isinstance(points[1:3], Points)
    assert list(points[1:3]) == sample()[1:3]
    assert list(reversed(points)) == sample()[::-1]
    assert points[0].time.tzinfo is UTC
    with pytest.raises(IndexError):
        points[4]


def test_equality_with_points_and_with_lists_of_point() -> None:
    a = Points.from_points(sample())
    b = Points(array("q", a.times), array("d", a.values))
    assert a == b  # NaN (a missing value) equals NaN here
    assert hash(a) == hash(b)
    assert a == sample()
    assert sample() == a
    assert a != sample()[:3]
    assert a != Points.from_points([*sample()[:3], Point(T0 + 3 * M, None)])
    assert (a == "abcd") is False


def test_the_arrays_are_read_only_views() -> None:
    points = Points.from_points(sample())
    with pytest.raises(TypeError):
        points.times[0] = 0
    with pytest.raises(TypeError):
        points.values[0] = 1.0  # type: ignore[call-overload]
    assert points.times.format == "q"
    assert points.values.format == "d"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Points([1, 2], [1.0])
    with pytest.raises(ValueError, match="timezone-aware"):
        Points.from_points([Point(datetime(2026, 11, 1), 1.0)])
    with pytest.raises(ValueError, match="whole seconds"):
        Points.from_points([Point(T0 + timedelta(microseconds=5), 1.0)])


def test_an_offset_time_is_stored_as_its_utc_instant() -> None:
    moment = datetime(2026, 11, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert Points.from_points([Point(moment, 1.0)])[0].time == T0


def test_pickle_and_repr() -> None:
    points = Points.from_points(sample())
    assert pickle.loads(pickle.dumps(points)) == points
    assert repr(points) == "Points(4 points, 2026-11-01T00:00:00Z .. 2026-11-01T00:03:00Z)"
    assert repr(Points()) == "Points([])"


def test_concat_keeps_the_order() -> None:
    points = Points.from_points(sample())
    assert Points.concat([points[:1], points[1:3], Points(), points[3:]]) == points


def test_a_series_converts_a_list_and_exposes_the_arrays() -> None:
    series = Series(app_id=1, metric="throughput", step=M, points=sample())
    assert isinstance(series.points, Points)
    assert list(series.times) == list(series.points.times)
    assert series == Series(app_id=1, metric="throughput", step=M, points=sample())


def test_a_month_at_one_minute_holds_at_most_24_bytes_a_point() -> None:
    count = 30 * 24 * 60
    times = array("q", range(E0, E0 + 60 * count, 60))
    values = array("d", (float(i % 7) for i in range(count)))
    built = Points.concat(
        Points(times[i : i + 60], values[i : i + 60]) for i in range(0, count, 60)
    )
    held = sys.getsizeof(built._times) + sys.getsizeof(built._values)
    assert held / count <= 24
    assert built.nbytes / count <= 24
