"""poll: each complete bucket exactly once across polls, failing and slow series isolated."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trio

import scout_async
from scout_async import (
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    Point,
    PollUpdate,
    ScoutError,
    ServerError,
)
from scout_async._series.steps import floor_to_grid
from scout_async.testing import Fault
from tests.bulk.backfill_worker import T0, client_of, data_requests, expected, simulator, window
from tests.conftest import VirtualClock

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

M = timedelta(minutes=1)
INTERVAL = timedelta(minutes=5)
LATENESS = timedelta(minutes=2)
START = T0 + timedelta(hours=10, seconds=17)
SETTLE = 300
# What three retries wait in all, on the client's clock: backoff from 0.5 s, doubling, with jitter
# between half and all of each wait.
BACKOFF = (timedelta(seconds=1.75), timedelta(seconds=3.5))


class WallClock:
    """A virtual clock for a client (``scout_async.Clock``) that starts at ``now``.

    Every sleep of the client goes through it: the poll's ticks and the backoff between retries.
    A sleep lets the other tasks run until they settle (no real I/O happens, so a few hundred
    scheduler rounds are plenty, and always the same); then the sleeper that wakes first moves
    time on to its wake-up at once, and the others wait for theirs.
    """

    def __init__(self, now: datetime) -> None:
        self.start = now
        self.elapsed = timedelta(0)
        self.sleeps: list[float] = []
        self._wakes: list[timedelta] = []

    def now(self) -> datetime:
        return self.start + self.elapsed

    def monotonic(self) -> float:
        return self.elapsed.total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = self.elapsed + timedelta(seconds=max(0.0, seconds))
        self._wakes.append(wake)
        try:
            while True:
                for _ in range(SETTLE):
                    await anyio.lowlevel.checkpoint()
                if self.elapsed >= wake:
                    return
                if wake <= min(self._wakes):
                    self.elapsed = wake
                    return
        finally:
            self._wakes.remove(wake)


class _NowAndSleepOnly:
    """What ``poll(clock=...)`` used to take: no ``monotonic()``, so no clock for a client."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


Seen = list[tuple[datetime, PollUpdate]]


async def collect(
    updates: AsyncGenerator[PollUpdate, None],
    wall: WallClock,
    until: Any,
) -> Seen:
    seen: Seen = []
    async with aclosing(updates) as stream:
        async for update in stream:
            seen.append((wall.now(), update))
            if until(seen):
                break
    return seen


def check_series(seen: Seen, app_id: int, metric: str, origin: datetime) -> list[Point]:
    """The series' updates are contiguous from ``origin``, each complete when it came, and
    together hold every bucket once; returns its points."""
    mine = [(at, u) for at, u in seen if (u.app_id, u.metric) == (app_id, metric)]
    reached = origin
    points: list[Point] = []
    for at, update in mine:
        if update.error is not None:
            assert update.start == reached  # an error names what is still to come
            assert update.points == ()
            continue
        assert update.start == reached
        assert update.end <= floor_to_grid(at - LATENESS, M)  # only complete buckets
        assert all(update.start <= p.time and p.time + M <= update.end for p in update.points)
        points.extend(update.points)
        reached = update.end
    assert points == expected(app_id, metric, origin, reached, M)
    assert reached > origin
    return points


def origin_of(first: datetime) -> datetime:
    return floor_to_grid(first - LATENESS - INTERVAL, M)


async def test_each_complete_bucket_is_yielded_once_across_polls() -> None:
    sim = simulator()
    wall = WallClock(START)
    async with client_of(sim, max_concurrency=3, clock=wall) as client:
        updates = client.poll(
            apps=[101, 102],
            metrics=["apdex", "errors"],
            interval=INTERVAL,
            lateness=LATENESS,
        )
        seen = await collect(updates, wall, lambda s: s[-1][0] >= START + timedelta(hours=4))
    assert all(u.error is None for _, u in seen)
    for app_id in (101, 102):
        for metric in ("apdex", "errors"):
            points = check_series(seen, app_id, metric, origin_of(START))
            assert len(points) > 4 * 60 - 10
    assert set(wall.sleeps[1:]) == {300.0}  # on the interval, after the first (off-grid) tick
    # One request per series and tick: nothing fetched twice (the last tick's other three
    # series were fetched, but the consumer stopped before taking them).
    assert len(seen) <= len(data_requests(sim)) <= len(seen) + 3


async def test_the_poll_takes_its_time_only_from_the_clients_clock() -> None:
    # The client's clock stands months before the real now: every window ends where that
    # clock's now, less the lateness, allows; the ticks are that clock's sleeps.
    sim = simulator()
    wall = WallClock(START)
    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps=[101], metrics=["apdex"], interval=INTERVAL, lateness=LATENESS)
        with anyio.fail_after(10):  # no tick waits in real time
            seen = await collect(updates, wall, lambda s: len(s) == 4)
    horizons = [floor_to_grid(START + k * INTERVAL - LATENESS, M) for k in range(4)]
    starts = [origin_of(START), *horizons[:-1]]
    assert [(u.start, u.end) for _, u in seen] == list(zip(starts, horizons, strict=True))
    assert [at for at, _ in seen] == [START + k * INTERVAL for k in range(4)]
    for _, update in seen:
        assert list(update.points) == expected(101, "apdex", update.start, update.end, M)
    assert wall.sleeps[:3] == [INTERVAL.total_seconds()] * 3
    assert max(window(r)[1] for r in data_requests(sim)) <= horizons[-1]


async def test_a_poll_on_a_virtual_clock_in_the_past_emits_only_what_it_allows() -> None:
    clock = VirtualClock(wall=START)
    sim = simulator()
    async with client_of(sim, clock=clock) as client:
        updates = client.poll(apps=[101], metrics=["errors"], interval=INTERVAL, lateness=LATENESS)
        seen: list[tuple[datetime, PollUpdate]] = []
        with anyio.fail_after(10):  # no tick waits in real time
            async with aclosing(updates) as stream:
                async for update in stream:
                    seen.append((clock.now(), update))
                    if len(seen) == 3:
                        break
    first = seen[0][1]
    assert (first.start, first.end) == (origin_of(START), floor_to_grid(START - LATENESS, M))
    assert list(first.points) == expected(101, "errors", first.start, first.end, M)
    for at, update in seen:
        assert update.error is None
        assert update.end <= floor_to_grid(at - LATENESS, M)  # complete on the virtual clock
        assert (update.end - first.end) % INTERVAL == timedelta(0)  # a tick's horizon
    check_series(seen, 101, "errors", origin_of(START))
    assert clock.sleeps[0] == INTERVAL.total_seconds()


async def test_since_catches_up_first() -> None:
    sim = simulator()
    wall = WallClock(START)
    since = START - timedelta(days=2, minutes=3)
    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps=[101], metrics=["throughput"], since=since, lateness=LATENESS)
        seen = await collect(updates, wall, lambda s: len(s) == 3)
    first = seen[0][1]
    assert first.start == floor_to_grid(since, M)
    assert first.end == floor_to_grid(START - LATENESS, M)
    check_series(seen, 101, "throughput", floor_to_grid(since, M))


async def test_a_failing_app_surfaces_errors_and_the_others_continue() -> None:
    sim = simulator()
    # Four attempts per poll (three retries): the first two polls of app 102 fail.
    sim.add_fault(Fault(path="/apps/102/metrics/*", status=503, times=8))
    wall = WallClock(START)
    async with client_of(sim, max_concurrency=2, clock=wall) as client:
        updates = client.poll(apps=[101, 102], metrics=["throughput"], lateness=LATENESS)
        seen = await collect(updates, wall, lambda s: len(s) >= 12)
    errors = [(at, u) for at, u in seen if u.error is not None]
    assert [u.app_id for _, u in errors] == [102, 102]
    assert all(isinstance(u.error, ServerError) for _, u in errors)
    # Retried at the next tick: the second failure is the next tick's window, and each came
    # its three retries' backoff after its tick (the retries wait on the client's clock too).
    assert errors[1][1].end - errors[0][1].end == INTERVAL
    for tick, (at, _) in enumerate(errors):
        assert BACKOFF[0] <= at - (START + tick * INTERVAL) <= BACKOFF[1]
    assert len([s for s in wall.sleeps if s < INTERVAL.total_seconds()]) == 2 * 3
    ticks_of_101 = [at for at, u in seen if u.app_id == 101]
    assert len(ticks_of_101) == len(set(ticks_of_101)) >= 5  # not held up
    check_series(seen, 101, "throughput", origin_of(START))
    # App 102 caught up from its own watermark: no gap, nothing twice.
    check_series(seen, 102, "throughput", origin_of(START))


async def test_a_hanging_app_times_out_without_stalling_the_others() -> None:
    sim = simulator()
    # Answered only after an hour: the request hangs until the poll's timeout gives up on it.
    hang = Fault(path="/apps/102/metrics/*", latency=3600)
    sim.add_fault(hang)
    wall = WallClock(START)

    def recovered(seen: Seen) -> bool:
        return any(u.app_id == 102 and u.error is None for _, u in seen)

    # The timeout is real time: long enough that app 101's answers, over localhost on a slow
    # machine, never reach it; only the hung request does.
    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps=[101, 102], metrics=["errors"], lateness=LATENESS, timeout=2.0)
        with anyio.fail_after(15):
            seen = await collect(updates, wall, recovered)
    assert [r.cancelled for r in sim.requests if r.fault is hang] == [True]  # hit once
    errors = [u for _, u in seen if u.error is not None]
    assert len(errors) == 1
    assert isinstance(errors[0].error, APITimeoutError)
    assert "longer than 2s;" in str(errors[0].error)
    before_timeout = [u for _, u in seen[: seen.index(next(s for s in seen if s[1].error))]]
    assert len([u for u in before_timeout if u.app_id == 101]) >= 2  # 101 went on meanwhile
    check_series(seen, 101, "errors", origin_of(START))
    check_series(seen, 102, "errors", origin_of(START))


async def test_a_hanging_app_holds_only_its_share_of_the_clients_slots() -> None:
    # Two slots, two apps of two series each: app 101 hangs on every request. Were each series
    # free to take every slot, 101's two series would hold both and 102 would only ever time out.
    sim = simulator()
    hang = Fault(path="/apps/101/metrics/*", latency=3600, times=None)
    sim.add_fault(hang)
    wall = WallClock(START)
    async with client_of(sim, max_concurrency=2, clock=wall) as client:
        updates = client.poll(
            apps=[101, 102],
            metrics=["apdex", "errors"],
            lateness=LATENESS,
            timeout=1.0,
        )

        def five_ticks(seen: Seen) -> bool:
            last = seen[-1][0]
            return last >= START + 4 * INTERVAL and sum(at == last for at, _ in seen) == 2

        with anyio.fail_after(10):
            seen = await collect(updates, wall, five_ticks)
    # 101 holds its one slot; its other series waits for it. Closing the client ended the wait.
    assert [r.cancelled for r in sim.requests if r.fault is hang] == [True]
    assert sim.in_flight == 0
    assert [u for _, u in seen if u.app_id == 101] == []  # still hanging: no data, no timeout yet
    ticks = sorted({at for at, _ in seen})
    assert len(ticks) == 5
    for tick in ticks:  # 102 got its data at every tick
        assert sorted(u.metric for at, u in seen if at == tick and u.error is None) == [
            "apdex",
            "errors",
        ]
    for metric in ("apdex", "errors"):
        check_series(seen, 102, metric, origin_of(START))


async def test_an_app_whose_metrics_cannot_be_listed_is_retried_each_tick() -> None:
    sim = simulator(apps=[101, 102], metrics={101: ["apdex"], 102: ["errors", "throughput"]})
    # Four attempts per listing (three retries): the first two listings of app 102 fail.
    sim.add_fault(Fault(path="/apps/102/metrics", status=503, times=8))
    wall = WallClock(START)

    def caught_up(seen: Seen) -> bool:
        return {u.metric for _, u in seen if u.app_id == 102 and u.error is None} == {
            "errors",
            "throughput",
        }

    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps="all", metrics="all", lateness=LATENESS)
        seen = await collect(updates, wall, caught_up)
    unlisted = [(at, u) for at, u in seen if u.metric == "*"]
    assert len(unlisted) == 2
    assert all(u.app_id == 102 and isinstance(u.error, ServerError) for _, u in unlisted)
    assert all(u.start == origin_of(START) and u.points == () for _, u in unlisted)
    # Listed again at the next tick: the second failure stands for the next tick's window, and
    # came that listing's three retries' backoff after the tick (on the client's clock).
    assert unlisted[1][1].end - unlisted[0][1].end == INTERVAL
    assert BACKOFF[0] <= unlisted[1][0] - unlisted[0][0] - INTERVAL <= BACKOFF[1]
    assert len([s for s in wall.sleeps if s < INTERVAL.total_seconds()]) == 2 * 3
    assert [u for _, u in seen if u.error is not None and u.metric != "*"] == []
    listings = [r for r in sim.requests if r.path == "/api/v0/apps/102/metrics"]
    assert len(listings) == 9
    # Once listed, app 102's series start where the others did: nothing is missed.
    check_series(seen, 101, "apdex", origin_of(START))
    for metric in ("errors", "throughput"):
        check_series(seen, 102, metric, origin_of(START))
        first = next(u for _, u in seen if (u.app_id, u.metric) == (102, metric))
        assert first.start == origin_of(START)


@pytest.mark.parametrize("failures_first", [0, 4], ids=["at-once", "on-a-later-listing"])
async def test_a_refused_key_while_listing_ends_the_poll(failures_first: int) -> None:
    sim = simulator(apps=[101, 102])
    if failures_first:
        sim.add_fault(Fault(path="/apps/102/metrics", status=503, times=failures_first))
    sim.add_fault(Fault(path="/apps/102/metrics", status=403, times=None))
    wall = WallClock(START)
    seen: list[PollUpdate] = []

    async def take_all(updates: AsyncGenerator[PollUpdate, None]) -> None:
        async with aclosing(updates) as stream:
            async for update in stream:
                seen.append(update)

    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps="all", metrics="all", lateness=LATENESS)
        with anyio.fail_after(10), pytest.raises(AuthenticationError):
            await take_all(updates)
    assert {u.metric for u in seen if u.app_id == 102} <= {"*"}


async def test_apps_and_metrics_all_are_listed_once() -> None:
    sim = simulator(apps=[101, 102], metrics={101: ["apdex"], 102: ["errors", "throughput"]})
    wall = WallClock(START)
    async with client_of(sim, clock=wall) as client:
        seen = await collect(
            client.poll(apps="all", metrics="all", lateness=LATENESS),
            wall,
            lambda s: len(s) == 9,
        )
    assert {(u.app_id, u.metric) for _, u in seen} == {
        (101, "apdex"),
        (102, "errors"),
        (102, "throughput"),
    }
    listings = [r for r in sim.requests if "from" not in r.query]
    assert len(listings) == 3  # /apps and each app's metrics, once


async def test_a_listing_failure_is_raised_to_the_consumer() -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps", status=404))
    async with client_of(sim, clock=WallClock(START)) as client:
        with pytest.raises(NotFoundError):
            async for _ in client.poll(apps="all", metrics=["apdex"]):
                pass


async def test_a_clock_without_a_time_zone_is_reported_to_the_consumer() -> None:
    naive = WallClock(START.replace(tzinfo=None))
    async with client_of(simulator(), clock=naive) as client:
        with pytest.raises(ValueError, match=r"clock\.now"):
            async for _ in client.poll(apps=[101], metrics=["apdex"]):
                pass


async def test_closing_the_generator_stops_the_polling() -> None:
    sim = simulator()
    wall = WallClock(START)
    async with client_of(sim, clock=wall) as client:
        updates = client.poll(apps=[101, 102, 103], metrics=["apdex"])
        async with aclosing(updates) as stream:
            await stream.__anext__()
        for _ in range(50):
            if not client._core.running_jobs:
                break
            await anyio.sleep(0.01)
        assert client._core.running_jobs == 0
        sent = len(sim.requests)
        await anyio.sleep(0.05)
        assert len(sim.requests) == sent


async def test_closing_the_client_ends_the_poll_with_an_error() -> None:
    wall = WallClock(START)
    client = client_of(simulator(), clock=wall)
    updates = client.poll(apps=[101], metrics=["apdex"])
    async with aclosing(updates) as stream:
        await stream.__anext__()
        await client.aclose()
        with pytest.raises(ScoutError, match="client was closed"):
            await stream.__anext__()


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"apps": []}, ValueError, "apps is empty"),
        ({"metrics": ["latency"]}, ValueError, "response_time"),
        ({"interval": timedelta(0)}, ValueError, "interval"),
        ({"interval": 300}, ValueError, "interval"),
        ({"lateness": timedelta(minutes=-1)}, ValueError, "lateness"),
        ({"resolution": None}, TypeError, "resolution"),
        ({"resolution": "3m"}, ValueError, "1m"),
        ({"since": START.replace(tzinfo=None)}, ValueError, "naive"),
        ({"timeout": 0}, ValueError, "timeout"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    sim = simulator()
    arguments: dict[str, Any] = {"apps": [101], "metrics": ["apdex"]} | changes
    async with client_of(sim) as client:
        with pytest.raises(error, match=match):
            client.poll(**arguments)
    assert sim.requests == []


def test_polling_works_on_trio() -> None:
    async def main() -> Seen:
        wall = WallClock(START)
        async with client_of(simulator(), clock=wall) as client:
            return await collect(
                client.poll(apps=[101], metrics=["apdex"], lateness=LATENESS),
                wall,
                lambda s: len(s) == 4,
            )

    seen = trio.run(main)
    check_series(seen, 101, "apdex", origin_of(START))


@pytest.mark.parametrize(
    "bad",
    [object(), _NowAndSleepOnly(START)],
    ids=["not-a-clock", "without-monotonic"],
)
def test_a_bad_clock_is_refused_when_the_client_is_built(bad: object) -> None:
    # The poll has no clock of its own any more: the client's is checked once, up front.
    sim = simulator()
    with pytest.raises(ConfigurationError, match="clock"):
        client_of(sim, clock=bad)
    assert sim.requests == []


async def test_the_poll_takes_no_clock_of_its_own() -> None:
    async with client_of(simulator(), clock=WallClock(START)) as client:
        with pytest.raises(TypeError, match="clock"):
            client.poll(apps=[101], metrics=["apdex"], clock=WallClock(START))  # type: ignore[call-arg]


async def test_the_default_clock_is_the_wall_clock() -> None:
    client = client_of(simulator())
    clock = client.clock
    assert isinstance(clock, scout_async.SystemClock)
    before, started = clock.now(), clock.monotonic()
    await clock.sleep(0)
    assert before.tzinfo is not None
    assert clock.now() >= before
    assert clock.monotonic() >= started
    await client.aclose()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"interval": timedelta(days=9999)}, "at most 365 days"),
        ({"lateness": timedelta(days=31)}, "at most 30 days"),
    ],
)
def test_absurd_intervals_and_lateness_are_refused_before_any_request(
    kwargs: dict[str, timedelta], match: str
) -> None:
    client = scout_async.ScoutClient(api_key="k", base_url="http://127.0.0.1:9/api/v0")
    try:
        with pytest.raises(ValueError, match=match):
            client.poll(apps=[1], metrics=["apdex"], **kwargs)  # type: ignore[arg-type]
        assert client.stats.requests == 0
    finally:
        # Closed, so that its log redaction (of "k") does not outlive the test.
        anyio.run(client.aclose)


def test_a_single_error_in_a_task_group_reaches_the_consumer_unwrapped() -> None:
    from scout_async._bulk.poll import _unwrap

    inner = scout_async.ServerError("boom", status_code=500)
    group = ExceptionGroup("tg", [ExceptionGroup("inner", [inner])])
    assert _unwrap(group) is inner
    two = ExceptionGroup("tg", [inner, ValueError("x")])
    assert _unwrap(two) is two
