"""metrics.stream_batches: the series a chunk at a time, columnar, in order, bounded."""

from __future__ import annotations

import logging
from contextlib import aclosing
from datetime import timedelta

import anyio
import pytest

import scout_async
from scout_async import Points, Series
from scout_async.testing import Fault
from tests.series.test_stream import NOW, T0, M, _wait_until, make_client, simulator


async def test_batches_end_to_end_are_the_series_that_get_returns() -> None:
    sim = simulator()
    start, end = T0, T0 + timedelta(days=2, hours=5)
    async with make_client(sim, max_concurrency=4) as client:
        whole = await client.metrics.get(1, "throughput", start=start, end=end, resolution="5m")
        batches = [
            batch
            async for batch in client.metrics.stream_batches(
                1, "throughput", start=start, end=end, resolution="5m"
            )
        ]
    plan = scout_async.plan_range(start, end, "5m")
    assert len(batches) == len(plan)
    for batch, chunk in zip(batches, plan, strict=True):
        assert isinstance(batch, Series)
        assert isinstance(batch.points, Points)
        assert (batch.app_id, batch.metric, batch.step) == (1, "throughput", 5 * M)
        assert batch.summary is None
        assert all(chunk.owned_start <= p.time < chunk.owned_end for p in batch.points)
    assert Points.concat(b.points for b in batches) == whole.points


async def test_arguments_are_checked_before_any_request() -> None:
    sim = simulator()
    async with make_client(sim) as client:
        with pytest.raises(scout_async.ArgumentError):
            client.metrics.stream_batches(1, "no_such_metric", start=T0, end=T0 + M)
        with pytest.raises(scout_async.ArgumentError):
            client.metrics.stream_batches(1, "throughput", start=T0 + M, end=T0)
    assert sim.requests == []


async def test_memory_is_bounded_by_the_concurrency() -> None:
    # A consumer that does not read: the fetching stops at the window, it does not buffer on.
    sim = simulator()
    async with make_client(sim, max_concurrency=3) as client:
        batches = client.metrics.stream_batches(
            1, "errors", start=T0, end=T0 + timedelta(days=2), resolution="1m"
        )
        async with aclosing(batches) as stream:
            first = await anext(stream)
            assert len(first.points) == 60
            await _wait_until(lambda: not sim.in_flight and len(sim.requests) >= 4)
            await anyio.sleep(0.2)
            # One handed over, three more held or in flight, one blocked on the hand-over.
            assert len(sim.requests) <= 5


async def test_breaking_out_cancels_what_is_in_flight(caplog: pytest.LogCaptureFixture) -> None:
    sim = simulator()
    sim.add_fault(Fault(latency=2.0, skip=1, times=None))
    async with make_client(sim, max_concurrency=3) as client:
        async with aclosing(
            client.metrics.stream_batches(
                1, "errors", start=T0, end=T0 + timedelta(days=3), resolution="1m"
            )
        ) as stream:
            async for _ in stream:
                break
        await _wait_until(lambda: sim.in_flight == 0 and not client._core.running_jobs)
        assert sim.cancelled >= 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failure_keeps_the_batches_before_it_and_names_the_resume_point() -> None:
    start, end = T0, T0 + timedelta(hours=4)
    plan = scout_async.plan_range(start, end, "1m")
    sim = simulator()
    sim.add_fault(Fault(from_=plan[2].start, status=404))
    got: list[Series] = []

    async def consume(client: scout_async.ScoutClient) -> None:
        async for batch in client.metrics.stream_batches(
            1, "errors", start=start, end=end, resolution="1m"
        ):
            got.append(batch)

    async with make_client(sim, max_concurrency=2) as client:
        with pytest.raises(scout_async.NotFoundError) as info:
            await consume(client)
    assert len(got) == 2
    assert info.value.resume_from == plan[2].owned_start


async def test_partial_batches_name_their_first_open_bucket() -> None:
    sim = simulator()
    async with make_client(sim, clock=sim.clock) as client:
        batches = [
            batch
            async for batch in client.metrics.stream_batches(
                1, "throughput", start=NOW - timedelta(hours=2), end=NOW, partial=True
            )
        ]
        closed = [
            batch
            async for batch in client.metrics.stream_batches(
                1, "throughput", start=NOW - timedelta(hours=2), end=NOW
            )
        ]
    last = batches[-1]
    assert last.partial_from is not None
    assert last.partial_from + last.step > NOW - scout_async._constants.DEFAULT_LATENESS
    assert all(b.partial_from is None for b in closed)
    assert (
        Points.concat(b.points for b in closed)
        == Points.concat(b.points for b in batches)[: sum(len(b.points) for b in closed)]
    )
