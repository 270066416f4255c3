"""End to end: series read over real HTTP from the bundled simulator (with gaps and nulls), as
tables and frames, equal to what the simulator served; the batches of ``stream_batches``
collected give the same tables as one ``get``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pandas
import pytest

from scout_async import ScoutClient, Series, frames
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator, SimulatorServer

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
END = datetime(2026, 7, 5, 12, tzinfo=timezone.utc)
START = END - timedelta(days=2)
STEP = timedelta(minutes=10)
SERIES = [(101, "throughput"), (101, "apdex"), (102, "response_time")]


@pytest.fixture
async def sim_client() -> AsyncIterator[tuple[ScoutSimulator, ScoutClient]]:
    # Gaps of both kinds: buckets left out, and buckets sent as null.
    sim = ScoutSimulator(now=NOW, missing=0.1, nulls=0.1, seed=7)
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=DEFAULT_API_KEY, base_url=server.url, clock=sim.clock) as client,
    ):
        yield sim, client


def served(sim: ScoutSimulator, app_id: int, metric: str) -> list[tuple[datetime, float | None]]:
    return [
        (t, None if v is None else float(v))
        for t, v in sim.points(app_id, metric, start=START, end=END, step=STEP)
    ]


async def read_all(client: ScoutClient) -> list[Series]:
    return [
        await client.metrics.get(app, metric, start=START, end=END, resolution=STEP)
        for app, metric in SERIES
    ]


async def test_tables_hold_what_the_simulator_served(
    sim_client: tuple[ScoutSimulator, ScoutClient],
) -> None:
    sim, client = sim_client
    got = await read_all(client)
    expected = {(app, metric): served(sim, app, metric) for app, metric in SERIES}
    for s in got:
        points = expected[s.app_id, s.metric]
        assert any(v is None for _, v in points)  # the nulls are there to be kept
        table = s.to_arrow()
        assert list(zip(*table.to_pydict().values(), strict=True)) == points
        assert s.to_polars().rows() == points
        frame = s.to_pandas()
        assert [t.to_pydatetime() for t in frame.index] == [t for t, _ in points]
        assert frame["value"].isna().tolist() == [v is None for _, v in points]
        assert frame["value"].dropna().tolist() == [v for _, v in points if v is not None]
        assert table.schema.metadata[b"step_seconds"] == b"600"
    assert got[2].to_arrow().schema.field("value").metadata[b"unit"] == b"ms"

    # Long: every series' rows; wide: each series' values at the union of their times.
    long = frames.to_arrow(got)
    assert list(zip(*long.to_pydict().values(), strict=True)) == [
        (app, metric, t, v) for (app, metric), points in expected.items() for t, v in points
    ]
    wide = frames.to_polars(got, layout="wide")
    union = sorted({t for points in expected.values() for t, _ in points})
    assert len(union) > max(len(points) for points in expected.values())  # gaps differ by app
    assert wide["time"].to_list() == union
    for (app, metric), points in expected.items():
        by_time = dict(points)
        assert wide[f"{app}/{metric}"].to_list() == [by_time.get(t) for t in union]


async def test_collected_batches_give_the_tables_of_one_get(
    sim_client: tuple[ScoutSimulator, ScoutClient],
) -> None:
    _, client = sim_client
    whole = await read_all(client)
    batches = [
        batch
        for app, metric in SERIES
        async for batch in client.metrics.stream_batches(
            app, metric, start=START, end=END, resolution=STEP
        )
    ]
    assert len(batches) > len(SERIES)  # two days at 10 minutes take several requests a series
    assert frames.to_arrow(batches).equals(frames.to_arrow(whole))
    assert frames.to_polars(batches).equals(frames.to_polars(whole))
    pandas.testing.assert_frame_equal(frames.to_pandas(batches), frames.to_pandas(whole))
    assert frames.to_arrow(batches, layout="wide").equals(frames.to_arrow(whole, layout="wide"))
    assert frames.to_polars(batches, layout="wide").equals(frames.to_polars(whole, layout="wide"))
    pandas.testing.assert_frame_equal(
        frames.to_pandas(batches, layout="wide"), frames.to_pandas(whole, layout="wide")
    )
