"""Self-healing steps (issue 10): a chunk Scout answers at a coarser step because its window is
exactly a band's upper edge (an exclusive edge: simulator ``band_edges="exclusive"``, API notes
quirk 16) is fetched again in smaller requests inside the band; the client warns once and
remembers the lesson; a step that cannot be reached still raises ``StepMismatchError``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from scout_async import Point, ScoutClient, StepMismatchError
from scout_async._series.planner import Chunk, at_upper_edge, plan_range, split_at_edge
from scout_async._series.steps import BANDS, MAX_WINDOW
from scout_async._time import parse_time
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
APP = 101


async def _client(sim: ScoutSimulator) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=sim.clock) as client,
    ):
        yield client


def _served(sim: ScoutSimulator, start: datetime, end: datetime, step: timedelta) -> list[Point]:
    return [
        Point(t, None if v is None else float(v))
        for t, v in sim.points(APP, "throughput", start=start, end=end, step=step)
    ]


def _lengths(sim: ScoutSimulator) -> list[timedelta]:
    return [
        parse_time(r.query["to"]) - parse_time(r.query["from"])
        for r in sim.requests
        if "/metrics/" in r.path
    ]


def _healing_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "upper edge is exclusive" in r.getMessage()]


@pytest.mark.parametrize("variant", ["inclusive", "exclusive"])
async def test_a_uniform_complete_series_whatever_the_edge(
    variant: str, caplog: pytest.LogCaptureFixture
) -> None:
    sim = ScoutSimulator(now=NOW, band_edges=variant)  # type: ignore[arg-type]
    start = END - timedelta(hours=6)  # six requests of exactly 60 min at 1 m
    caplog.set_level(logging.WARNING)
    async for client in _client(sim):
        series = await client.metrics.get(APP, "throughput", start=start, end=END, resolution="1m")
        edges = set(client._core.exclusive_edges)
    assert series.step == MINUTE
    assert series.points == _served(sim, start, END, MINUTE)
    if variant == "exclusive":
        assert edges == {MINUTE}
        assert len(_healing_warnings(caplog)) == 1
    else:
        assert edges == set()
        assert not _healing_warnings(caplog)


async def test_the_lesson_lasts_for_the_clients_life() -> None:
    sim = ScoutSimulator(now=NOW, band_edges="exclusive")
    start = END - timedelta(hours=6)
    async for client in _client(sim):
        await client.metrics.get(APP, "throughput", start=start, end=END, resolution="1m")
        sim.requests.clear()
        again = await client.metrics.get(APP, "apdex", start=start, end=END, resolution="1m")
        streamed = [
            p
            async for p in client.metrics.stream(
                APP, "errors", start=start, end=END, resolution="1m"
            )
        ]
    assert len(again.points) == len(streamed) == 6 * 60
    # Once learned, no window of exactly the edge is sent again: no request is wasted.
    assert sim.requests
    assert all(length < timedelta(minutes=60) for length in _lengths(sim))


async def test_a_new_client_learns_anew() -> None:
    sim = ScoutSimulator(now=NOW, band_edges="exclusive")
    async for client in _client(sim):
        await client.metrics.get(APP, "throughput", start=END - MINUTE * 60, end=END)
        assert client._core.exclusive_edges == {MINUTE}
    async for client in _client(sim):
        assert client._core.exclusive_edges == set()


async def test_one_request_of_a_day_heals_at_ten_minutes() -> None:
    sim = ScoutSimulator(now=NOW, band_edges="exclusive")
    start = END - timedelta(days=1)
    async for client in _client(sim):
        series = await client.metrics.get(APP, "throughput", start=start, end=END)
    assert series.step == 10 * MINUTE
    assert series.points == _served(sim, start, END, 10 * MINUTE)
    assert series.summary is None  # several requests: no summary of Scout's covers them


async def test_a_step_that_cannot_be_reached_still_raises() -> None:
    sim = ScoutSimulator(now=NOW)
    sim.add_fault(Fault(path="/apps/101/metrics/*", step=5 * MINUTE, times=None))
    async for client in _client(sim):
        with pytest.raises(StepMismatchError):
            await client.metrics.get(
                APP, "throughput", start=END - timedelta(hours=2), end=END, resolution="1m"
            )


async def test_a_coarse_answer_off_the_edge_is_not_healed() -> None:
    sim = ScoutSimulator(now=NOW, band_edges="exclusive")
    sim.add_fault(Fault(path="/apps/101/metrics/*", step=2 * MINUTE, times=None))
    async for client in _client(sim):
        with pytest.raises(StepMismatchError):  # 45 min at 1 m: not on an edge
            await client.metrics.get(
                APP, "throughput", start=END - 45 * MINUTE, end=END, resolution="1m"
            )
        assert client._core.exclusive_edges == set()


@pytest.mark.parametrize("band", [b for b in BANDS if b.upper < MAX_WINDOW], ids=str)
def test_split_at_edge_tiles_the_chunk_inside_its_band(band: object) -> None:
    step = band.step  # type: ignore[attr-defined]
    upper = band.upper  # type: ignore[attr-defined]
    edge = [c for c in plan_range(END - 3 * upper, END, step) if at_upper_edge(c)]
    assert edge
    for chunk in edge:
        pieces = split_at_edge(chunk)
        assert len(pieces) >= 2
        assert pieces[0].owned_start == chunk.owned_start
        assert pieces[-1].owned_end == chunk.owned_end
        assert pieces[-1].end == chunk.end
        for before, after in itertools.pairwise(pieces):
            assert before.owned_end == after.owned_start
        for piece in pieces:
            assert isinstance(piece, Chunk)
            assert piece.step == step
            assert band.lower < piece.end - piece.start < upper  # type: ignore[attr-defined]
