"""The merge's pure checks: ownership, order, duplicates and the step of an answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import scout_async
from scout_async import Point
from scout_async._series.merge import owned_points, parse_series_results
from scout_async._series.planner import Chunk

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
M = timedelta(minutes=1)
CHUNK = Chunk(start=T0, end=T0 + 60 * M, owned_start=T0, owned_end=T0 + 60 * M, step=M)


def points(*minutes: int) -> list[Point]:
    return [Point(T0 + m * M, float(m)) for m in minutes]


def test_owned_points_sorts_and_keeps_only_what_the_chunk_owns() -> None:
    got = owned_points(points(60, 2, 0, 1), CHUNK, method="GET", path="/p")
    assert [p.time for p in got] == [T0, T0 + M, T0 + 2 * M]


def test_a_bucket_twice_is_a_format_error() -> None:
    with pytest.raises(scout_async.ResponseFormatError, match="twice"):
        owned_points(points(0, 1, 1, 2), CHUNK, method="GET", path="/p")


@pytest.mark.parametrize(
    ("minutes", "actual"),
    [
        ((0, 2, 4, 6, 8), 2 * M),  # a 2 m answer
        ((0, 2, 6, 8, 10), 2 * M),  # a 2 m answer with a bucket missing
        ((0, 10, 20, 40), 10 * M),  # a 10 m answer with a gap
    ],
)
def test_a_coarser_answer_is_a_step_mismatch(minutes: tuple[int, ...], actual: timedelta) -> None:
    with pytest.raises(scout_async.StepMismatchError) as info:
        owned_points(points(*minutes), CHUNK, method="GET", path="/p")
    assert (info.value.expected, info.value.actual) == (M, actual)


@pytest.mark.parametrize(
    "moments",
    [[T0 + M / 2], [T0, T0 + M + timedelta(seconds=30)]],
    ids=["off-grid", "half-step"],
)
def test_a_finer_or_off_grid_answer_is_a_step_mismatch(moments: list[datetime]) -> None:
    with pytest.raises(scout_async.StepMismatchError):
        owned_points([Point(t, 1.0) for t in moments], CHUNK, method="GET", path="/p")


@pytest.mark.parametrize("minutes", [(0, 5), (0, 5, 10), (3, 4, 9, 10)])
def test_sparse_or_gappy_series_at_the_right_step_pass(minutes: tuple[int, ...]) -> None:
    assert len(owned_points(points(*minutes), CHUNK, method="GET", path="/p")) == len(minutes)


@pytest.mark.parametrize(
    "results",
    [
        [],
        {"series": []},
        {"series": {"other": []}},
        {"series": {"m": {"a": 1}}},
        {"series": {"m": [["2026-01-01T00:00:00Z"]]}},
        {"series": {"m": [["2026-01-01T00:00:00Z", "7"]]}},
        {"series": {"m": [["not a time", 1]]}},
    ],
)
def test_malformed_series_results_are_format_errors(results: object) -> None:
    with pytest.raises(scout_async.ResponseFormatError):
        parse_series_results(results, "m", method="GET", path="/p")


def test_series_results_accept_nulls_the_spec_shape_and_an_empty_series() -> None:
    results = {
        "summaries": {"m": 2.5},
        "series": {
            "m": [["2026-03-01T00:00:00Z", None], {"timestamp": "2026-03-01T00:01:00Z", "value": 3}]
        },
    }
    got, summary = parse_series_results(results, "m", method="GET", path="/p")
    assert got == [Point(T0, None), Point(T0 + M, 3.0)]
    assert summary == 2.5
    got, summary = parse_series_results({"series": {}}, "m", method="GET", path="/p")
    assert (list(got), summary) == ([], None)


# The columnar decode: a regular answer takes a fast path (its time strings are compared with
# the grid's text, not parsed one by one); every other answer is read point by point. Both must
# read the same answer the same way.


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _slow(raw: list[object]) -> list[Point]:
    from scout_async._series.merge import _point

    return [_point(item) for item in raw]


REGULAR: list[list[object]] = [[_iso(T0 + i * M), float(i)] for i in range(90)]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(REGULAR, id="regular"),
        pytest.param([[t, None if i % 3 else v] for i, (t, v) in enumerate(REGULAR)], id="nulls"),
        pytest.param([[t, i] for i, (t, _) in enumerate(REGULAR)], id="integers"),
        pytest.param(REGULAR[:10] + REGULAR[11:], id="a-gap"),
        pytest.param(REGULAR[::-1], id="reversed"),
        pytest.param(
            [*REGULAR[:5], [_iso(T0 + 5 * M).replace("Z", "+00:00"), 5.0], *REGULAR[6:]],
            id="another-form-in-the-middle",
        ),
        pytest.param(
            [[_iso(T0 + i * 120 * timedelta(seconds=1) + 23 * 60 * M), 1.0] for i in range(50)],
            id="across-midnight-at-2m",
        ),
        pytest.param([{"timestamp": t, "value": v} for t, v in REGULAR[:5]], id="spec-objects"),
        pytest.param(REGULAR[:1], id="one"),
        pytest.param([], id="none"),
    ],
)
def test_fast_and_slow_decode_read_every_answer_alike(raw: list[object]) -> None:
    from scout_async._series.merge import read_points

    assert list(read_points(raw)) == _slow(raw)


def test_a_regular_answer_takes_the_fast_path_and_makes_no_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scout_async._series import merge

    def refuse(item: object) -> Point:
        raise AssertionError("parsed point by point")

    monkeypatch.setattr(merge, "_point", refuse)
    got = merge.read_points(REGULAR)
    assert list(got.times) == [int((T0 + i * M).timestamp()) for i in range(90)]
    assert list(got.values) == [float(i) for i in range(90)]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        pytest.param(
            [*REGULAR[:3], [_iso(T0 + 3 * M), True]], "malformed.*number or null", id="bool"
        ),
        pytest.param([*REGULAR[:3], [_iso(T0 + 3 * M), "4"]], "number or null", id="string"),
        pytest.param([*REGULAR[:3], [_iso(T0 + 3 * M)]], "malformed", id="short-pair"),
        pytest.param([*REGULAR[:3], ["yesterday", 1.0]], "malformed", id="bad-time"),
        pytest.param([*REGULAR[:3], [12345, 1.0]], "malformed", id="numeric-time"),
    ],
)
def test_a_malformed_point_in_a_regular_looking_answer_is_an_error(
    raw: list[object], match: str
) -> None:
    with pytest.raises(scout_async.ResponseFormatError, match=match):
        parse_series_results({"series": {"m": raw}}, "m", method="GET", path="/p")


def test_a_duplicated_bucket_in_a_long_answer_is_still_caught() -> None:
    raw = [*REGULAR[:40], REGULAR[39], *REGULAR[40:]]
    got, _ = parse_series_results({"series": {"m": raw}}, "m", method="GET", path="/p")
    with pytest.raises(scout_async.ResponseFormatError, match="twice"):
        owned_points(got, CHUNK, method="GET", path="/p")


def test_times_that_join_into_the_grid_but_are_cut_elsewhere_are_not_taken_for_it() -> None:
    # Joined, these four strings are the text of a 5-minute grid; the third holds two times.
    t = [_iso(T0 + i * 5 * M) for i in range(4)]
    raw: list[object] = [[t[0], 1.0], [t[1], 2.0], [t[2] + t[3], 3.0], ["", 4.0]]
    with pytest.raises(scout_async.ResponseFormatError, match="malformed"):
        parse_series_results({"series": {"m": raw}}, "m", method="GET", path="/p")
