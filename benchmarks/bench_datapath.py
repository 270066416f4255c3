"""Memory and latency of the data path (issue 11), each measurement in a fresh interpreter.

bytes        bytes held per point by a ``Series`` of 30 days at 1 minute (43,200 points, 720
             requests): what ``tracemalloc`` sees freed when the series is dropped, over its
             points; beside it the hand-written job's list of ``(datetime, float)``
             (goal: <= 24 bytes per point)
rss-get      peak RSS of ``metrics.get()`` for 30 series (5 apps x 6 metrics) x 30 days at
             1 minute (21,600 requests, 1,296,000 points held at once), default client
stream-rss   peak RSS of streaming 30 days vs 1 day at 1 minute to a file (goal: within 10 %),
             ``stream`` (points) and ``stream_batches`` (where the client has it)
first-point  time from the ``stream`` call to its first point, 30 days at 1 minute, default
             client, httpx and aiohttp (the ideal: one request, the latency)
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
import types
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from common import (
    child,
    cpu,
    floor_now,
    hand_client,
    hand_series,
    maxrss_kib,
    point_count,
    scout_client,
    server,
    windows,
)

HOUR = timedelta(hours=1)
LATENCY = 0.05
SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
RSS_LATENCY = 0.002  # rss-get: 21,600 requests; the memory held does not depend on latency
APPS = (101, 102, 103, 104, 105)
METRICS = ("apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time")


def _window(days: float) -> tuple[datetime, datetime]:
    end = floor_now(HOUR) - HOUR  # whole hours, every bucket closed
    return end - timedelta(days=days), end


def _held_arrays(series: Any) -> int | None:
    """Bytes of the columnar arrays (``series.times``, ``series.values``) where there are any."""
    times = getattr(series, "times", None)
    values = getattr(series, "values", None)
    if times is None or values is None:
        return None
    return memoryview(times).nbytes + memoryview(values).nbytes


def deep_size(root: object) -> int:
    """Bytes of ``root`` and of every object it holds (``sys.getsizeof`` each once; types,
    modules, functions and ``None`` left out: they are shared, not held)."""
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen or isinstance(obj, SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


async def _bytes(url: str, which: str) -> dict[str, Any]:
    start, end = _window(30)
    held: Any
    if which == "hand":
        async with hand_client(url, 16) as http:
            held = await hand_series(
                http, asyncio.Semaphore(16), 101, "response_time", windows(start, end, HOUR)
            )
        points, layout, arrays = len(held), "list[tuple[datetime, float]]", None
    else:
        async with scout_client(url, "default", 16) as (client, _how):
            held = await client.metrics.get(
                101, "response_time", start=start, end=end, resolution="1m"
            )
        points = len(held.points)
        layout = type(held.points).__name__
        arrays = _held_arrays(held)
    return {
        "points": points,
        "bytes_per_point": deep_size(held) / points,
        "arrays_per_point": None if arrays is None else arrays / points,
        "layout": layout,
    }


async def _rss_get(url: str) -> dict[str, Any]:
    start, end = _window(30)
    rss0 = maxrss_kib()
    cpu0 = cpu()
    t0 = time.perf_counter()
    async with scout_client(url, "default") as (client, how):
        series = await asyncio.gather(
            *(
                client.metrics.get(app, m, start=start, end=end, resolution="1m")
                for app in APPS
                for m in METRICS
            )
        )
        requests = client.stats.requests
        concurrency = client.max_concurrency
    wall = time.perf_counter() - t0
    used = cpu() - cpu0
    rss = maxrss_kib()
    return {
        "rss_kib": rss,
        "rss0_kib": rss0,
        "points": point_count(series),
        "requests": requests,
        "wall": wall,
        "cpu": used,
        "concurrency": concurrency,
        "how": how,
    }


async def _stream(url: str, days: float, mode: str, out: str) -> dict[str, Any]:
    start, end = _window(days)
    points = 0
    async with scout_client(url, "default", 16) as (client, _how):
        with open(out, "w") as sink:  # noqa: ASYNC230 - a plain blocking sink, as users write
            if mode == "batches":
                async for batch in client.metrics.stream_batches(
                    101, "response_time", start=start, end=end, resolution="1m"
                ):
                    times = getattr(batch, "times", None)
                    if times is None:  # before the columnar Series
                        for point in batch.points:
                            sink.write(f"{point.time:%Y-%m-%dT%H:%M:%SZ},{point.value}\n")
                    else:
                        for when, value in zip(times, batch.values, strict=True):
                            sink.write(f"{when},{value}\n")
                    points += len(batch.points)
            else:
                async for point in client.metrics.stream(
                    101, "response_time", start=start, end=end, resolution="1m"
                ):
                    sink.write(f"{point.time:%Y-%m-%dT%H:%M:%SZ},{point.value}\n")
                    points += 1
    return {"rss_kib": maxrss_kib(), "points": points}


async def _first(url: str, layout: str, mode: str) -> dict[str, Any]:
    start, end = _window(30)
    async with scout_client(url, layout) as (client, how):
        t0 = time.perf_counter()
        if mode == "batches":
            batches = client.metrics.stream_batches(
                101, "response_time", start=start, end=end, resolution="1m"
            )
            await batches.__anext__()
            first = time.perf_counter() - t0
            await batches.aclose()
        else:
            stream = client.metrics.stream(
                101, "response_time", start=start, end=end, resolution="1m"
            )
            await stream.__anext__()
            first = time.perf_counter() - t0
            await stream.aclose()
    return {"first": first, "how": how}


def run_child(scenario: str, args: list[str]) -> dict[str, Any]:
    if scenario == "bytes":
        return asyncio.run(_bytes(args[0], args[1]))
    if scenario == "rss-get":
        return asyncio.run(_rss_get(args[0]))
    if scenario == "stream":
        return asyncio.run(_stream(args[0], float(args[1]), args[2], args[3]))
    return asyncio.run(_first(args[0], args[1], args[2]))


def _has_batches() -> bool:
    """Whether the client has ``metrics.stream_batches`` (the columnar data path)."""
    try:
        from scout_async._resources.metrics import Metrics
    except ImportError:
        return False
    return hasattr(Metrics, "stream_batches")


def report_bytes() -> None:
    with server(LATENCY) as srv:
        ours = child("bytes", srv.url, "ours")
        hand = child("bytes", srv.url, "hand")
    arrays = ours["arrays_per_point"]
    print(
        f"\nbytes held per point, a Series of 30 d at 1 min ({ours['points']:,} points): "
        f"scout_async {ours['bytes_per_point']:.1f} B (points held as {ours['layout']}"
        + (f"; its times and values arrays {arrays:.1f} B" if arrays is not None else "")
        + f"), hand-written list of (datetime, float) {hand['bytes_per_point']:.1f} B; "
        "goal <= 24 B"
    )


def report_rss_get() -> None:
    with server(RSS_LATENCY) as srv:
        r = child("rss-get", srv.url, srv=srv)
    above = (r["rss_kib"] - r["rss0_kib"]) * 1024 / r["points"]
    print(
        f"\npeak RSS of metrics.get(), 30 series x 30 d at 1 min ({r['points']:,} points held, "
        f"{r['requests']:,} requests, max_concurrency {r['concurrency']}, latency "
        f"{RSS_LATENCY * 1000:.0f} ms): {r['rss_kib'] / 1024:.1f} MiB "
        f"({r['rss0_kib'] / 1024:.1f} MiB after imports, {above:.1f} B per point above that); "
        f"wall {r['wall']:.1f} s, client CPU {1e6 * r['cpu'] / r['requests']:,.0f} µs per request"
    )


def report_stream_rss(tmp: Path) -> None:
    modes = ["points", "batches"] if _has_batches() else ["points"]
    with server(LATENCY) as srv:
        for mode in modes:
            one = child("stream", srv.url, 1, mode, tmp / f"{mode}-1.csv")
            thirty = child("stream", srv.url, 30, mode, tmp / f"{mode}-30.csv")
            name = "stream" if mode == "points" else "stream_batches"
            print(
                f"\n{name} to a file at 1 min, peak RSS: 1 d {one['rss_kib'] / 1024:.1f} MiB "
                f"({one['points']:,} points), 30 d {thirty['rss_kib'] / 1024:.1f} MiB "
                f"({thirty['points']:,} points): ratio {thirty['rss_kib'] / one['rss_kib']:.3f} "
                "(goal <= 1.10)"
            )


def report_first_point(runs: int, layouts: list[str]) -> None:
    modes = ["points", "batches"] if _has_batches() else ["points"]
    with server(LATENCY) as srv:
        cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for _ in range(runs):
            for layout in layouts:
                for mode in modes:
                    try:
                        r = child("first", srv.url, layout, mode)
                    except RuntimeError as exc:
                        r = {"error": str(exc).strip().splitlines()[-1]}
                    cells.setdefault((layout, mode), []).append(r)
    parts = []
    for (layout, mode), results in cells.items():
        ok = [r["first"] for r in results if "error" not in r]
        name = "stream" if mode == "points" else "stream_batches"
        value = f"{1000 * statistics.median(ok):.0f} ms" if ok else "n/a"
        parts.append(f"{name} ({layout}) {value}")
    print(
        f"\ntime to first point, 30 d at 1 min, default client, latency {LATENCY * 1000:.0f} ms "
        f"(ideal: one request, {LATENCY * 1000:.0f} ms), medians of {runs}: " + "; ".join(parts)
    )
