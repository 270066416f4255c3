"""A fake Scout for backfill and poll tests, and a script running a backfill against it.

The script is the victim of the SIGKILL test: it backfills into SINK with CHECKPOINT, slowly,
until the test kills it: ``python -m tests.bulk.backfill_worker SINK CHECKPOINT LATENCY [URL]``,
against this fake in its own process (LATENCY seconds per request), or against a running
simulator at URL.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import json
import math
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import anyio
import attrs
import httpx

from scout_async import APP_METRICS, Point, ScoutClient, plan_range
from scout_async._series.steps import ceil_to_grid, floor_to_grid, step_for_window
from scout_async._time import parse_time

BASE_URL = "https://scout.test/api/v0"
SECRET = "sk-live-S3CR3T-0123456789"
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)

# The job the worker runs (and the tests compare against).
WORKER_APPS = [101, 102, 103]
WORKER_METRICS = ["apdex", "errors", "throughput"]
WORKER_START = T0 + timedelta(minutes=7, seconds=30)
WORKER_END = T0 + timedelta(days=1, hours=5, minutes=3)


def value(app_id: int, metric: str, t: datetime, step: timedelta) -> float | None:
    """A deterministic value per series and bucket; ``None`` now and then (Scout's nulls)."""
    minutes = int(t.timestamp() // 60)
    if minutes % 97 == 13:
        return None
    index = APP_METRICS.index(metric) if metric in APP_METRICS else 7
    wave = 40 * math.sin(minutes / 97.0)
    return round(100 + wave + app_id + index / 10 + step.total_seconds() / 6000, 4)


def has_point(t: datetime) -> bool:
    """Scout leaves some buckets out altogether."""
    return int(t.timestamp() // 60) % 89 != 7


def expected(
    app_id: int, metric: str, start: datetime, end: datetime, step: timedelta
) -> list[Point]:
    """The points of a series over the buckets overlapping ``[start, end)``."""
    t, out = floor_to_grid(start, step), []
    while t < ceil_to_grid(end, step):
        if has_point(t):
            out.append(Point(t, value(app_id, metric, t, step)))
        t += step
    return out


@attrs.define
class Fault:
    """Make matching requests fail: ``skip`` of them pass, the next ``times`` (None: all) fail.

    One effect: ``status`` (with ``retry_after``), ``drop`` (the connection breaks) or ``hang``
    (the request waits until the event is set, then answers normally).
    """

    path: str = "*"
    times: int | None = 1
    skip: int = 0
    status: int | None = None
    retry_after: str | None = None
    drop: bool = False
    hang: anyio.Event | None = None
    seen: int = 0
    hits: int = 0

    def take(self, path: str) -> bool:
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.seen < self.skip:
            self.seen += 1
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True


@attrs.define
class Request:
    at: float
    path: str
    start: datetime | None
    end: datetime | None
    status: int
    done_at: float | None = None


class FakeScout:
    """``/apps``, ``/apps/{id}/metrics`` and ``/apps/{id}/metrics/{m}?from&to`` as an
    ``httpx.MockTransport`` handler: steps picked from the window length, on the epoch grid."""

    def __init__(
        self,
        *,
        apps: Sequence[int] = (101, 102, 103),
        metrics: dict[int, list[str]] | None = None,
        inclusive_end: bool = True,
        latency: float = 0.0,
        clock: Callable[[], float] = anyio.current_time,
    ) -> None:
        self.apps = list(apps)
        self.metrics = metrics or {}
        self.inclusive_end = inclusive_end
        self.latency = latency
        self.clock = clock
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.in_flight = 0
        self.peak_in_flight = 0

    def add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def client(self, **kwargs: Any) -> ScoutClient:
        return ScoutClient(
            api_key=SECRET, base_url=BASE_URL, http_client=self.http_client(), **kwargs
        )

    def data_requests(self) -> list[Request]:
        return [r for r in self.requests if r.start is not None]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        path = url.path.removeprefix("/api/v0")
        query = parse_qs(url.query)
        record = Request(self.clock(), path, None, None, 200)
        if "from" in query:
            record.start = parse_time(query["from"][0])
            record.end = parse_time(query["to"][0])
        self.requests.append(record)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency:
                await anyio.sleep(self.latency)
            fault = next((f for f in self.faults if f.take(path)), None)
            if fault is not None:
                if fault.drop:
                    record.status = 0
                    raise httpx.RemoteProtocolError("peer closed connection", request=request)
                if fault.hang is not None:
                    await fault.hang.wait()
                elif fault.status is not None:
                    record.status = fault.status
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    body = envelope({}, fault.status, "injected")
                    return httpx.Response(fault.status, json=body, headers=headers)
            return httpx.Response(200, json=envelope(self.answer(path, record)))
        finally:
            self.in_flight -= 1
            record.done_at = self.clock()

    def answer(self, path: str, record: Request) -> Any:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["apps"]:
            return {"apps": [{"id": a, "name": f"App {a}"} for a in self.apps]}
        app_id = int(parts[1])
        if len(parts) == 3:
            return {"availableMetrics": self.metrics.get(app_id, list(APP_METRICS))}
        metric = parts[3]
        assert record.start is not None
        assert record.end is not None
        step = step_for_window(record.end - record.start)
        points = []
        t = floor_to_grid(record.start, step)
        while t < record.end or (self.inclusive_end and t == record.end):
            if has_point(t):
                points.append([t.strftime("%Y-%m-%dT%H:%M:%SZ"), value(app_id, metric, t, step)])
            t += step
        return {"summaries": {metric: 1.0}, "series": {metric: points}}


def envelope(results: Any, code: int = 200, message: str = "OK") -> dict[str, Any]:
    return {
        "header": {"status": {"code": code, "message": message}, "apiVersion": "0.1"},
        "results": results,
    }


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
        return [(r["app_id"], r["metric"], r["time"], r["value"]) for r in table.to_pylist()]
    assert path.is_dir(), path
    return [
        _json_row(line)
        for file in sorted(path.glob("*.jsonl"))
        for line in file.read_text().splitlines()
    ]


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
    """The worker's job, against the in-process fake, or the simulator at ``url``."""
    if url is None:
        client = FakeScout(latency=latency).client(max_concurrency=4)
    else:
        client = ScoutClient(api_key="sim-key", base_url=url, max_concurrency=4)
    async with client:
        await client.backfill(
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
