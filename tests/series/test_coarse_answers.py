"""Defect 6 of issue 10: a coarse answer with fewer than 3 gaps is still a coarse answer.

A 5-minute window planned at 1 minute and answered at 2 minutes holds 3 points, 2 gaps: it was
accepted as a 1-minute series with gaps. It must raise ``StepMismatchError``; a sparse 1-minute
series (points far apart in a long window) must not.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scout_async import Point, StepMismatchError
from scout_async._series.merge import owned_points
from scout_async._series.planner import Chunk

MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)


def _chunk(length: timedelta) -> Chunk:
    return Chunk(T0, T0 + length, T0, T0 + length, MINUTE)


def _points(*minutes: int) -> list[Point]:
    return [Point(T0 + m * MINUTE, 1.0) for m in minutes]


@pytest.mark.parametrize(
    "minutes",
    [(0, 2, 4), (0, 2), (2, 4)],  # the to-bucket included, left out, the first one missing
    ids=["3-points", "2-points", "first-missing"],
)
def test_a_five_minute_window_answered_at_two_minutes_is_refused(
    minutes: tuple[int, ...],
) -> None:
    with pytest.raises(StepMismatchError) as caught:
        owned_points(_points(*minutes), _chunk(5 * MINUTE), method="GET", path="/x")
    assert caught.value.actual == 2 * MINUTE
    assert caught.value.expected == MINUTE


def test_a_sparse_minute_series_is_not_taken_for_a_coarse_one() -> None:
    # Two points 30 min apart in an hour at 1 m: a finer series with gaps (30 min would be 2
    # buckets, too few to tell), and 20 min apart is no step of Scout's.
    for minutes in ((0, 30), (0, 20, 40)):
        owned = owned_points(_points(*minutes), _chunk(60 * MINUTE), method="GET", path="/x")
        assert [p.time for p in owned] == [T0 + m * MINUTE for m in minutes]


def test_a_minute_series_with_one_gap_passes() -> None:
    owned = owned_points(_points(0, 1, 3, 4), _chunk(5 * MINUTE), method="GET", path="/x")
    assert len(owned) == 4
