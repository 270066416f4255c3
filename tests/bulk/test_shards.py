"""Sharded backfills: ``shard=(i, n)`` takes the series whose stable hash falls to shard ``i``;
shards are disjoint, cover every series, never move, and each has a checkpoint of its own."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scout_async import ScoutClient
from scout_async._bulk.checkpoint import Plan
from scout_async._bulk.selection import Shard, select, shard_of
from scout_async._resources.metrics import APP_METRICS
from scout_async.sinks import SqliteSink
from scout_async.testing import Fault, ScoutSimulator

UTC = timezone.utc
KEY = "sk-shard-S3CR3T-key"
SIM_NOW = datetime(2026, 3, 3, 12, 0, 11, tzinfo=UTC)
T0 = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW: dict[str, Any] = {"start": T0, "end": T0 + timedelta(hours=6), "resolution": "5m"}


# -- the hash ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shards"),
    [
        ((101, "apdex"), [0, 2, 0, 0]),
        ((101, "throughput"), [0, 1, 2, 2]),
        ((102, "errors"), [0, 1, 2, 8]),
        ((7, "queue_time"), [0, 1, 0, 6]),
        ((123456, "response_time_95th"), [1, 1, 1, 9]),
    ],
)
def test_a_series_always_lands_in_the_same_shard(key: tuple[int, str], shards: list[int]) -> None:
    # Pinned: a change here moves series between the shards of jobs already running.
    assert [shard_of(key, n) for n in (2, 3, 4, 10)] == shards


def test_the_hash_is_sha256_of_app_and_metric_not_pythons_hash() -> None:
    key = (101, "apdex")
    digest = hashlib.sha256(b"101/apdex").digest()
    assert shard_of(key, 1000) == int.from_bytes(digest[:8], "big") % 1000


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_and_cover_every_series(count: int) -> None:
    keys = [(app, metric) for app in range(100, 140) for metric in APP_METRICS]
    owned = [select("all", "all", (i, count)).owned(keys) for i in range(count)]
    assert sorted(k for share in owned for k in share) == sorted(keys)
    assert sum(len(share) for share in owned) == len(keys)
    if count > 1:
        assert all(share for share in owned)  # 240 series: no shard is empty


@pytest.mark.parametrize(
    ("shard", "error", "match"),
    [
        ((0, 0), ValueError, "count >= 1"),
        ((3, 3), ValueError, "numbered from 0"),
        ((-1, 2), ValueError, "0 <= index < count"),
        ([0, 2], TypeError, "two ints"),
        ((0, 2, 1), TypeError, "two ints"),
        ((True, 2), TypeError, "two ints"),
        (("0", "2"), TypeError, "two ints"),
    ],
)
def test_a_bad_shard_is_refused_before_any_request(
    shard: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        select("all", "all", shard)


def test_each_shard_has_a_fingerprint_of_its_own_and_no_shard_keeps_the_old_one() -> None:
    def plan(shard: tuple[int, int] | None) -> Plan:
        return Plan(
            selection=select("all", "all", shard),
            start=T0,
            end=T0 + timedelta(days=1),
            step=timedelta(minutes=1),
            sink="sqlite:/tmp/x.db#points",
        )

    assert "shard" not in plan(None).describe()
    assert plan((1, 4)).describe()["shard"] == "1/4"
    prints = {plan(s).fingerprint() for s in (None, (0, 4), (1, 4), (0, 2))}
    assert len(prints) == 4
    assert str(Shard(1, 4)) == "1/4"


# -- backfills ---------------------------------------------------------------------------------


def client_of(sim: ScoutSimulator) -> ScoutClient:
    http = sim.http_client()
    return ScoutClient(api_key=KEY, base_url="https://sim.test/api/v0", http_client=http)


def sqlite_rows(path: Path) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT app_id, metric, time, value FROM points ORDER BY 1, 2, 3"))


@pytest.mark.parametrize("metrics", ["all", ["apdex", "errors", "throughput"]])
async def test_sharded_backfills_add_up_to_the_whole(metrics: Any, tmp_path: Path) -> None:
    sim = ScoutSimulator(api_key=KEY, now=SIM_NOW)
    async with client_of(sim) as client:
        whole = await client.backfill(apps="all", metrics=metrics, **WINDOW, sink=tmp_path / "a.db")
        parts = [
            await client.backfill(
                apps="all",
                metrics=metrics,
                **WINDOW,
                sink=tmp_path / "b.db",
                checkpoint=tmp_path / f"b.{i}.json",
                shard=(i, 3),
            )
            for i in range(3)
        ]
    keys = [(s.app_id, s.metric) for s in whole.series]
    for i, part in enumerate(parts):
        assert part.ok
        assert [(s.app_id, s.metric) for s in part.series] == [
            key for key in keys if shard_of(key, 3) == i
        ]
    assert sum(part.points for part in parts) == whole.points
    assert sqlite_rows(tmp_path / "b.db") == sqlite_rows(tmp_path / "a.db")
    # Each shard's checkpoint names its shard.
    shards = [json.loads((tmp_path / f"b.{i}.json").read_text())["plan"]["shard"] for i in range(3)]
    assert shards == ["0/3", "1/3", "2/3"]


async def test_a_shard_lists_an_unlisted_app_again_keeping_only_its_own_series(
    tmp_path: Path,
) -> None:
    sim = ScoutSimulator(api_key=KEY, now=SIM_NOW)
    sim.add_fault(Fault(path="/apps/102/metrics", status=500, times=None))
    state = tmp_path / "state.json"
    job: dict[str, Any] = {"apps": "all", "metrics": "all", **WINDOW, "shard": (1, 3)}
    async with client_of(sim) as client:
        first = await client.backfill(**job, sink=SqliteSink(tmp_path / "p.db"), checkpoint=state)
        assert not first.ok
        assert (102, "*") in {(s.app_id, s.metric) for s in first.series}
        sim.clear_faults()
        again = await client.backfill(**job, sink=SqliteSink(tmp_path / "p.db"), checkpoint=state)
        offered = {(102, metric) for metric in await client.metrics.list(102)}
    assert again.ok
    listed = {(s.app_id, s.metric) for s in again.series if s.app_id == 102}
    assert listed == {key for key in offered if shard_of(key, 3) == 1}
    assert 0 < len(listed) < len(offered)
