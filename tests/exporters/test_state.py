"""The exporter's memory: the newest value per series, staleness, dropping old values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from scout_async import Point, PollUpdate, RateLimitError, ScoutError, ServerError
from scout_async.exporters._state import ExporterState, SeriesView

M = timedelta(minutes=1)
T0 = datetime(2026, 7, 5, 17, 0, tzinfo=timezone.utc)


def state() -> ExporterState:
    return ExporterState(step=M, stale_after=3 * M, max_age=6 * M)


def ok(app: int, metric: str, *points: tuple[int, float | None]) -> PollUpdate:
    pts = tuple(Point(T0 + minute * M, value) for minute, value in points)
    return PollUpdate(app, metric, T0, T0 + 10 * M, pts)


def failed(app: int, metric: str, error: ScoutError) -> PollUpdate:
    return PollUpdate(app, metric, T0, T0 + 10 * M, error=error)


def only(s: ExporterState, now: datetime) -> SeriesView:
    (view,) = s.snapshot(now).series
    return view


def test_the_newest_bucket_with_a_value_wins() -> None:
    s = state()
    s.apply(ok(101, "apdex", (1, 0.9), (2, 0.8), (3, None)), T0 + 5 * M)
    view = only(s, T0 + 5 * M)
    assert (view.value, view.bucket, view.stale) == (0.8, T0 + 2 * M, False)
    assert view.last_success == T0 + 5 * M
    # A later update with no point (Scout had none) keeps the value; an older bucket never wins.
    s.apply(ok(101, "apdex"), T0 + 6 * M)
    s.apply(ok(101, "apdex", (1, 0.1)), T0 + 6 * M)
    assert only(s, T0 + 6 * M).value == 0.8
    s.apply(ok(101, "apdex", (4, 0.7)), T0 + 7 * M)
    assert only(s, T0 + 7 * M).value == 0.7


def test_a_failed_poll_marks_the_series_stale_and_keeps_its_value() -> None:
    s = state()
    s.apply(ok(101, "apdex", (1, 0.9)), T0 + 3 * M)
    s.apply(failed(101, "apdex", ServerError("boom", status_code=503)), T0 + 4 * M)
    view = only(s, T0 + 4 * M)
    assert (view.value, view.stale, view.last_success) == (0.9, True, T0 + 3 * M)
    # The next success clears it.
    s.apply(ok(101, "apdex", (2, 0.95)), T0 + 5 * M)
    assert only(s, T0 + 5 * M).stale is False


def test_no_success_for_stale_after_marks_it_stale() -> None:
    s = state()
    s.apply(ok(101, "apdex", (4, 0.9)), T0 + 6 * M)
    assert only(s, T0 + 9 * M).stale is False  # exactly stale_after: not yet
    assert only(s, T0 + 9 * M + timedelta(seconds=1)).stale is True


def test_a_value_older_than_max_age_is_dropped_but_the_series_stays() -> None:
    s = state()
    s.apply(ok(101, "apdex", (4, 0.9)), T0 + 6 * M)  # the bucket ends at T0 + 5m
    assert only(s, T0 + 11 * M).value == 0.9  # ended 6 minutes ago: max_age, kept
    view = only(s, T0 + 11 * M + timedelta(seconds=1))
    assert (view.value, view.bucket, view.stale) == (None, None, True)
    assert view.last_success == T0 + 6 * M


def test_errors_are_counted_per_app_and_type_and_a_listing_failure_makes_no_series() -> None:
    s = state()
    s.apply(failed(102, "*", ServerError("boom", status_code=502)), T0)
    s.apply(failed(101, "apdex", RateLimitError("slow down", status_code=429)), T0)
    s.apply(failed(101, "errors", RateLimitError("slow down", status_code=429)), T0)
    s.apply(ok(101, "throughput", (1, 60.0)), T0)
    s.set_names({101: "shop"})
    snap = s.snapshot(T0)
    assert [(a.app_id, a.app_name, a.polls, a.errors) for a in snap.apps] == [
        (101, "shop", 3, (("RateLimitError", 2),)),
        (102, "", 1, (("ServerError", 1),)),
    ]
    assert [(v.app_id, v.metric, v.stale) for v in snap.series] == [
        (101, "apdex", True),
        (101, "errors", True),
        (101, "throughput", False),
    ]
    assert snap.has_data
    assert s.unnamed()  # 102
    s.set_names({102: "api"})
    assert not s.unnamed()


def test_nothing_yet() -> None:
    s = state()
    snap = s.snapshot(T0)
    assert (snap.series, snap.apps, snap.has_data) == ((), (), False)
    s.count_restart()
    s.count_app_list_error()
    assert (s.snapshot(T0).restarts, s.snapshot(T0).app_list_errors) == (1, 1)
