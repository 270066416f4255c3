"""Backfill benchmark: 5 apps x 6 metrics x 30 days at 5 min, concurrency 32, 20 ms latency.

Compared side by side with the same job written by hand with plain httpx and a semaphore (same
request windows, JSON parsed, rows written to one JSONL file per series in time order).
"""

from __future__ import annotations

import json
import math
import resource
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

APPS = [101, 102, 103, 104, 105]
METRICS = ["apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time"]
LATENCY = 0.02
CONCURRENCY = 32
KEY = "sim-key"


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def _window() -> tuple[datetime, datetime]:
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)
    return end - timedelta(days=30), end


async def _scout_async(url: str, out: Path) -> dict[str, Any]:
    import scout_async

    start, end = _window()
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    async with scout_async.ScoutClient(
        api_key=KEY, base_url=url, max_concurrency=CONCURRENCY
    ) as client:
        result = await client.backfill(
            apps=APPS, metrics=METRICS, start=start, end=end, resolution="5m", sink=out
        )
        requests = client.stats.requests
        peak = client.stats.peak_in_flight
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    assert not result.failed, result.failed
    return {
        "wall": wall,
        "requests": requests,
        "points": result.points,
        "cpu": cpu1 - cpu0,
        "rss_kib": rss,
        "peak": peak,
    }


async def _by_hand(url: str, out: Path) -> dict[str, Any]:
    import anyio
    import httpx

    from scout_async import plan_range

    start, end = _window()
    chunks = plan_range(start, end, "5m")
    limit = anyio.Semaphore(CONCURRENCY)
    rows: dict[tuple[int, str], list[tuple[str, float]]] = {}
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    requests = 0
    async with httpx.AsyncClient(
        headers={"X-SCOUT-API": KEY},
        limits=httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY),
        timeout=30,
    ) as http:

        async def one(app: int, metric: str, frm: datetime, to: datetime) -> None:
            nonlocal requests
            params = {"from": f"{frm:%Y-%m-%dT%H:%M:%SZ}", "to": f"{to:%Y-%m-%dT%H:%M:%SZ}"}
            async with limit:
                response = await http.get(f"{url}/apps/{app}/metrics/{metric}", params=params)
                requests += 1
            response.raise_for_status()
            series = response.json()["results"]["series"][metric]
            rows.setdefault((app, metric), []).extend(
                (t, v) for t, v in series if frm <= datetime.fromisoformat(t[:-1] + "+00:00") < to
            )

        async with anyio.create_task_group() as tg:
            for app in APPS:
                for metric in METRICS:
                    for chunk in chunks:
                        tg.start_soon(one, app, metric, chunk.owned_start, chunk.owned_end)
    points = _write_by_hand(out, rows)
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    return {
        "wall": wall,
        "requests": requests,
        "points": points,
        "cpu": cpu1 - cpu0,
        "rss_kib": rss,
    }


def _write_by_hand(out: Path, rows: dict[tuple[int, str], list[tuple[str, float]]]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    points = 0
    for (app, metric), values in rows.items():
        values.sort()
        with open(out / f"{app}-{metric}.jsonl", "w") as f:
            for t, v in values:
                f.write(json.dumps({"app_id": app, "metric": metric, "time": t, "value": v}) + "\n")
                points += 1
    return points


def run_child(scenario: str, args: list[str]) -> dict[str, Any]:
    import anyio

    url, out = args
    job = _scout_async if scenario == "backfill" else _by_hand
    return anyio.run(job, url, Path(out))


def report(tmp: Path) -> None:
    from common import child, server

    with server(LATENCY) as srv:
        ours = child("backfill", srv.url, str(tmp / "ours"))
        hand = child("by-hand", srv.url, str(tmp / "hand"))
    for name, r in (("scout_async backfill", ours), ("plain httpx + semaphore", hand)):
        ideal = math.ceil(r["requests"] / CONCURRENCY) * LATENCY
        print(
            f"\n{name}: 5 apps x 6 metrics x 30 d @5m, concurrency {CONCURRENCY}, latency "
            f"{LATENCY * 1000:.0f} ms: {r['requests']} requests, {r['points']} points, "
            f"wall {r['wall']:.2f} s (ideal {ideal:.2f} s, efficiency {ideal / r['wall']:.2f}), "
            f"{r['requests'] / r['wall']:.0f} requests/s, client CPU "
            f"{1000 * r['cpu'] / r['requests']:.2f} s per 1,000 requests, "
            f"peak RSS {r['rss_kib'] / 1024:.1f} MiB"
        )
