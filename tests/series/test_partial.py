"""The bucket in progress (issue 16): never handed out as data unless asked for, then marked.

Scout reports the bucket holding "now" before it is complete, typically as 0 (API notes quirk
14; the simulator serves it so). A bucket is closed once it ended ``DEFAULT_LATENESS`` (the
lateness ``poll`` waits) before the client's clock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scout_async import ArgumentTypeError, Point, ScoutClient
from scout_async._constants import DEFAULT_LATENESS
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator

MINUTE = timedelta(minutes=1)
MID_BUCKET = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
AT_EDGE = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)
APP = 101


class Clock:
    """A wall clock the simulator and the client share; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now


async def _client(sim: ScoutSimulator) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=sim.clock) as client,
    ):
        yield client


def _served(sim: ScoutSimulator, start: datetime, end: datetime) -> list[Point]:
    return [
        Point(t, None if v is None else float(v))
        for t, v in sim.points(APP, "throughput", start=start, end=end, step=MINUTE)
    ]


@pytest.mark.parametrize(
    ("now", "end", "last_closed"),
    [
        # Ending at now, in the middle of a bucket: 17:18 ends 17:19, later than 17:18:11.
        (MID_BUCKET, MID_BUCKET, datetime(2026, 7, 5, 17, 17, tzinfo=timezone.utc)),
        # Ending at now, on a bucket edge: 17:17 ends 17:18, exactly the lateness ago.
        (AT_EDGE, AT_EDGE, datetime(2026, 7, 5, 17, 17, tzinfo=timezone.utc)),
        # Ending within the lateness: the same cut.
        (MID_BUCKET, MID_BUCKET - MINUTE, datetime(2026, 7, 5, 17, 17, tzinfo=timezone.utc)),
        # Ending before the lateness: nothing is cut.
        (MID_BUCKET, AT_EDGE - 5 * MINUTE, datetime(2026, 7, 5, 17, 14, tzinfo=timezone.utc)),
    ],
    ids=["now-mid-bucket", "now-at-edge", "within-lateness", "before-lateness"],
)
async def test_a_series_ends_at_the_last_closed_bucket(
    now: datetime, end: datetime, last_closed: datetime
) -> None:
    sim = ScoutSimulator(now=now)
    start = end - timedelta(minutes=30)
    async for client in _client(sim):
        series = await client.metrics.get(APP, "throughput", start=start, end=end, resolution="1m")
        streamed = [
            p
            async for p in client.metrics.stream(
                APP, "throughput", start=start, end=end, resolution="1m"
            )
        ]
    assert series.points[-1].time == last_closed
    assert last_closed + MINUTE <= now - DEFAULT_LATENESS
    assert series.points == [p for p in _served(sim, start, end) if p.time <= last_closed]
    assert series.partial_from is None
    assert streamed == series.points
    assert all(p.value for p in series.points)  # no false drop to 0


async def test_partial_true_returns_the_buckets_in_progress_marked() -> None:
    sim = ScoutSimulator(now=MID_BUCKET)
    start = MID_BUCKET - timedelta(minutes=30)
    async for client in _client(sim):
        series = await client.metrics.get(
            APP, "throughput", start=start, end=MID_BUCKET, resolution="1m", partial=True
        )
        streamed = [
            p
            async for p in client.metrics.stream(
                APP, "throughput", start=start, end=MID_BUCKET, resolution="1m", partial=True
            )
        ]
    assert series.points == _served(sim, start, MID_BUCKET)
    assert series.partial_from == datetime(2026, 7, 5, 17, 18, tzinfo=timezone.utc)
    # The bucket holding now reads 0 on the live API (quirk 14), and in the simulator.
    assert series.points[-1] == Point(datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc), 0.0)
    assert streamed == series.points


async def test_partial_must_be_a_bool() -> None:
    sim = ScoutSimulator(now=MID_BUCKET)
    async for client in _client(sim):
        with pytest.raises(ArgumentTypeError, match="partial"):
            await client.metrics.get(
                APP,
                "throughput",
                start=MID_BUCKET - MINUTE * 5,
                end=MID_BUCKET,
                partial=1,  # type: ignore[arg-type]
            )


class MemorySink:
    """A sink that keeps what it is given, in order."""

    location = "memory://partial-test"

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, Point]] = []

    async def open(self, resume: Any = None) -> None:
        pass

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        self.rows.extend((app_id, metric, p) for p in points)

    async def flush(self) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        pass


async def test_a_backfill_ending_at_now_fetches_the_open_buckets_on_the_next_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(MID_BUCKET)
    sim = ScoutSimulator(now=lambda: clock.now)
    start = MID_BUCKET - timedelta(minutes=30)
    job: dict[str, Any] = {
        "apps": [APP],
        "metrics": ["throughput"],
        "start": start,
        "end": MID_BUCKET,
        "resolution": "1m",
        "checkpoint": tmp_path / "state.json",
    }
    sink = MemorySink()
    caplog.set_level(logging.WARNING)
    async for client in _client(sim):
        first = await client.backfill(**job, sink=sink)
        assert first.ok
        assert [p.time for _, _, p in sink.rows][-1] == datetime(
            2026, 7, 5, 17, 17, tzinfo=timezone.utc
        )
        # Still within the lateness: a rerun adds nothing, and writes nothing twice.
        clock.now = MID_BUCKET + timedelta(seconds=30)
        await client.backfill(**job, sink=sink)
        assert len(sink.rows) == 28
        # Once every bucket of the window has closed, the rerun fetches them, once.
        clock.now = MID_BUCKET + 5 * MINUTE
        await client.backfill(**job, sink=sink)
    times = [p.time for _, _, p in sink.rows]
    assert times == sorted(set(times))
    assert [p for _, _, p in sink.rows] == _served(sim, start, MID_BUCKET)
    assert all(p.value for _, _, p in sink.rows)
    assert not caplog.records
