"""An archive ending at now (issue 16): it archives closed buckets only, its watermark stops at
the last closed bucket, and the next catch-up takes the rest once it has closed, once."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from scout_async import ScoutClient
from scout_async._bulk.archive import Archive
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
M = timedelta(minutes=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - NOW).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def _rows(db: Path) -> list[tuple[str, float]]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return list(connection.execute("SELECT time, value FROM points ORDER BY time"))


async def test_an_archive_at_now_takes_each_bucket_once_it_has_closed(tmp_path: Path) -> None:
    clock = Clock(NOW)
    sim = ScoutSimulator(now=clock.now)
    db = tmp_path / "a.sqlite"
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=clock) as client,
    ):
        options: dict[str, Any] = {"apps": [101], "metrics": ["throughput"], "resolution": "1m"}
        async with Archive(client, db, lookback=timedelta(minutes=30), **options) as archive:
            first = await archive.catch_up()
        assert first.complete_until == datetime(2026, 7, 5, 17, 18, tzinfo=timezone.utc)
        held = _rows(db)
        assert held[-1][0] == "2026-07-05T17:17:00Z"
        clock.at = NOW + 5 * M
        async with Archive(client, db, lookback=timedelta(minutes=30), **options) as archive:
            second = await archive.catch_up()
        assert second.complete_until == datetime(2026, 7, 5, 17, 23, tzinfo=timezone.utc)
    rows = _rows(db)
    times = [t for t, _ in rows]
    assert times == sorted(set(times))
    assert times[-1] == "2026-07-05T17:22:00Z"
    assert rows[: len(held)] == held
    assert all(value for _, value in rows)  # the bucket in progress (0) was never archived
