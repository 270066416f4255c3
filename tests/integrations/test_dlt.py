"""The dlt source, run by a real dlt pipeline into DuckDB (dlt's embedded destination) against
the simulator: the rows, the incremental state, and a second run that loads only new buckets."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dlt
import pytest

from scout_async import ArgumentError, ArgumentTypeError, ScoutClient
from scout_async.dlt import scout_source
from scout_async.sinks import SqliteSink
from scout_async.testing import ScoutSimulator
from tests.conftest import VirtualClock

UTC = timezone.utc
KEY = "sk-dlt-S3CR3T-key-1234"
NOW = datetime(2026, 3, 3, 12, 0, 11, tzinfo=UTC)
APPS = [101, 102]
METRICS = ["apdex", "throughput"]


class World:
    """A simulator and a clock that both read ``now``; ``advance`` moves them on."""

    def __init__(self) -> None:
        self.clock = VirtualClock(NOW)
        self.sim = ScoutSimulator(api_key=KEY, now=self.clock.now, missing=0.012, nulls=0.01)

    def client(self) -> ScoutClient:
        return ScoutClient(
            api_key=KEY,
            base_url="https://sim.test/api/v0",
            http_client=self.sim.http_client(),
            clock=self.clock,
        )

    def advance(self, delta: timedelta) -> None:
        self.clock.now_s += delta.total_seconds()

    def data_requests(self) -> list[Any]:
        return [r for r in self.sim.requests if "/metrics/" in r.path]


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def pipeline(tmp_path: Path) -> Any:
    return dlt.pipeline(
        pipeline_name="scout_test",
        destination=dlt.destinations.duckdb(str(tmp_path / "warehouse.duckdb")),
        dataset_name="scout",
        pipelines_dir=str(tmp_path / "pipelines"),
    )


def table(pipeline: Any, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql)]


def points(pipeline: Any) -> list[tuple[Any, ...]]:
    return table(
        pipeline,
        "SELECT app_id, metric, strftime(time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), value "
        "FROM metric_points ORDER BY 1, 2, 3",
    )


def reference(world: World, start: datetime, end: datetime, tmp: Path) -> list[tuple[Any, ...]]:
    """The same series backfilled into SQLite: what the pipeline must hold."""
    import sqlite3

    import anyio

    path = tmp / f"ref-{int(end.timestamp())}.db"

    async def main() -> None:
        async with world.client() as client:
            result = await client.backfill(
                apps=APPS, metrics=METRICS, start=start, end=end, resolution="1m",
                sink=SqliteSink(path),
            )  # fmt: skip
            assert result.ok

    anyio.run(main)
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT app_id, metric, time, value FROM points ORDER BY 1, 2, 3"))


def source(world: World, **kwargs: Any) -> Any:
    kwargs.setdefault("lookback", timedelta(hours=6))
    return scout_source(apps=APPS, metrics=METRICS, resolution="1m", client=world.client, **kwargs)


def loaded_rows(pipeline: Any) -> int:
    """How many rows of ``metric_points`` the pipeline's last run normalized (and so loaded)."""
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return int(counts.get("metric_points", 0))


@pytest.mark.parametrize("backend", ["rows", "pyarrow"])
def test_points_load_incrementally_per_series(
    backend: str, world: World, pipeline: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start = NOW - timedelta(hours=6)  # 06:00:11 -> the first whole bucket is 06:01
    first_end = datetime(2026, 3, 3, 11, 58, tzinfo=UTC)  # the last complete bucket (2 min late)
    info = pipeline.run(source(world, backend=backend).with_resources("metric_points"))
    assert not info.has_failed_jobs
    want = reference(world, start, first_end, tmp_path)
    assert points(pipeline) == want
    assert len(want) > 4 * 340
    marks = pipeline.state["sources"]["scout"]["resources"]["metric_points"]
    assert marks["resolution"] == "1m"
    assert marks["watermarks"] == {
        f"{a}/{m}": "2026-03-03T11:58:00Z" for a in APPS for m in METRICS
    }
    columns = dict(table(pipeline, "SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'metric_points'"))  # fmt: skip
    assert columns["time"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["value"] == "DOUBLE"
    assert columns["app_id"] == "BIGINT"
    assert loaded_rows(pipeline) == len(want)
    # The same table either way, with nothing for dlt to warn about (a time zone and a precision).
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    # Ten minutes later: only the ten new buckets of each series are requested and loaded.
    before = len(world.data_requests())
    world.advance(timedelta(minutes=10))
    info = pipeline.run(source(world, backend=backend).with_resources("metric_points"))
    assert not info.has_failed_jobs
    requests = world.data_requests()[before:]
    assert len(requests) == 4  # one short request per series
    assert 4 * 9 <= loaded_rows(pipeline) <= 4 * 10  # a bucket may be missing (missing=0.012)
    second_end = first_end + timedelta(minutes=10)
    assert points(pipeline) == reference(world, start, second_end, tmp_path)
    marks = pipeline.state["sources"]["scout"]["resources"]["metric_points"]["watermarks"]
    assert set(marks.values()) == {"2026-03-03T12:08:00Z"}

    # Nothing new yet: nothing requested, nothing loaded twice.
    before = len(world.data_requests())
    pipeline.run(source(world, backend=backend).with_resources("metric_points"))
    assert len(world.data_requests()) == before
    assert points(pipeline) == reference(world, start, second_end, tmp_path)


def test_a_pipeline_keeps_one_resolution(world: World, pipeline: Any) -> None:
    pipeline.run(source(world).with_resources("metric_points"))
    from dlt.pipeline.exceptions import PipelineStepFailed

    with pytest.raises(PipelineStepFailed, match="loads metric_points at 1m, not 5m"):
        pipeline.run(
            scout_source(
                apps=APPS, metrics=METRICS, resolution="5m", client=world.client
            ).with_resources("metric_points")
        )


@pytest.mark.parametrize(("first", "then"), [("rows", "pyarrow"), ("pyarrow", "rows")])
def test_a_pipeline_keeps_one_backend(first: str, then: str, world: World, pipeline: Any) -> None:
    from dlt.pipeline.exceptions import PipelineStepFailed

    pipeline.run(source(world, backend=first).with_resources("metric_points"))
    loaded = table(pipeline, "SELECT count(*) FROM metric_points")
    before = len(world.data_requests())
    world.advance(timedelta(minutes=10))
    with pytest.raises(
        PipelineStepFailed,
        match=f"loads metric_points with backend='{first}', not '{then}'",
    ):
        pipeline.run(source(world, backend=then).with_resources("metric_points"))
    assert len(world.data_requests()) == before  # refused before any request
    assert table(pipeline, "SELECT count(*) FROM metric_points") == loaded
    # The same backend goes on where it stopped: no package left failing behind.
    info = pipeline.run(source(world, backend=first).with_resources("metric_points"))
    assert not info.has_failed_jobs
    assert 4 * 9 <= loaded_rows(pipeline) <= 4 * 10


def test_a_pipeline_loaded_before_the_backend_was_kept_loaded_rows(
    world: World, pipeline: Any
) -> None:
    from dlt.pipeline.exceptions import PipelineStepFailed

    pipeline.run(source(world).with_resources("metric_points"))
    with pipeline.managed_state() as state:  # as an earlier version left it
        del state["sources"]["scout"]["resources"]["metric_points"]["backend"]
    assert "backend" not in pipeline.state["sources"]["scout"]["resources"]["metric_points"]
    world.advance(timedelta(minutes=10))
    with pytest.raises(PipelineStepFailed, match="backend='rows', not 'pyarrow'"):
        pipeline.run(source(world, backend="pyarrow").with_resources("metric_points"))
    info = pipeline.run(source(world, backend="rows").with_resources("metric_points"))
    assert not info.has_failed_jobs


def test_apps_endpoints_error_groups_and_anomalies(world: World, pipeline: Any) -> None:
    everything = ("apps", "endpoints", "error_groups", "anomalies")
    month = timedelta(days=30)
    info = pipeline.run(source(world, lookback=month).with_resources(*everything))
    assert not info.has_failed_jobs
    apps = table(pipeline, "SELECT id, name FROM apps ORDER BY id")
    assert [a for a, _ in apps] == APPS
    endpoints = table(pipeline, "SELECT app_id, id, name, window_start, window_end FROM endpoints")
    assert endpoints
    assert {row[0] for row in endpoints} <= set(APPS)
    assert all(row[4] - row[3] == timedelta(days=1) for row in endpoints)
    groups = table(pipeline, "SELECT app_id, id FROM error_groups")
    anomalies = table(pipeline, "SELECT app_id, id FROM anomalies")
    assert groups
    assert {a for a, _ in groups} <= set(APPS)
    assert {a for a, _ in anomalies} <= set(APPS)
    # Merged on their keys: running again keeps one row each.
    pipeline.run(source(world, lookback=month).with_resources(*everything))
    assert table(pipeline, "SELECT count(*) FROM error_groups") == [(len(groups),)]
    assert table(pipeline, "SELECT count(*) FROM endpoints") == [(len(endpoints),)]


def test_a_shard_loads_its_own_series(world: World, pipeline: Any) -> None:
    from scout_async._bulk.selection import shard_of

    pipeline.run(source(world, shard=(1, 2)).with_resources("metric_points"))
    loaded = {
        (a, m) for a, m in table(pipeline, "SELECT DISTINCT app_id, metric FROM metric_points")
    }
    assert loaded == {(a, m) for a in APPS for m in METRICS if shard_of((a, m), 2) == 1}


def test_a_bad_backend_is_refused_before_any_request(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ArgumentError, match="backend must be 'rows' or 'pyarrow', got 'arrow'"):
        source(world, backend="arrow")
    with pytest.raises(ArgumentTypeError, match="backend must be 'rows' or 'pyarrow', got int"):
        source(world, backend=1)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    with pytest.raises(
        ImportError, match=r"backend='pyarrow'\) needs pyarrow.*scout-async\[arrow\]"
    ):
        source(world, backend="pyarrow")
    assert world.sim.requests == []
