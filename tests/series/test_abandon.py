"""Abandoning a stream is normal use: a ``break``, a cancel or a consumer's own error logs nothing.

The stream's clean-up used to close the producer's sending end while the producer waited in
``send``: an ERROR with a traceback ("a background job of scout_async failed") for about one
abandoned stream in three, on asyncio and on trio.
"""

from __future__ import annotations

import logging
import sys
from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from functools import partial

import anyio
import anyio.lowlevel
import pytest

import scout_async
from scout_async._background import BackgroundJobs
from scout_async._series.fetch import ChunkDone, Failed, Finished, produce_chunks
from scout_async._series.planner import Chunk
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator
from tests.conftest import VirtualClock

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

NOW = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)
START = NOW - timedelta(hours=6)  # 6 chunks at 1 m
STREAMS = 120
WAYS = ("break", "break-then-gc", "cancel", "consumer-raises")


class ConsumerError(Exception):
    pass


async def abandon(client: scout_async.ScoutClient, way: str, after: int) -> int:
    """Take ``after + 1`` points of a stream, then abandon it ``way``; the points taken (more
    when cancelled: the points of a chunk in hand are yielded before the next wait)."""
    taken = 0
    stream = client.metrics.stream(101, "errors", start=START, end=NOW, resolution="1m")
    if way == "break":
        async with aclosing(stream) as points:
            async for _ in points:
                taken += 1
                if taken > after:
                    break
    elif way == "break-then-gc":
        async for _ in stream:
            taken += 1
            if taken > after:
                break
        del stream  # the last reference: finalized by the event loop's async-generator hooks
    elif way == "cancel":
        with anyio.CancelScope() as scope:
            async for _ in stream:
                taken += 1
                if taken > after:
                    scope.cancel()  # lands in the stream's next wait, with requests in flight
    else:

        async def consume() -> None:
            nonlocal taken
            async for _ in stream:
                taken += 1
                if taken > after:
                    raise ConsumerError

        with pytest.raises(ConsumerError):
            await consume()
    return taken


async def abandon_many(sim: ScoutSimulator) -> None:
    async with scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY,
        http_client=sim.http_client(),
        clock=VirtualClock(wall=NOW),
        max_concurrency=2,
    ) as client:
        for number in range(STREAMS):
            # Abandon after 0 to 2 chunks, at many points of a chunk: the producer is caught
            # waiting in ``send``, fetching, or between the two.
            after = (number * 37) % (3 * 60)
            taken = await abandon(client, WAYS[number % len(WAYS)], after)
            assert taken > after
        with anyio.fail_after(10):
            while client._core.running_jobs:  # noqa: ASYNC110 - the producers wind down
                await anyio.sleep(0.01)
        # The client is still whole: a stream read to its end is complete.
        series = await client.metrics.get(101, "errors", start=START, end=NOW, resolution="1m")
        # The window ends at now: the last two buckets have not closed (lateness 2 min).
        assert len(series.points) == 6 * 60 - 2


def quiet(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every record above DEBUG, from any logger (asyncio's and trio's included)."""
    caplog.set_level(logging.INFO)
    # httpx logs every request at INFO: its own habit, not the client's (and scrubbed by it).
    caplog.set_level(logging.WARNING, logger="httpx")


def loud(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno > logging.DEBUG
    ]


async def test_abandoned_streams_log_nothing_above_debug_on_asyncio(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet(caplog)
    sim = ScoutSimulator(now=NOW)
    await abandon_many(sim)
    assert loud(caplog) == []


# trio's own advice, not a log: an async generator left to the garbage collector unfinished
# should have been closed with ``aclosing`` (the "break-then-gc" way does just that).
@pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected:ResourceWarning")
def test_abandoned_streams_log_nothing_above_debug_on_trio(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet(caplog)
    sim = ScoutSimulator(now=NOW)
    anyio.run(abandon_many, sim, backend="trio")
    assert loud(caplog) == []


# --- each of the two pieces on its own ------------------------------------------------------


async def test_a_producer_whose_consumer_left_ends_quietly() -> None:
    # The consumer takes one chunk and closes its end while the producer waits to hand over
    # the next: produce_chunks returns, it does not raise (it used to: BrokenResourceError).
    chunks = scout_async.plan_range(START, NOW, "1m")
    fetched: list[int] = []

    async def fetch(chunk: Chunk) -> int:
        fetched.append(chunks.index(chunk))
        await anyio.lowlevel.checkpoint()
        return len(fetched)

    send, receive = anyio.create_memory_object_stream[ChunkDone[int] | Failed | Finished](0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(partial(produce_chunks, chunks, fetch, send, window=2))
        async with receive:
            first = await receive.receive()
            assert isinstance(first, ChunkDone)
            assert first.index == 0
            await anyio.wait_all_tasks_blocked()  # the producer waits in send with chunk 1
    assert send.statistics().open_send_streams == 0  # it closed its end on the way out
    assert len(fetched) <= 4  # at most the window ahead of the consumer


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_job_that_lost_its_consumer_is_not_an_error(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scout_async")

    async def lost() -> None:
        raise ExceptionGroup("a task group", [anyio.BrokenResourceError()])

    async def buggy() -> None:
        raise ValueError("a bug")

    async def main() -> None:
        jobs = BackgroundJobs()
        jobs.spawn(lost)
        jobs.spawn(buggy)
        await jobs.aclose()

    anyio.run(main, backend=backend)
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels == {
        "a background job of scout_async lost its consumer": logging.DEBUG,
        "a background job of scout_async failed": logging.ERROR,  # a bug still says so
    }
