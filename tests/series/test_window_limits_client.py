"""Windows Scout cannot hold data for, through the resources that plan them (issue 15, item 3);
needs the proposed changes to _resources/metrics.py and _bulk/backfill.py (plan_series)."""

from __future__ import annotations

from contextlib import aclosing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import scout_async
from scout_async._constants import EARLIEST_DATA
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator
from tests.conftest import VirtualClock

UTC = timezone.utc
NOW = datetime(2026, 7, 5, 17, 20, tzinfo=UTC)


def client_for(sim: ScoutSimulator) -> scout_async.ScoutClient:
    return scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY, http_client=sim.http_client(), clock=VirtualClock(wall=NOW)
    )


async def test_year_1_to_9999_at_1m_is_refused_at_once() -> None:
    # It used to plan 87,649,392 chunks before any request and end in MemoryError.
    sim = ScoutSimulator(now=NOW)
    start, end = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    async with client_for(sim) as client:
        with pytest.raises(scout_async.ArgumentError, match="before 2009"):
            await client.metrics.get(101, "apdex", start=start, end=end, resolution="1m")
        with pytest.raises(scout_async.ArgumentError, match="after now"):
            client.metrics.stream(101, "apdex", start=NOW, end=end, resolution="1m")
    assert sim.requests == []


async def test_a_stream_of_every_minute_scout_could_hold_starts_at_once() -> None:
    # 17.5 years at 1 m (153,000 requests if read to the end): planned lazily, so the first
    # points come after a window of requests, not after a plan of every chunk.
    sim = ScoutSimulator(now=NOW, retention=NOW - EARLIEST_DATA)
    async with client_for(sim) as client:
        stream = client.metrics.stream(101, "apdex", start=EARLIEST_DATA, end=NOW, resolution="1m")
        async with aclosing(stream) as points:
            first = await points.__anext__()
    assert first.time == EARLIEST_DATA
    assert len(sim.requests) <= client.max_concurrency + 1


async def test_backfill_refuses_a_typod_year_before_any_request(tmp_path: Path) -> None:
    sim = ScoutSimulator(now=NOW)
    async with client_for(sim) as client:
        with pytest.raises(scout_async.ArgumentError, match="before 2009"):
            await client.backfill(
                start=datetime(26, 10, 1, tzinfo=UTC), end=NOW, sink=tmp_path / "out.jsonl"
            )
        with pytest.raises(scout_async.ArgumentError, match="after now"):
            await client.backfill(
                start=NOW, end=NOW + timedelta(days=30), sink=tmp_path / "out.jsonl"
            )
    assert sim.requests == []
