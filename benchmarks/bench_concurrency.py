"""The data-path sweep (issues 11 and 17): one bulk job at 8, 16, 32 and 64 in flight.

The job: 6 apps x 6 metrics, 14 days each at 5 minutes: 36 series of 28 twelve-hour requests,
1,008 requests, 50 ms latency. Side by side in one run, each measurement in a fresh interpreter
running only the client:

* the hand-written httpx job: ``httpx.AsyncClient`` (pool sized to the concurrency), an
  ``asyncio.Semaphore``, ``json.loads`` and a ``datetime`` per point, seams dropped;
* with ``--hand-python`` (``nox -s bench`` passes one), the same job in an environment of
  ``pip install httpx`` alone, as its author would run it: no sniffio there (anyio no longer
  brings it), so httpcore's every ``current_async_library()`` is a failed import (issue 17),
  and no click or rich for ``import httpx`` to load;
* issue 11's prototype, rebuilt as a reference: the same job on httpx-aiohttp's transport
  with ``msgspec`` and columns, no checks (``_prototype``);
* ``scout_async`` on its default path (httpx) and on the aiohttp transport (and on one httpx pool
  of ``max_concurrency`` with ``--http one-pool``): ``asyncio.gather`` of the 36
  ``client.metrics.get(..., resolution="5m")`` with ``max_concurrency`` set to the concurrency.

Client CPU per request (``getrusage(RUSAGE_SELF)`` in the child, user + system, the client's
imports, creation and closing included) and wall efficiency against the ideal
``ceil(requests / concurrency) x latency``; medians of ``--runs`` runs (the jobs interleaved
within each run).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from array import array
from datetime import datetime, timedelta
from typing import Any

from common import (
    HAND_PYTHON,
    KEY,
    Server,
    child,
    cpu,
    floor_now,
    hand_client,
    hand_series,
    point_count,
    scout_client,
    server,
    windows,
)

APPS = (101, 102, 103, 104, 105, 106)
METRICS = ("apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time")
DAYS = 14
CHUNK = timedelta(hours=12)  # the longest window Scout answers at 5 minutes
LATENCY = 0.05
CONCURRENCIES = (8, 16, 32, 64)
HAND = "hand-written httpx job"
HAND_BARE = "hand-written httpx job, `pip install httpx` alone (no sniffio)"
PROTOTYPE = "prototype job (httpx-aiohttp, msgspec, columns)"


def _window() -> tuple[datetime, datetime]:
    end = floor_now(CHUNK) - CHUNK
    return end - timedelta(days=DAYS), end


async def _hand(url: str, concurrency: int) -> dict[str, Any]:
    start, end = _window()
    plan = windows(start, end, CHUNK)
    cpu0 = cpu()
    t0 = time.perf_counter()
    limit = asyncio.Semaphore(concurrency)
    async with hand_client(url, concurrency) as http:
        series = await asyncio.gather(
            *(hand_series(http, limit, app, m, plan) for app in APPS for m in METRICS)
        )
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "cpu": cpu() - cpu0,
        "requests": len(plan) * len(series),
        "points": point_count(series),
    }


async def _prototype(url: str, concurrency: int) -> dict[str, Any]:
    """Issue 11's prototype, rebuilt by hand as a reference: the hand-written job on httpx-aiohttp's
    transport, ``msgspec`` and columns (the first two times parsed, the rest taken as a grid).
    It checks nothing, retries nothing and plans nothing: a reference for this machine, not
    a client. Its imports are counted, as the other jobs' are."""
    start, end = _window()
    plan = windows(start, end, CHUNK)
    cpu0 = cpu()
    t0 = time.perf_counter()
    import httpx
    import httpx_aiohttp
    import msgspec

    decode = msgspec.json.Decoder().decode
    limit = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(
        http: Any, app: int, metric: str, frm: datetime, to: datetime
    ) -> tuple[array[int], array[float]]:
        params = {"from": f"{frm:%Y-%m-%dT%H:%M:%SZ}", "to": f"{to:%Y-%m-%dT%H:%M:%SZ}"}
        async with limit:
            response = await http.get(f"/apps/{app}/metrics/{metric}", params=params)
        response.raise_for_status()
        raw = decode(response.content)["results"]["series"][metric]
        texts, values = zip(*raw, strict=True)
        first = int(datetime.fromisoformat(texts[0].replace("Z", "+00:00")).timestamp())
        second = int(datetime.fromisoformat(texts[1].replace("Z", "+00:00")).timestamp())
        step = second - first
        owned = min(len(texts), math.ceil((to.timestamp() - first) / step))
        times = array("q", range(first, first + owned * step, step))
        return times, array("d", [math.nan if v is None else v for v in values[:owned]])

    async with httpx_aiohttp.HttpxAiohttpClient(
        base_url=url, headers={"X-SCOUT-API": KEY}, limits=limits, timeout=30
    ) as http:

        async def series(app: int, metric: str) -> list[tuple[array[int], array[float]]]:
            return await asyncio.gather(*(one(http, app, metric, f, t) for f, t in plan))

        out = await asyncio.gather(*(series(app, m) for app in APPS for m in METRICS))
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "cpu": cpu() - cpu0,
        "requests": len(plan) * len(out),
        "points": sum(len(times) for parts in out for times, _ in parts),
    }


async def _ours(url: str, concurrency: int, layout: str) -> dict[str, Any]:
    start, end = _window()
    cpu0 = cpu()
    t0 = time.perf_counter()
    async with scout_client(url, layout, concurrency) as (client, how):
        series = await asyncio.gather(
            *(
                client.metrics.get(app, m, start=start, end=end, resolution="5m")
                for app in APPS
                for m in METRICS
            )
        )
        requests = client.stats.requests
        peak = client.stats.peak_in_flight
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "cpu": cpu() - cpu0,
        "requests": requests,
        "points": point_count(series),
        "peak_in_flight": peak,
        "how": how,
    }


def run_child(scenario: str, args: list[str]) -> dict[str, Any]:
    url, concurrency = args[0], int(args[1])
    if scenario == "sweep-hand":
        return asyncio.run(_hand(url, concurrency))
    if scenario == "sweep-prototype":
        return asyncio.run(_prototype(url, concurrency))
    return asyncio.run(_ours(url, concurrency, args[2]))


def _job(srv: Server, name: str, concurrency: int) -> dict[str, Any]:
    if name == HAND:
        return child("sweep-hand", srv.url, concurrency, srv=srv)
    if name == HAND_BARE:
        return child("sweep-hand", srv.url, concurrency, srv=srv, python=HAND_PYTHON)
    if name == PROTOTYPE:
        try:
            return child("sweep-prototype", srv.url, concurrency, srv=srv)
        except RuntimeError as exc:  # httpx-aiohttp or msgspec missing
            return {"error": str(exc).strip().splitlines()[-1]}
    layout = name.split("(")[1].rstrip(")")
    try:
        return child("sweep-ours", srv.url, concurrency, layout, srv=srv)
    except RuntimeError as exc:  # a layout this environment cannot run (aiohttp missing)
        last = str(exc).strip().splitlines()[-1]
        return {"error": last}


def report(runs: int, layouts: list[str], concurrencies: list[int]) -> dict[str, Any]:
    names = [HAND] + ([HAND_BARE] if HAND_PYTHON else []) + [PROTOTYPE]
    names += [f"scout_async ({layout})" for layout in layouts]
    cells: dict[str, dict[int, list[dict[str, Any]]]] = {
        n: {c: [] for c in concurrencies} for n in names
    }
    with server(LATENCY) as srv:
        for _ in range(runs):
            for concurrency in concurrencies:
                for name in names:
                    cells[name][concurrency].append(_job(srv, name, concurrency))
    medians = {n: {c: _median(rs, c) for c, rs in by_c.items()} for n, by_c in cells.items()}
    _print_table(runs, names, concurrencies, medians, srv)
    return medians


def _median(results: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return {"error": results[0]["error"] if results else "no run"}
    ideal = math.ceil(ok[0]["requests"] / concurrency) * LATENCY
    out: dict[str, Any] = {
        "cpu_us": statistics.median(1e6 * r["cpu"] / r["requests"] for r in ok),
        "efficiency": statistics.median(ideal / r["wall"] for r in ok),
        "wall": statistics.median(r["wall"] for r in ok),
        "requests": ok[0]["requests"],
        "points": ok[0]["points"],
        "how": ok[0].get("how", ""),
    }
    server_cpu = [r["server_cpu"] / r["wall"] for r in ok if "server_cpu" in r]
    if server_cpu:
        out["server_load"] = max(server_cpu)  # cores the server kept busy, worst run
        out["server_us"] = statistics.median(
            1e6 * r["server_cpu"] / r["requests"] for r in ok if "server_cpu" in r
        )
    return out


def _print_table(
    runs: int,
    names: list[str],
    concurrencies: list[int],
    medians: dict[str, dict[int, dict[str, Any]]],
    srv: Server,
) -> None:
    hand = medians[HAND]
    print(
        f"\nsweep: 6 apps x 6 metrics x {DAYS} d at 5 min = 1,008 requests of 12 h, latency "
        f"{LATENCY * 1000:.0f} ms ({srv.kind}, {len(srv.pids)} process(es)); client CPU per "
        f"request (µs) / wall efficiency vs ideal ceil(requests/concurrency) x latency; "
        f"medians of {runs}; scout_async cells: (CPU ratio, wall ratio) to the hand-written job"
    )
    print("| job | " + " | ".join(f"{c} in flight" for c in concurrencies) + " |")
    print("|---|" + "---|" * len(concurrencies))
    for name in names:
        row = []
        for c in concurrencies:
            m = medians[name][c]
            if "error" in m:
                row.append("n/a")
                continue
            cell = f"{m['cpu_us']:,.0f} / {m['efficiency']:.2f}"
            if name != HAND and "error" not in hand[c]:
                cell += (
                    f" ({m['cpu_us'] / hand[c]['cpu_us']:.2f}x, {m['wall'] / hand[c]['wall']:.2f}x)"
                )
            row.append(cell)
        print(f"| {name} | " + " | ".join(row) + " |")
    print()
    for name in names:
        by_c = medians[name]
        ok = {c: m for c, m in by_c.items() if "error" not in m}
        if not ok:
            print(f"{name}: not run ({next(iter(by_c.values()))['error']})")
            continue
        knee = max((c for c, m in ok.items() if m["efficiency"] >= 0.85), default=None)
        first, last = min(ok), max(ok)
        growth = ok[last]["cpu_us"] / ok[first]["cpu_us"]
        how = next(iter(ok.values()))["how"]
        points = {m["points"] for m in ok.values()}
        print(
            f"{name}{f' [{how}]' if how else ''}: efficiency >= 0.85 up to "
            f"{knee if knee else 'none'} in flight; CPU per request at {last} / at {first}: "
            f"{growth:.2f}x; points {'/'.join(str(p) for p in sorted(points))}"
        )
    bare = medians.get(HAND_BARE)
    if bare is not None:
        for name in names:
            if name in (HAND, HAND_BARE) or any("error" in m for m in medians[name].values()):
                continue
            ratios = ", ".join(
                f"{c}: {medians[name][c]['cpu_us'] / bare[c]['cpu_us']:.2f}x"
                for c in concurrencies
                if "error" not in bare[c]
            )
            print(f"{name}, CPU against the job on `pip install httpx` alone: {ratios}")
    loads = [
        (m.get("server_us", 0.0), m.get("server_load", 0.0))
        for by_c in medians.values()
        for m in by_c.values()
        if "server_load" in m
    ]
    if loads:
        print(
            f"server: at most {max(u for u, _ in loads):,.0f} µs CPU per request and "
            f"{max(load for _, load in loads):.2f} cores busy over its {len(srv.pids)} "
            "process(es) (the bottleneck only near one core per process)"
        )
