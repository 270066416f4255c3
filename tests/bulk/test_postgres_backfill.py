"""Backfills and archives into a real PostgreSQL server (tests/pg_server.py), in processes of
their own: killed with SIGKILL and resumed, split into shards that run at once, two archives
writing the same rows at once. Whatever happens, the table ends up as one uninterrupted run's."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from scout_async import ScoutClient
from scout_async._bulk.selection import shard_of
from scout_async._series.planner import plan_range
from scout_async.sinks import SqliteSink
from scout_async.testing import ScoutSimulator, SimulatorServer
from tests.bulk.pg_worker import JOB, KEY, SIM_NOW
from tests.pg_server import PASSWORD, pg_server, pg_url, query, rows

__all__ = ["pg_server", "pg_url"]  # the fixtures, used by name

ROOT = Path(__file__).resolve().parents[2]
SIM_URL = "https://sim.test/api/v0"
SERIES = [(a, m) for a in JOB["apps"] for m in JOB["metrics"]]


def simulator(latency: float = 0.0) -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=SIM_NOW, missing=0.012, nulls=0.01, latency=latency)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The rows of ``JOB`` backfilled without interruption (into SQLite)."""
    path = tmp_path_factory.mktemp("reference") / "ref.db"
    sim = simulator()

    async def main() -> None:
        http = sim.http_client()
        async with ScoutClient(api_key=KEY, base_url=SIM_URL, http_client=http) as c:
            assert (await c.backfill(**JOB, sink=SqliteSink(path))).ok

    anyio.run(main)
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT app_id, metric, time, value FROM points ORDER BY 1, 2, 3"))


@pytest.fixture
def served() -> Iterator[tuple[ScoutSimulator, str]]:
    sim = simulator(latency=0.02)
    with SimulatorServer(sim) as server:
        yield sim, server.url


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    assert PASSWORD not in out + err
    return out


def checkpoint(url: str) -> dict[str, Any] | None:
    found = query(url, "SELECT to_regclass('points_checkpoints')")
    if found[0][0] is None:
        return None
    documents = query(url, "SELECT document FROM points_checkpoints")
    assert len(documents) <= 1
    return dict(documents[0][0]) if documents else None  # type: ignore[call-overload]


def durable_chunks(document: dict[str, Any] | None) -> int:
    if document is None:
        return 0
    ends = [c.owned_end.strftime("%Y-%m-%dT%H:%M:%SZ") for c in plan_range(**_window())]
    marks = [s["done_until"] for s in document["series"] if s["done_until"]]
    return sum(1 for mark in marks for end in ends if end <= mark)


def _window() -> dict[str, Any]:
    return {"start": JOB["start"], "end": JOB["end"], "resolution": JOB["resolution"]}


def covered(document: dict[str, Any], wanted: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of ``wanted`` that ``document`` says are durable."""
    marks = {(s["app_id"], s["metric"]): s["done_until"] for s in document["series"]}
    return [r for r in wanted if marks.get((r[0], r[1])) and r[2] < marks[(r[0], r[1])]]


def test_killed_with_sigkill_then_resumed(
    pg_url: str, served: tuple[ScoutSimulator, str], reference: list[tuple[Any, ...]]
) -> None:
    sim, url = served
    chunks = len(plan_range(**_window())) * len(SERIES)
    victim = worker("-m", "tests.bulk.pg_worker", pg_url, url)
    try:
        deadline = time.monotonic() + 120
        while durable_chunks(checkpoint(pg_url)) < chunks // 4:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.02)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    # The table holds exactly what the checkpoint says: rows and checkpoint commit together.
    document = checkpoint(pg_url)
    assert document is not None
    done = durable_chunks(document)
    assert chunks // 4 <= done < chunks
    assert rows(pg_url) == covered(document, reference)
    before = sum(1 for r in sim.requests if "/metrics/" in r.path)
    assert finish(worker("-m", "tests.bulk.pg_worker", pg_url, url)).startswith("ok")
    fetched = sum(1 for r in sim.requests if "/metrics/" in r.path) - before
    assert rows(pg_url) == reference
    assert fetched == chunks - done  # nothing durable was fetched again


def test_shards_split_the_series_and_fill_one_database_at_once(
    pg_url: str, served: tuple[ScoutSimulator, str], reference: list[tuple[Any, ...]]
) -> None:
    sim, url = served
    shards = [worker("-m", "tests.bulk.pg_worker", pg_url, url, str(i), "3") for i in range(3)]
    outputs = [finish(shard) for shard in shards]
    assert rows(pg_url) == reference
    assert all(out.startswith("ok") for out in outputs)
    # One checkpoint per shard, each holding exactly the series of its shard.
    documents = [dict(d) for (d,) in query(pg_url, "SELECT document FROM points_checkpoints")]  # type: ignore[call-overload]
    assert len(documents) == 3
    held: dict[str, set[tuple[int, str]]] = {}
    for document in documents:
        shard = document["plan"]["shard"]
        held[shard] = {(s["app_id"], s["metric"]) for s in document["series"]}
    assert held == {f"{i}/3": {key for key in SERIES if shard_of(key, 3) == i} for i in range(3)}
    # Each series was fetched by one shard only: the requests are those of one full run.
    requests = [r.path for r in sim.requests if "/metrics/" in r.path]
    assert len(requests) == len(plan_range(**_window())) * len(SERIES)


def test_two_archives_writing_the_same_rows_at_once(
    pg_url: str, served: tuple[ScoutSimulator, str], tmp_path: Path
) -> None:
    sim, url = served
    archivers = [worker("-m", "tests.bulk.pg_archiver", pg_url, url) for _ in range(2)]
    outputs = [finish(archiver) for archiver in archivers]
    for out in outputs:
        written, errors = out.split()
        assert int(errors) == 0
        assert int(written) > 0
    marks = query(pg_url, "SELECT app_id, metric, step_seconds, until FROM points_watermarks")
    assert len(marks) == len(SERIES)
    ends = {until for _, _, _, until in marks}
    assert len(ends) == 1  # every series is complete up to the same horizon
    (end,) = ends
    # What both wrote is one uninterrupted backfill of the archive's window.
    start = min(t for (t,) in query(pg_url, "SELECT min(time) FROM points"))  # type: ignore[type-var]
    path = tmp_path / "ref.db"

    async def main() -> None:
        http = sim.http_client()
        async with ScoutClient(api_key=KEY, base_url=SIM_URL, http_client=http) as c:
            window: dict[str, Any] = {"start": start, "end": end, "resolution": "1m"}
            result = await c.backfill(
                apps=JOB["apps"], metrics=JOB["metrics"], **window, sink=SqliteSink(path)
            )
            assert result.ok

    anyio.run(main)
    with sqlite3.connect(path) as db:
        want = list(db.execute("SELECT app_id, metric, time, value FROM points ORDER BY 1, 2, 3"))
    assert rows(pg_url) == want
    (count, distinct) = query(
        pg_url, "SELECT count(*), count(DISTINCT (app_id, metric, time)) FROM points"
    )[0]
    assert count == distinct == len(want)
