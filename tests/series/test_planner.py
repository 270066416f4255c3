"""The range planner: every request answered at one step, owned ranges tiling the series."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scout_async._series.planner import PLANNER_VERSION, Chunk, plan_range, target_step
from scout_async._series.steps import (
    BANDS,
    MAX_WINDOW,
    STEPS,
    band_for_step,
    ceil_to_grid,
    floor_to_grid,
    format_step,
    step_for_window,
)

UTC = timezone.utc
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
# Midnight UTC: on the epoch grid of every step.
T0 = datetime(2026, 3, 2, tzinfo=UTC)
VALID_STEPS_TEXT = "1m, 2m, 5m, 10m, 30m, 1h, 2h"

OFFSETS = [
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=13, minutes=45)),
    timezone(timedelta(hours=-3, minutes=-30)),
]


def steps_in(chunk: Chunk) -> int:
    return (chunk.owned_end - chunk.owned_start) // chunk.step


def sent_length(chunk: Chunk) -> timedelta:
    """The request length at whole seconds, as Scout's clients send ``from``/``to``."""
    return chunk.end - timedelta(microseconds=chunk.end.microsecond) - chunk.start


def on_grid(moment: datetime, step: timedelta) -> bool:
    return floor_to_grid(moment, step) == moment


def expected_step(start: datetime, end: datetime) -> timedelta:
    """The spec's step rule for ``resolution=None``, transcribed independently of the planner."""
    if end - start > MAX_WINDOW:
        return 2 * H
    step = step_for_window(end - start)
    for _ in range(len(STEPS)):  # bounded: a cycling rule fails here instead of hanging
        if end - floor_to_grid(start, step) > MAX_WINDOW:
            return 2 * H
        wider = max(step, step_for_window(end - floor_to_grid(start, step)))
        if wider == step:
            return step
        step = wider
    raise AssertionError("the step rule did not settle")


# --- strategies -------------------------------------------------------------------------------

_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
# Half the starts sit on (or a few minutes off) a 2 h grid point, where band edges bite hardest.
_aligned = st.builds(
    lambda moment, minutes, seconds: floor_to_grid(moment, 2 * H) + minutes * M + seconds * S,
    _instants,
    st.integers(min_value=-10, max_value=10),
    st.sampled_from([0, 0, 1, 30, 59]),
)
starts = st.builds(
    lambda moment, tz: moment.astimezone(tz),
    st.one_of(_instants, _aligned),
    st.sampled_from(OFFSETS),
)
_edges = [band.upper for band in BANDS]
lengths = st.one_of(
    st.timedeltas(min_value=timedelta(seconds=1), max_value=90 * D),
    # Exactly on a band edge, or a little either side of it (in steps, minutes or seconds).
    st.builds(
        lambda edge, delta: max(edge + delta, timedelta(seconds=1)),
        st.sampled_from([*_edges, 2 * MAX_WINDOW, 30 * D]),
        st.sampled_from([timedelta(0), -M, M, -2 * H, 2 * H, -H, H, 30 * S, -30 * S, -4 * M]),
    ),
)
resolutions = st.one_of(
    st.none(), st.sampled_from(STEPS), st.sampled_from([format_step(s) for s in STEPS])
)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(start=starts, length=lengths, resolution=resolutions)
def test_plan_invariants(
    start: datetime, length: timedelta, resolution: timedelta | str | None
) -> None:
    end = start + length
    chunks = plan_range(start, end, resolution)
    # Scout takes whole seconds: the window is planned as it is sent.
    start_utc = start.astimezone(UTC).replace(microsecond=0)
    end_utc = end.astimezone(UTC).replace(microsecond=0)

    step = chunks[0].step
    assert step == target_step(start, end, resolution)
    if resolution is None:
        assert step == expected_step(start_utc, end_utc)
    else:
        assert format_step(step) == (
            resolution if isinstance(resolution, str) else format_step(resolution)
        )
    band = band_for_step(step)

    # Owned ranges tile [floor(start), ceil(end)) in order, with no gap or overlap.
    first, last = floor_to_grid(start_utc, step), ceil_to_grid(end_utc, step)
    assert chunks[0].owned_start == first
    assert chunks[-1].owned_end == last
    for before, after in itertools.pairwise(chunks):
        assert before.owned_end == after.owned_start
        assert before.start <= after.start
        assert before.end < after.end

    # The fewest requests the band allows, sizes differing by at most one step, larger ones first.
    total = (last - first) // step
    minimum = -(-total // (band.upper // step))
    assert len(chunks) == minimum
    sizes = [steps_in(c) for c in chunks]
    assert sum(sizes) == total
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)

    for index, chunk in enumerate(chunks):
        is_last = index == len(chunks) - 1
        assert chunk.step == step
        assert chunk.owned_start < chunk.owned_end
        for moment in (chunk.start, chunk.end, chunk.owned_start, chunk.owned_end):
            assert moment.tzinfo is UTC
        assert on_grid(chunk.owned_start, step)
        assert on_grid(chunk.owned_end, step)
        assert on_grid(chunk.start, step)
        if is_last:
            assert chunk.end == end_utc
        else:
            assert on_grid(chunk.end, step)
            assert chunk.end == chunk.owned_end
        # The key invariant: Scout answers every request at exactly the planned step.
        assert chunk.end - chunk.start <= MAX_WINDOW
        assert band.contains(chunk.end - chunk.start)
        assert band.contains(sent_length(chunk))
        assert step_for_window(chunk.end - chunk.start) == step
        # Widening goes backwards only, and the request covers what the chunk owns up to end.
        assert chunk.end <= end_utc
        assert chunk.start <= chunk.owned_start
        assert chunk.end >= min(chunk.owned_end, end_utc)
        if chunk.start < chunk.owned_start:
            # Widened only as far as needed: one step less would fall out of the band.
            assert not band.contains(sent_length(attrs.evolve(chunk, start=chunk.start + step)))

    # A window of at most 14 days that still fits once aligned is one request, at Scout's own step.
    if resolution is None and length <= MAX_WINDOW and end_utc - first <= MAX_WINDOW:
        assert len(chunks) == 1
        (only,) = chunks
        assert only.step == step_for_window(only.end - only.start)
        assert only.end == end_utc
        # From the aligned start, unless a sub-second end would be sent on the band's lower edge.
        sent = end_utc.replace(microsecond=0) - first
        assert only.start == (first if band.contains(sent) else first - step)


@settings(max_examples=300, deadline=None)
@given(start=starts, length=lengths, resolution=resolutions, data=st.data())
def test_each_point_owned_by_exactly_one_chunk(
    start: datetime,
    length: timedelta,
    resolution: timedelta | str | None,
    data: st.DataObject,
) -> None:
    end = (start + length).replace(microsecond=0)  # planned as sent: whole seconds
    chunks = plan_range(start, start + length, resolution)
    step = chunks[0].step
    first = floor_to_grid(start, step)
    points = (ceil_to_grid(end, step) - first) // step  # grid points in [floor(start), end)

    index = data.draw(st.integers(min_value=0, max_value=points - 1), label="index")
    tz = data.draw(st.sampled_from(OFFSETS), label="tz")
    for i in {0, index, points - 1}:
        t = (first + i * step).astimezone(tz)
        assert first <= t < end
        assert sum(chunk.owns(t) for chunk in chunks) == 1
    # Off the grid too: ownership is a half-open partition of the whole span.
    offset = data.draw(
        st.timedeltas(min_value=timedelta(0), max_value=step - timedelta(microseconds=1))
    )
    t = first + index * step + offset
    assert sum(chunk.owns(t) for chunk in chunks) == 1
    # Nothing outside the span is owned.
    for outside in (first - timedelta(microseconds=1), ceil_to_grid(end, step)):
        assert not any(chunk.owns(outside) for chunk in chunks)


@settings(max_examples=100, deadline=None)
@given(start=starts, length=lengths, resolution=resolutions)
def test_timezone_does_not_change_the_plan(
    start: datetime, length: timedelta, resolution: timedelta | str | None
) -> None:
    end = start + length
    as_utc = plan_range(start.astimezone(UTC), end.astimezone(UTC), resolution)
    assert plan_range(start, end, resolution) == as_utc
    assert (
        plan_range(start.astimezone(OFFSETS[2]), end.astimezone(OFFSETS[3]), resolution) == as_utc
    )


# --- band edges, resolution=None, grid-aligned start ----------------------------------------


@pytest.mark.parametrize(
    ("length", "step", "sizes", "requests"),
    [
        pytest.param(60 * M, M, [60], [60 * M], id="60min-1m"),
        pytest.param(61 * M, 2 * M, [31], [61 * M], id="60min+1min-2m"),
        pytest.param(3 * H, 2 * M, [90], [3 * H], id="3h-2m"),
        pytest.param(3 * H + 2 * M, 5 * M, [37], [3 * H + 2 * M], id="3h+2min-5m"),
        pytest.param(12 * H, 5 * M, [144], [12 * H], id="12h-5m"),
        pytest.param(12 * H + 5 * M, 10 * M, [73], [12 * H + 5 * M], id="12h+5min-10m"),
        pytest.param(D, 10 * M, [144], [D], id="1d-10m"),
        pytest.param(D + 10 * M, 30 * M, [49], [D + 10 * M], id="1d+10min-30m"),
        pytest.param(3 * D, 30 * M, [144], [3 * D], id="3d-30m"),
        pytest.param(3 * D + 30 * M, H, [73], [3 * D + 30 * M], id="3d+30min-1h"),
        pytest.param(7 * D, H, [168], [7 * D], id="7d-1h"),
        pytest.param(7 * D + H, 2 * H, [85], [7 * D + H], id="7d+1h-2h"),
        pytest.param(14 * D, 2 * H, [168], [14 * D], id="14d-2h-one-request"),
        # 84 x 2 h = 7 d is the 1 h band: the second request widens back one step.
        pytest.param(14 * D + 2 * H, 2 * H, [85, 84], [85 * 2 * H, 85 * 2 * H], id="14d+2h"),
        # Off-grid end: the last request stops at end (167 h) and widens back to 169 h.
        pytest.param(14 * D + H, 2 * H, [85, 84], [85 * 2 * H, 169 * H], id="14d+1h"),
        # Off-grid end that needs no widening: 84 steps + 30 s is already past 7 d.
        pytest.param(
            14 * D + 2 * H + 30 * S,
            2 * H,
            [85, 85],
            [85 * 2 * H, 7 * D + 30 * S],
            id="14d+2h+30s",
        ),
        pytest.param(30 * D, 2 * H, [120, 120, 120], [10 * D] * 3, id="30d-2h"),
        pytest.param(84 * D, 2 * H, [168] * 6, [14 * D] * 6, id="84d-2h"),
    ],
)
def test_band_edges(
    length: timedelta, step: timedelta, sizes: list[int], requests: list[timedelta]
) -> None:
    chunks = plan_range(T0, T0 + length)
    assert [c.step for c in chunks] == [step] * len(sizes)
    assert [steps_in(c) for c in chunks] == sizes
    assert [c.end - c.start for c in chunks] == requests
    assert chunks[0].start == chunks[0].owned_start == T0
    assert chunks[-1].end == T0 + length
    assert all(band_for_step(step).contains(c.end - c.start) for c in chunks)


def test_14d_plus_2h_widens_the_second_request_backwards_only() -> None:
    first, second = plan_range(T0, T0 + 14 * D + 2 * H)
    assert (first.start, first.end) == (first.owned_start, first.owned_end) == (T0, T0 + 170 * H)
    assert (second.owned_start, second.owned_end) == (T0 + 170 * H, T0 + 338 * H)
    assert (second.start, second.end) == (T0 + 168 * H, T0 + 338 * H)


def test_30_days_at_one_minute() -> None:
    chunks = plan_range(T0, T0 + 30 * D, "1m")
    assert len(chunks) == 720
    assert all(c.step == M and c.end - c.start == H and c.start == c.owned_start for c in chunks)
    assert chunks[-1].owned_end == chunks[-1].end == T0 + 30 * D


def test_resolution_coarser_than_window_widens_backwards() -> None:
    # One second at 2 h: the request must still be longer than 7 days, all of it in the past.
    (chunk,) = plan_range(T0 + M, T0 + M + timedelta(seconds=1), timedelta(hours=2))
    assert (chunk.owned_start, chunk.owned_end) == (T0, T0 + 2 * H)
    assert chunk.end == T0 + M + timedelta(seconds=1)
    assert chunk.start == T0 - 7 * D
    assert step_for_window(chunk.end - chunk.start) == 2 * H


def test_sub_seconds_are_dropped_as_scout_would() -> None:
    # Scout takes whole seconds, so 60 min + 1 us from 1 us past a minute is 60 min as sent:
    # one request in the 1 m band, and no bucket that only the lost microsecond overlapped.
    start = T0 + timedelta(microseconds=1)
    (chunk,) = plan_range(start, start + H)
    assert chunk.step == M
    assert (chunk.owned_start, chunk.owned_end) == (T0, T0 + H)
    assert (chunk.start, chunk.end) == (T0, T0 + H)
    # An end a fraction past a grid point owns nothing past it: an exclusive server could not
    # return that bucket, and the series would silently lack it.
    (chunk,) = plan_range(T0, T0 + 30 * M + timedelta(milliseconds=500))
    assert (chunk.owned_end, chunk.end) == (T0 + 30 * M, T0 + 30 * M)


def test_a_window_inside_one_second_is_refused() -> None:
    start = T0 + timedelta(microseconds=300_000)
    with pytest.raises(ValueError, match="same second"):
        plan_range(start, start + timedelta(microseconds=200_000))


def test_windows_outside_the_representable_dates_are_value_errors() -> None:
    start = datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="outside the dates"):
        plan_range(start, start + 5 * M, "5m")


# --- off-grid starts pushed into the next band by alignment ---------------------------------


@pytest.mark.parametrize(
    ("start", "length", "step", "sizes", "requests"),
    [
        # 60 min is 1 m, but aligned down from :30 s the request is 60.5 min: the 2 m band.
        pytest.param(T0 + 30 * S, 60 * M, 2 * M, [31], [60 * M + 30 * S], id="60min-from-30s"),
        # 3 h from an odd minute: aligned to the 2 m grid it is 3 h 1 min, the 5 m band.
        pytest.param(T0 + M, 3 * H, 5 * M, [37], [3 * H + M], id="3h-from-odd-minute"),
        # 7 d from 00:30: 7 d 30 min aligned to the hour, so the 2 h band.
        pytest.param(T0 + 30 * M, 7 * D, 2 * H, [85], [7 * D + 30 * M], id="7d-from-half-hour"),
        # 2 h 59.5 min from 00:05:30: 3 h 1.5 min on the 2 m grid (5 m band), but only 3 h on the
        # 5 m grid (2 m band). The coarser step wins; its one request widens back one step.
        pytest.param(
            T0 + 5 * M + 30 * S, 3 * H - 30 * S, 5 * M, [36], [3 * H + 5 * M], id="2m-5m-cycle"
        ),
        # 14 d from 01:00: aligned to 2 h it is 14 d 1 h, too long for one request.
        pytest.param(T0 + H, 14 * D, 2 * H, [85, 84], [170 * H, 169 * H], id="14d-from-odd-hour"),
    ],
)
def test_off_grid_start_moves_to_next_band(
    start: datetime,
    length: timedelta,
    step: timedelta,
    sizes: list[int],
    requests: list[timedelta],
) -> None:
    chunks = plan_range(start, start + length)
    # Only interesting if alignment changed the answer: a coarser step, or no longer one request.
    assert step_for_window(length) < step or len(chunks) > 1
    assert [c.step for c in chunks] == [step] * len(sizes)
    assert [steps_in(c) for c in chunks] == sizes
    assert [c.end - c.start for c in chunks] == requests
    assert chunks[0].owned_start == floor_to_grid(start, step)


# --- time zones -----------------------------------------------------------------------------


def test_non_utc_timezone_gives_the_same_plan_as_utc() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    start = datetime(2026, 3, 2, 5, 30, tzinfo=india)  # == T0
    plan = plan_range(start, start + 14 * D + 2 * H)
    assert plan == plan_range(T0, T0 + 14 * D + 2 * H)
    assert all(c.start.tzinfo is UTC and c.owned_end.tzinfo is UTC for c in plan)
    assert target_step(start, start + H, None) == M


def test_dst_change_is_fixed_duration_arithmetic() -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")  # the tzdata test dependency guarantees it
    # 00:00 CET to 04:00 CEST on the spring-forward night is 3 real hours: the 2 m band.
    start = datetime(2026, 3, 29, 0, 0, tzinfo=berlin)
    end = datetime(2026, 3, 29, 4, 0, tzinfo=berlin)
    (chunk,) = plan_range(start, end)
    assert chunk.step == 2 * M
    assert (chunk.start, chunk.end) == (
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 2, tzinfo=UTC),
    )
    assert steps_in(chunk) == 90


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(T0, T0, id="start-equals-end"),
        pytest.param(T0 + M, T0, id="start-after-end"),
        pytest.param(T0 + timedelta(microseconds=1), T0, id="start-after-end-by-1us"),
    ],
)
def test_empty_or_reversed_range_is_rejected(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError, match=r"must be before end.*start < end"):
        plan_range(start, end)
    with pytest.raises(ValueError, match="must be before end"):
        target_step(start, end, None)


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        pytest.param(datetime(2026, 3, 2), T0 + H, "start", id="naive-start"),
        pytest.param(T0, datetime(2026, 3, 3), "end", id="naive-end"),
        pytest.param(datetime(2026, 3, 2), datetime(2026, 3, 3), "start", id="both-naive"),
    ],
)
def test_naive_datetimes_are_rejected(start: datetime, end: datetime, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}=\S+ is a naive datetime") as info:
        plan_range(start, end)
    assert f"pass an aware datetime, e.g. {name}=datetime(..., tzinfo=timezone.utc)" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("2026-03-02T00:00:00Z", T0 + H, id="string-start"),
        pytest.param(T0, 1_772_500_000, id="int-end"),
        pytest.param(date(2026, 3, 2), T0 + H, id="date-start"),
        pytest.param(None, T0, id="none-start"),
    ],
)
def test_non_datetimes_are_a_type_error(start: object, end: object) -> None:
    with pytest.raises(TypeError, match="must be a datetime"):
        plan_range(start, end)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "resolution",
    [
        pytest.param("3m", id="3m"),
        pytest.param(timedelta(minutes=7), id="7min"),
        pytest.param("banana", id="banana"),
        pytest.param("1d", id="1d"),
        pytest.param(timedelta(0), id="zero"),
        pytest.param(timedelta(hours=4), id="4h"),
    ],
)
def test_undocumented_resolution_names_the_valid_steps(resolution: timedelta | str) -> None:
    with pytest.raises(ValueError, match=VALID_STEPS_TEXT):
        plan_range(T0, T0 + D, resolution)
    with pytest.raises(ValueError, match=VALID_STEPS_TEXT):
        target_step(T0, T0 + D, resolution)


def test_resolution_strings_and_timedeltas_agree() -> None:
    for step in STEPS:
        assert plan_range(T0, T0 + 20 * D, format_step(step)) == plan_range(T0, T0 + 20 * D, step)


def test_chunk_is_frozen_and_slotted() -> None:
    (chunk,) = plan_range(T0, T0 + H)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        chunk.step = 2 * M  # type: ignore[misc]
    assert not hasattr(chunk, "__dict__")
    assert PLANNER_VERSION == 1
