"""metrics.get and metrics.stream: any window, one step, in order, bounded, cancellable."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trio

import scout_async
from scout_async import Point, ScoutClient
from scout_async._series.steps import ceil_to_grid
from scout_async._time import parse_time
from scout_async.testing import Fault, ScoutSimulator
from tests.conftest import BASE_URL, SECRET

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
M = timedelta(minutes=1)
# The simulator's clock and memory: every window below has ended, and none is forgotten.
NOW = T0 + timedelta(days=40)
RETENTION = timedelta(days=60)


def simulator(**kwargs: Any) -> ScoutSimulator:
    """The account these tests read: apps 1, 2, 3 and 101; ``kwargs`` go to the simulator."""
    apps = [(app_id, f"App {app_id}") for app_id in (1, 2, 3, 101)]
    return ScoutSimulator(api_key=SECRET, apps=apps, now=NOW, retention=RETENTION, **kwargs)


def expected_points(
    sim: ScoutSimulator, app_id: int, metric: str, start: datetime, end: datetime, step: timedelta
) -> list[Point]:
    """What ``sim`` serves for the buckets of ``step`` overlapping ``[start, end)``."""
    points = sim.points(app_id, metric, start=start, end=end, step=step)
    return [Point(t, v) for t, v in points]


def make_client(sim: ScoutSimulator, **kwargs: Any) -> ScoutClient:
    return ScoutClient(api_key=SECRET, base_url=BASE_URL, http_client=sim.http_client(), **kwargs)


def windows(sim: ScoutSimulator) -> list[tuple[datetime, datetime]]:
    """The ``from`` and ``to`` of every request ``sim`` answered."""
    return [(parse_time(r.query["from"]), parse_time(r.query["to"])) for r in sim.requests]


async def served_summary(
    sim: ScoutSimulator, app_id: int, metric: str, start: datetime, end: datetime
) -> Any:
    """The summary ``sim`` sends for one request of ``[start, end)``."""
    params = {
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    async with sim.http_client(headers={"X-SCOUT-API": SECRET}) as http:
        response = await http.get(f"/apps/{app_id}/metrics/{metric}", params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]["summaries"][metric]


WINDOWS = [
    (T0, T0 + timedelta(minutes=30), None, timedelta(minutes=1)),
    (T0 + timedelta(seconds=17), T0 + timedelta(hours=5, seconds=3), None, timedelta(minutes=5)),
    (T0, T0 + timedelta(days=14), None, timedelta(hours=2)),
    (T0, T0 + timedelta(days=14, hours=2), None, timedelta(hours=2)),
    (T0 + timedelta(minutes=7), T0 + timedelta(days=30, minutes=3), None, timedelta(hours=2)),
    (T0, T0 + timedelta(days=2), "1m", timedelta(minutes=1)),
    (T0 + timedelta(minutes=3), T0 + timedelta(days=9, hours=5), "30m", timedelta(minutes=30)),
    (T0, T0 + timedelta(days=20), timedelta(hours=1), timedelta(hours=1)),
]


@pytest.mark.parametrize("inclusive_end", [True, False], ids=["inclusive", "exclusive"])
@pytest.mark.parametrize(("start", "end", "resolution", "step"), WINDOWS)
async def test_get_is_complete_uniform_and_ordered(
    start: datetime,
    end: datetime,
    resolution: str | timedelta | None,
    step: timedelta,
    inclusive_end: bool,
) -> None:
    sim = simulator(inclusive_end=inclusive_end)
    async with make_client(sim) as client:
        series = await client.metrics.get(
            101, "throughput", start=start, end=end, resolution=resolution
        )
    assert series.step == step
    assert series.points == expected_points(sim, 101, "throughput", start, end, step)
    assert len(sim.requests) == len(scout_async.plan_range(start, end, resolution))
    # Every request was answered at the planned step (the simulator picks it from the length).
    for request_start, request_end in windows(sim):
        assert request_end - request_start <= timedelta(days=14)


async def test_thirty_days_at_one_minute_is_720_requests() -> None:
    # 5 ms a request; the first 16 take half a second, so that all of them are in flight at
    # once even on a busy machine (where 5 ms can pass before the 16th has been sent).
    sim = simulator(latency=0.005)
    sim.add_fault(Fault(latency=0.495, times=16))
    start = T0
    end = T0 + timedelta(days=30)
    async with make_client(sim, max_concurrency=16) as client:
        count = 0
        last = None
        async for point in client.metrics.stream(
            101, "response_time", start=start, end=end, resolution="1m"
        ):
            assert last is None or point.time - last == timedelta(minutes=1)
            last = point.time
            count += 1
    assert count == 30 * 24 * 60
    assert len(sim.requests) == 720
    assert sim.peak_in_flight == 16


async def test_summary_only_for_single_request_windows() -> None:
    sim = simulator()
    async with make_client(sim) as client:
        one = await client.metrics.get(1, "apdex", start=T0, end=T0 + timedelta(hours=1))
        many = await client.metrics.get(1, "apdex", start=T0, end=T0 + timedelta(days=20))
    served = await served_summary(sim, 1, "apdex", T0, T0 + timedelta(hours=1))
    assert served is not None
    assert one.summary == served
    assert many.summary is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"start": T0.replace(tzinfo=None)}, ValueError, "naive"),
        ({"end": T0}, ValueError, "start"),
        ({"end": T0 - timedelta(hours=1)}, ValueError, "start"),
        ({"metric": "latency"}, ValueError, "response_time"),
        ({"resolution": "3m"}, ValueError, "1m"),
        ({"resolution": timedelta(minutes=7)}, ValueError, "2h"),
        ({"start": "2026-03-01"}, TypeError, "datetime"),
        ({"app_id": "101"}, TypeError, "app_id"),
    ],
)
async def test_bad_input_fails_before_any_request(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    sim = simulator()
    args: dict[str, object] = {
        "app_id": 101,
        "metric": "response_time",
        "start": T0,
        "end": T0 + timedelta(hours=1),
    } | kwargs
    async with make_client(sim) as client:
        with pytest.raises(error, match=match):
            await client.metrics.get(**args)  # type: ignore[arg-type]
        with pytest.raises(error, match=match):
            client.metrics.stream(**args)  # type: ignore[arg-type]
    assert sim.requests == []


async def test_other_time_zones_are_the_same_instant() -> None:
    tokyo = timezone(timedelta(hours=9))
    sim = simulator()
    async with make_client(sim) as client:
        a = await client.metrics.get(1, "errors", start=T0, end=T0 + timedelta(days=3))
        b = await client.metrics.get(
            1, "errors", start=T0.astimezone(tokyo), end=(T0 + timedelta(days=3)).astimezone(tokyo)
        )
    assert a == b
    assert all(p.time.tzinfo == UTC for p in b.points)


async def test_a_response_at_another_step_is_a_typed_error() -> None:
    sim = simulator()
    sim.add_fault(Fault(step=timedelta(minutes=1), times=None))
    async with make_client(sim) as client:
        with pytest.raises(scout_async.StepMismatchError) as info:
            await client.metrics.get(1, "errors", start=T0, end=T0 + timedelta(days=20))
    assert info.value.expected == timedelta(hours=2)
    assert info.value.actual == timedelta(minutes=1)
    assert info.value.resume_from == T0


async def test_coarser_answer_is_detected() -> None:
    sim = simulator()
    sim.add_fault(Fault(step=timedelta(hours=2), times=None))
    async with make_client(sim) as client:
        with pytest.raises(scout_async.StepMismatchError, match="2h apart"):
            await client.metrics.get(1, "errors", start=T0, end=T0 + timedelta(days=5))


async def test_failure_keeps_the_complete_prefix_and_names_the_resume_point() -> None:
    # 5 days at 1 h -> chunks of 7 days? no: 1 h band allows up to 168 steps, so use 1 m.
    start, end = T0, T0 + timedelta(hours=6)
    sim = simulator()
    sim.add_fault(Fault(status=404, skip=3))  # the 4th request: chunk 3 at concurrency 1
    received: list[Point] = []

    async def consume(client: ScoutClient) -> None:
        async for point in client.metrics.stream(
            1, "throughput", start=start, end=end, resolution="1m"
        ):
            received.append(point)

    async with make_client(sim, max_concurrency=1) as client:
        with pytest.raises(scout_async.NotFoundError) as info:
            await consume(client)
    assert received == expected_points(sim, 1, "throughput", start, start + timedelta(hours=3), M)
    assert info.value.resume_from == start + timedelta(hours=3)
    assert "resume there" in str(info.value)
    # Resuming from the error's resume point completes the series with nothing twice.
    async with make_client(simulator()) as client:
        rest = await client.metrics.get(
            1, "throughput", start=info.value.resume_from, end=end, resolution="1m"
        )
    assert received + list(rest.points) == expected_points(sim, 1, "throughput", start, end, M)


async def test_failure_cancels_what_is_in_flight() -> None:
    # Four chunks at concurrency 4: chunk 1 fails at once; chunk 0 and chunks 2-3 take 1 s.
    # Chunks 2-3 can never be delivered, so they are cancelled at once; chunk 0 still completes
    # the prefix the error's resume point speaks of.
    start, end = T0, T0 + timedelta(hours=4)
    plan = scout_async.plan_range(start, end, "1m")
    failing = plan[1].start
    sim = simulator(latency=0.2)  # chunk 1 fails after 0.2 s...
    sim.add_fault(Fault(from_=failing, status=404))
    sim.add_fault(Fault(from_=start, latency=0.8))  # ...chunk 0 takes 1 s...
    sim.add_fault(Fault(latency=1.8, times=None))  # ...and the others 2 s
    received: list[Point] = []
    cancelled_by_first_point: list[int] = []

    async def consume(client: ScoutClient) -> None:
        async for point in client.metrics.stream(
            1, "errors", start=start, end=end, resolution="1m"
        ):
            if not received:
                cancelled_by_first_point.append(sim.cancelled)
            received.append(point)

    async with make_client(sim, max_concurrency=4) as client:
        with anyio.fail_after(5):
            await anyio.lowlevel.checkpoint()
            with pytest.raises(scout_async.NotFoundError) as info:
                await consume(client)
    assert len(sim.requests) == 4
    # Chunks 2 and 3 were cancelled when chunk 1 failed, before chunk 0 was even delivered.
    assert cancelled_by_first_point == [2]
    assert sim.cancelled == 2
    assert sim.in_flight == 0
    assert received == expected_points(sim, 1, "errors", start, start + timedelta(hours=1), M)
    assert info.value.resume_from == start + timedelta(hours=1)


async def test_get_failure_cancels_in_flight_requests_at_once() -> None:
    first = T0  # the first chunk fails after 0.2 s, once the other three are in flight
    sim = simulator(latency=0.2)
    sim.add_fault(Fault(from_=first, status=500))
    sim.add_fault(Fault(latency=4.8, times=None))  # the others take 5 s
    async with make_client(sim, max_concurrency=4, max_retries=0) as client:
        started = anyio.current_time()
        with pytest.raises(scout_async.ServerError):
            await client.metrics.get(
                1, "errors", start=T0, end=T0 + timedelta(days=1), resolution="1m"
            )
        assert anyio.current_time() - started < 2.0  # not the 5 s the others would take
    assert sim.cancelled == 3
    assert sim.in_flight == 0


async def test_slow_consumer_bounds_the_chunks_held() -> None:
    sim = simulator()
    async with make_client(sim, max_concurrency=4) as client:
        stream = client.metrics.stream(
            1, "errors", start=T0, end=T0 + timedelta(days=2), resolution="1m"
        )
        async with aclosing(stream) as points:
            first = await points.__anext__()
            await anyio.sleep(0.3)  # the consumer stalls; fetching must stall too
            held = sim.completed
            await anyio.sleep(0.2)
            assert sim.completed == held
        assert first.time == T0
    # One chunk in the consumer's hands, at most max_concurrency fetched or in flight ahead of it.
    assert held <= 4 + 1
    assert len(sim.requests) < 48


async def _wait_until(condition: Callable[[], bool], seconds: float = 1.0) -> None:
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - polling counters the simulator keeps
            await anyio.sleep(0.005)


@pytest.mark.parametrize("close", ["aclosing", "gc"])
async def test_early_break_stops_the_fetching(close: str, caplog: pytest.LogCaptureFixture) -> None:
    sim = simulator()
    sim.add_fault(Fault(latency=2.0, skip=1, times=None))  # all but the first take 2 s
    async with make_client(sim, max_concurrency=3) as client:
        stream = client.metrics.stream(
            1, "errors", start=T0, end=T0 + timedelta(days=3), resolution="1m"
        )
        if close == "aclosing":
            async with aclosing(stream) as points:
                async for _ in points:
                    break
        else:
            async for _ in stream:
                break
            del stream
            gc.collect()
        # The requests still in flight (2 s each) are cancelled now, not when they would end.
        await _wait_until(lambda: sim.in_flight == 0 and not client._core.running_jobs)
        assert sim.cancelled >= 1
        sent = len(sim.requests)
        await anyio.sleep(0.1)
        assert len(sim.requests) == sent
        # The client is still usable afterwards.
        sim.clear_faults()
        series = await client.metrics.get(1, "errors", start=T0, end=T0 + timedelta(hours=1))
        assert len(series.points) == 60
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_cancelling_the_consumer_cleans_up(caplog: pytest.LogCaptureFixture) -> None:
    sim = simulator(latency=0.01)
    sim.add_fault(Fault(latency=1.99, skip=5, times=None))  # after five, each takes 2 s
    got: list[Point] = []
    async with make_client(sim, max_concurrency=3) as client:
        with anyio.move_on_after(1.0):  # the first five answers come well inside; then it hangs
            async for point in client.metrics.stream(
                1, "errors", start=T0, end=T0 + timedelta(days=3), resolution="1m"
            ):
                got.append(point)
        await _wait_until(lambda: sim.in_flight == 0 and not client._core.running_jobs)
        assert sim.cancelled >= 1
        assert got == expected_points(sim, 1, "errors", T0, got[-1].time + M, M)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_closing_the_client_mid_stream_is_an_error_not_a_short_series() -> None:
    sim = simulator(latency=0.01)
    client = make_client(sim, max_concurrency=2)
    stream = client.metrics.stream(
        1, "errors", start=T0, end=T0 + timedelta(days=1), resolution="1m"
    )
    async with aclosing(stream) as points:
        await points.__anext__()
        await client.aclose()
        with pytest.raises(scout_async.ScoutError, match="closed") as info:
            async for _ in points:
                pass
    assert info.value.resume_from is not None
    assert info.value.resume_from > T0


async def test_many_series_share_the_client_limit() -> None:
    sim = simulator(latency=0.01)
    results: dict[tuple[int, str], int] = {}
    async with make_client(sim, max_concurrency=5) as client:

        async def one(app_id: int, metric: str) -> None:
            series = await client.metrics.get(
                app_id, metric, start=T0, end=T0 + timedelta(hours=12), resolution="1m"
            )
            results[(app_id, metric)] = len(series.points)

        async with anyio.create_task_group() as tg:
            for app_id in (1, 2, 3):
                for metric in ("errors", "throughput", "apdex"):
                    tg.start_soon(one, app_id, metric)
    assert set(results.values()) == {12 * 60}
    assert len(results) == 9
    assert sim.peak_in_flight == 5


def test_streaming_works_on_trio() -> None:
    sim = simulator()

    async def main() -> list[Point]:
        async with make_client(sim, max_concurrency=3) as client:
            return [
                p
                async for p in client.metrics.stream(
                    1, "errors", start=T0, end=T0 + timedelta(hours=5), resolution="1m"
                )
            ]

    points = trio.run(main)
    assert points == expected_points(sim, 1, "errors", T0, T0 + timedelta(hours=5), M)


@pytest.mark.parametrize("inclusive_end", [True, False], ids=["inclusive", "exclusive"])
async def test_an_end_with_microseconds_is_taken_as_sent(inclusive_end: bool) -> None:
    # Scout takes whole seconds: 30 min and half a second is the 30 buckets of 30 min, from
    # either kind of server (the half second must not claim a bucket no request returns).
    sim = simulator(inclusive_end=inclusive_end)
    end = T0 + timedelta(minutes=30, milliseconds=500)
    async with make_client(sim) as client:
        series = await client.metrics.get(1, "apdex", start=T0, end=end)
    assert series.points == expected_points(sim, 1, "apdex", T0, T0 + timedelta(minutes=30), M)


def test_expected_points_cover_the_ceil_of_end() -> None:
    # Guards the helper the tests above rely on: buckets overlapping [start, end), every one of
    # them (this account has no gaps), each with a value.
    end = T0 + timedelta(minutes=2, seconds=1)
    got = expected_points(simulator(), 1, "apdex", T0 + timedelta(seconds=5), end, M)
    assert got[-1].time == ceil_to_grid(end, M) - M
    assert [p.time for p in got] == [T0, T0 + M, T0 + 2 * M]
    assert all(p.value is not None for p in got)
