"""Windows Scout cannot hold data for are refused before any request; a plan's memory does not
grow with its window (issue 15, item 3)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import anyio
import anyio.lowlevel
import pytest
import respx

import scout_async
from scout_async._constants import EARLIEST_DATA
from scout_async._series.fetch import ChunkDone, Failed, Finished, produce_chunks
from scout_async._series.instants import require_reachable
from scout_async._series.planner import Chunk, ChunkPlan, plan_range, plan_series
from scout_async._series.reader import SeriesReader
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator
from tests.conftest import BASE_URL, SECRET, VirtualClock

UTC = timezone.utc
NOW = datetime(2026, 7, 5, 17, 20, tzinfo=UTC)
DAY = timedelta(days=1)


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (datetime(26, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), "before 2009"),
        (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), "before 2009"),
        (EARLIEST_DATA - timedelta(seconds=1), NOW, "before 2009"),
        (NOW - DAY, datetime(9999, 12, 31, tzinfo=UTC), "more than a day after now"),
        (NOW, NOW + DAY + timedelta(seconds=1), "more than a day after now"),
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC), "after now"),
    ],
    ids=["year-26", "year-1-to-9999", "just-before", "to-9999", "just-after", "next-quarter"],
)
def test_windows_scout_cannot_hold_are_refused(start: datetime, end: datetime, why: str) -> None:
    with pytest.raises(scout_async.ArgumentError, match=why) as info:
        require_reachable(start, end, now=NOW)
    assert "check the year" in str(info.value)
    with pytest.raises(scout_async.ArgumentError, match=why):
        plan_series(start, end, "1m", now=NOW)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (EARLIEST_DATA, EARLIEST_DATA + timedelta(hours=1)),
        (NOW - timedelta(days=30), NOW),
        (NOW.replace(hour=0, minute=0), NOW.replace(hour=0, minute=0) + DAY),  # "today"
        (NOW, NOW + DAY),
    ],
    ids=["earliest", "last-30-days", "today", "up-to-a-day-ahead"],
)
def test_windows_scout_can_hold_are_planned(start: datetime, end: datetime) -> None:
    require_reachable(start, end, now=NOW)
    assert list(plan_series(start, end, None, now=NOW)) == plan_range(start, end)


def test_now_is_judged_in_utc() -> None:
    elsewhere = NOW.astimezone(timezone(timedelta(hours=-10)))
    require_reachable(NOW, NOW + DAY, now=elsewhere)
    with pytest.raises(scout_async.ArgumentError):
        require_reachable(NOW, NOW + DAY + timedelta(seconds=1), now=elsewhere)


# --- before any request, through the client ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(26, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),  # 52,178 requests
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)),  # the future
    ],
    ids=["typo-year", "future"],
)
async def test_the_client_refuses_them_before_any_request(start: datetime, end: datetime) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, clock=VirtualClock(wall=NOW)
        ) as client:
            with pytest.raises(scout_async.ArgumentError):
                await client.metrics.get(101, "apdex", start=start, end=end)
            with pytest.raises(scout_async.ArgumentError):
                client.metrics.stream(101, "apdex", start=start, end=end)
    assert route.call_count == 0


async def test_the_limit_follows_the_clients_clock() -> None:
    # A window a year ahead of the machine's clock is fine for a client whose clock is there.
    later = datetime.now(UTC) + timedelta(days=365)
    sim = ScoutSimulator(now=later)
    async with scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY, http_client=sim.http_client(), clock=VirtualClock(wall=later)
    ) as client:
        series = await client.metrics.get(101, "apdex", start=later - DAY, end=later)
    assert series.points


# --- constant memory, whatever the window ------------------------------------------------


def test_a_plan_of_any_length_takes_constant_memory() -> None:
    start, end = EARLIEST_DATA, NOW + DAY  # 17.5 years at 1 m: 153,000 chunks
    tracemalloc.start()
    try:
        plan = plan_series(start, end, "1m", now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(plan) == -(-(end - start) // timedelta(hours=1))
    assert peak < 20_000  # bytes: a handful of chunks, never the list of them
    # The chunks are plan_range's, one by one, at either end and in the middle.
    short = plan_range(start, start + timedelta(hours=3), "1m")
    assert plan[:3] == short
    assert plan[0] == short[0]
    assert (plan[-1].end, plan[-1].owned_end) == (end, end)
    middle = len(plan) // 2
    assert plan[middle].owned_end == plan[middle + 1].owned_start
    with pytest.raises(IndexError):
        plan[len(plan)]


def test_chunk_plan_is_plan_range() -> None:
    start = datetime(2026, 3, 1, 0, 7, 30, 500, tzinfo=UTC)
    for length in (timedelta(minutes=30), timedelta(days=3, hours=5), timedelta(days=44)):
        for resolution in (None, "1m", "10m", "2h"):
            plan = ChunkPlan(start, start + length, resolution)
            chunks = plan_range(start, start + length, resolution)
            assert list(plan) == chunks
            assert len(plan) == len(chunks)
            assert plan.step == chunks[0].step
            assert [plan[i] for i in range(-len(plan), 0)] == chunks


def test_out_of_range_stays_an_argument_error() -> None:
    start = datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(scout_async.ArgumentError, match="outside the dates"):
        ChunkPlan(start, start + timedelta(minutes=5), "5m")


async def test_the_fetching_takes_chunks_from_the_plan_one_by_one() -> None:
    # A consumer that stops after one chunk of a 17-year plan: the producer took from the plan
    # only what the window let it start.
    plan = plan_series(EARLIEST_DATA, NOW, "1m", now=NOW)
    taken = 0

    def counting(chunks: ChunkPlan) -> Iterator[Chunk]:
        nonlocal taken
        for chunk in chunks:
            taken += 1
            yield chunk

    async def fetch(chunk: Chunk) -> Chunk:
        await anyio.lowlevel.checkpoint()
        return chunk

    send, receive = anyio.create_memory_object_stream[ChunkDone[Chunk] | Failed | Finished](0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: produce_chunks(counting(plan), fetch, send, window=4))
        async with receive:
            first = await receive.receive()
            await anyio.wait_all_tasks_blocked()
    assert isinstance(first, ChunkDone)
    assert first.chunk == plan[0]
    assert taken <= 4 + 1


async def test_a_reader_streams_a_long_plan_lazily() -> None:
    sim = ScoutSimulator(now=NOW, retention=timedelta(days=3700))
    async with scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY,
        http_client=sim.http_client(),
        clock=VirtualClock(wall=NOW),
        max_concurrency=3,
    ) as client:
        plan = plan_series(NOW - timedelta(days=3650), NOW, "1m", now=NOW)  # 87,600 chunks
        reader = SeriesReader(client._core, "/apps/101/metrics/apdex", "apdex", plan, window=3)
        points = []
        async for point in reader.stream():
            points.append(point)
            if len(points) == 120:
                break
        with anyio.fail_after(5):
            while client._core.running_jobs:  # noqa: ASYNC110 - the producer winds down
                await anyio.sleep(0.01)
    assert len(sim.requests) <= 2 + 3 + 1  # the two chunks read, the window, one ahead
    start = plan[0].owned_start
    assert [p.time for p in points] == [start + timedelta(minutes=i) for i in range(120)]
