"""Retention is visible (issue 10): a window reaching past Scout's ~30-day metric retention
(API notes quirk 4), on the client's clock, logs a warning once per call, and a backfill's
result says which part of its window Scout no longer holds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from scout_async import Point, ScoutClient
from scout_async._constants import METRIC_RETENTION
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
APP = 101


async def _client(sim: ScoutSimulator) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=sim.clock) as client,
    ):
        yield client


def _retention_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "metric retention" in r.getMessage()
    ]


async def test_a_window_past_retention_warns_once_per_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = ScoutSimulator(now=NOW)
    caplog.set_level(logging.WARNING)
    async for client in _client(sim):
        # 40 days at 2 h: three requests, one warning.
        series = await client.metrics.get(APP, "throughput", start=END - 40 * DAY, end=END)
        assert len(_retention_warnings(caplog)) == 1
        assert series.points[0].time >= NOW - METRIC_RETENTION
        [
            p
            async for p in client.metrics.stream(
                APP, "throughput", start=END - 31 * DAY, end=END, resolution="2h"
            )
        ]
        assert len(_retention_warnings(caplog)) == 2
    assert "2026-05-26" in _retention_warnings(caplog)[0].getMessage()  # the start, shown


async def test_a_window_inside_retention_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    sim = ScoutSimulator(now=NOW)
    caplog.set_level(logging.WARNING)
    async for client in _client(sim):
        await client.metrics.get(APP, "throughput", start=END - 29 * DAY, end=END)
    assert not _retention_warnings(caplog)


class MemorySink:
    location = "memory://retention-test"

    def __init__(self) -> None:
        self.rows: list[Point] = []

    async def open(self, resume: Any = None) -> None:
        pass

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        self.rows.extend(points)

    async def flush(self) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(("days", "cut"), [(35, True), (20, False)])
async def test_a_backfill_reports_the_part_it_could_not_get(
    days: int, cut: bool, caplog: pytest.LogCaptureFixture
) -> None:
    sim = ScoutSimulator(now=NOW)
    caplog.set_level(logging.WARNING)
    sink = MemorySink()
    async for client in _client(sim):
        result = await client.backfill(
            apps=[APP],
            metrics=["throughput"],
            start=END - days * DAY,
            end=END,
            resolution="2h",
            sink=sink,
        )
    assert result.ok
    if cut:
        assert result.unavailable_before == NOW - METRIC_RETENTION
        assert sink.rows[0].time >= result.unavailable_before
        assert len(_retention_warnings(caplog)) == 1
    else:
        assert result.unavailable_before is None
        assert not _retention_warnings(caplog)
