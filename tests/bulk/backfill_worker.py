"""The simulated account of the backfill and poll tests, helpers to read what a sink wrote, and a
script running a backfill against the simulator.

The script is the victim of the SIGKILL test: it backfills into SINK with CHECKPOINT, slowly,
until the test kills it: ``python -m tests.bulk.backfill_worker SINK CHECKPOINT LATENCY [URL]``,
against the account in its own process (in-process, LATENCY seconds per request), or against the
simulator a test serves at URL.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio

from scout_async import Point, ScoutClient, plan_range
from scout_async._time import parse_time
from scout_async.testing import RecordedRequest, ScoutSimulator

BASE_URL = "https://scout.test/api/v0"
SECRET = "sk-live-S3CR3T-0123456789"
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
# The simulator's clock: every window of these tests has ended by then, and none is older than
# its 30 days of retention.
SIM_NOW = datetime(2026, 3, 3, 12, 0, 11, tzinfo=timezone.utc)
# Scout may leave a bucket out or send it as null (quirk 9): about one bucket in a hundred each.
MISSING = 0.012
NULLS = 0.01

# The job the worker runs (and the tests compare against).
WORKER_APPS = [101, 102, 103]
WORKER_METRICS = ["apdex", "errors", "throughput"]
WORKER_START = T0 + timedelta(minutes=7, seconds=30)
WORKER_END = T0 + timedelta(days=1, hours=5, minutes=3)


def simulator(
    apps: Sequence[int] = (101, 102, 103),
    metrics: dict[int, list[str]] | None = None,
    **kwargs: Any,
) -> ScoutSimulator:
    """The account of these tests: ``apps`` (named ``App <id>``), listing ``metrics`` per app
    (all by default), with gaps of both kinds; ``kwargs`` go to ``ScoutSimulator``."""
    return ScoutSimulator(
        api_key=SECRET,
        apps=[(app_id, f"App {app_id}") for app_id in apps],
        metrics=metrics,
        now=SIM_NOW,
        missing=MISSING,
        nulls=NULLS,
        **kwargs,
    )


def client_of(sim: ScoutSimulator, **kwargs: Any) -> ScoutClient:
    """A client of ``sim`` in-process (``sim.http_client()``); ``kwargs`` go to the client."""
    return ScoutClient(api_key=SECRET, base_url=BASE_URL, http_client=sim.http_client(), **kwargs)


# What the account's series hold: the simulator's own data, for the tests' expectations.
REFERENCE = simulator()


def expected(
    app_id: int, metric: str, start: datetime, end: datetime, step: timedelta
) -> list[Point]:
    """The points of a series over the buckets overlapping ``[start, end)``."""
    points = REFERENCE.points(app_id, metric, start=start, end=end, step=step)
    return [Point(t, v) for t, v in points]


def data_requests(sim: ScoutSimulator) -> list[RecordedRequest]:
    """The requests ``sim`` answered that asked for a window of data (not a listing)."""
    return [r for r in sim.requests if "from" in r.query]


def window(request: RecordedRequest) -> tuple[datetime, datetime]:
    """The ``from`` and ``to`` a request sent."""
    return parse_time(request.query["from"]), parse_time(request.query["to"])


def api_path(request: RecordedRequest) -> str:
    """The path a request asked for, after ``/api/v0``."""
    return request.path.removeprefix("/api/v0")


Row = tuple[int, str, str, float | None]


def chunks_done(state: str | Path, start: datetime, end: datetime) -> int:
    """How many chunks a backfill checkpoint records as durable (0 without a state file)."""
    try:
        document = json.loads(Path(state).read_text())
    except (FileNotFoundError, ValueError):
        return 0
    ends = [chunk.owned_end for chunk in plan_range(start, end, "1m")]
    marks = [parse_time(e["done_until"]) for e in document["series"] if e["done_until"]]
    return sum(1 for mark in marks for owned_end in ends if owned_end <= mark)


def rows_of(app_id: int, metric: str, points: Sequence[Point]) -> list[Row]:
    return [(app_id, metric, p.time.strftime("%Y-%m-%dT%H:%M:%SZ"), p.value) for p in points]


def expected_rows(
    apps: Sequence[int], metrics: Sequence[str], start: datetime, end: datetime, step: timedelta
) -> list[Row]:
    """Every row of a backfill, sorted by (app, metric, time)."""
    return [
        row
        for app_id in sorted(apps)
        for metric in sorted(metrics)
        for row in rows_of(app_id, metric, expected(app_id, metric, start, end, step))
    ]


def read_rows(path: str | Path) -> list[Row]:
    """The rows of a sink's output, in the order they are stored (per-series files by name)."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return [_json_row(line) for line in path.read_text().splitlines()]
    if path.suffix == ".csv":
        lines = path.read_text().splitlines()
        assert lines[0] == "app_id,metric,time,value"
        return [_csv_row(line) for line in lines[1:]]
    if path.suffix in (".db", ".sqlite"):
        with contextlib.closing(sqlite3.connect(path)) as db:
            return [
                (a, m, t, v)
                for a, m, t, v in db.execute(
                    "SELECT app_id, metric, time, value FROM points ORDER BY app_id, metric, time"
                )
            ]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return [
            (r["app_id"], r["metric"], _wire_time(r["time"]), r["value"]) for r in table.to_pylist()
        ]
    assert path.is_dir(), path
    return [
        _json_row(line)
        for file in sorted(path.glob("*.jsonl"))
        for line in file.read_text().splitlines()
    ]


def _wire_time(time: str | datetime) -> str:
    """A stored time as the other sinks write it: a timestamp column reads back as a datetime."""
    if isinstance(time, datetime):
        return time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return time


def _json_row(line: str) -> Row:
    item = json.loads(line)
    assert list(item) == ["app_id", "metric", "time", "value"]
    return item["app_id"], item["metric"], item["time"], item["value"]


def _csv_row(line: str) -> Row:
    app_id, metric, time, raw = next(csv.reader([line]))
    return int(app_id), metric, time, None if raw == "" else float(raw)


def check_rows(rows: list[Row], want: list[Row]) -> None:
    """``rows`` hold each wanted row once, and each series' rows in time order."""
    assert len(rows) == len(set(rows)), "duplicate rows"
    series: dict[tuple[int, str], list[str]] = {}
    for app_id, metric, time, _ in rows:
        series.setdefault((app_id, metric), []).append(time)
    for key, times in series.items():
        assert times == sorted(times), f"{key} out of order"
    assert sorted(rows, key=_row_key) == want


def _row_key(row: Row) -> tuple[int, str, str]:
    return row[0], row[1], row[2]


async def run_worker(sink: str, checkpoint: str, latency: float, url: str | None) -> None:
    """The worker's job, against the account in-process, or the simulator at ``url``."""
    if url is None:
        scout = client_of(simulator(latency=latency), max_concurrency=4)
    else:
        scout = ScoutClient(api_key=SECRET, base_url=url, max_concurrency=4)
    async with scout:
        await scout.backfill(
            apps=WORKER_APPS,
            metrics=WORKER_METRICS,
            start=WORKER_START,
            end=WORKER_END,
            resolution="1m",
            sink=sink,
            checkpoint=checkpoint,
            checkpoint_every=0.0,
        )


if __name__ == "__main__":
    # python -m tests.bulk.backfill_worker SINK CHECKPOINT LATENCY [SIMULATOR_URL]
    arguments = sys.argv[1:]
    anyio.run(
        run_worker,
        arguments[0],
        arguments[1],
        float(arguments[2]),
        arguments[3] if len(arguments) > 3 else None,
    )
