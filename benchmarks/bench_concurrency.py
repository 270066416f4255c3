"""Concurrency sweep: 1,008 one-hour requests at 1 min (42 days) at 8, 16, 32 and 64 in flight.

Side by side in one run: ``scout_async`` (``client.metrics.get``: planned, ordered, parsed into a
``Series``) and the same requests by hand (plain httpx, a semaphore, ``response.json()``, httpx's
pool sized to the concurrency as such jobs are usually written). Each measurement runs in a fresh
interpreter; client CPU per request (user + system) and wall efficiency against the ideal
``ceil(requests / concurrency) x latency``.
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

KEY = "sim-key"
DAYS = 42
LATENCY = 0.05
CONCURRENCIES = (8, 16, 32, 64)


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _window() -> tuple[datetime, datetime]:
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=DAYS), end


async def _ours(url: str, concurrency: int, http: str) -> dict[str, Any]:
    import scout_async

    start, end = _window()
    cpu0 = _cpu()
    t0 = time.perf_counter()
    http_client: Any = None
    if http == "one-pool":  # the layout before issue 17: one httpx pool of `concurrency`
        import httpx

        size = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        http_client = httpx.AsyncClient(limits=size, timeout=30)
    elif http == "aiohttp":
        import httpx_aiohttp

        http_client = httpx_aiohttp.HttpxAiohttpClient(timeout=30)
    async with scout_async.ScoutClient(
        api_key=KEY, base_url=url, max_concurrency=concurrency, http_client=http_client
    ) as client:
        first: float | None = None
        points = 0
        async for _point in client.metrics.stream(
            101, "response_time", start=start, end=end, resolution="1m"
        ):
            if first is None:
                first = time.perf_counter() - t0
            points += 1
        requests = client.stats.requests
    if http_client is not None:
        await http_client.aclose()
    return {
        "wall": time.perf_counter() - t0,
        "cpu": _cpu() - cpu0,
        "requests": requests,
        "points": points,
        "first": first,
    }


async def _hand(url: str, concurrency: int) -> dict[str, Any]:
    import anyio
    import httpx

    start, _end = _window()
    hours = DAYS * 24
    limit = anyio.Semaphore(concurrency)
    cpu0 = _cpu()
    t0 = time.perf_counter()
    async with httpx.AsyncClient(
        headers={"X-SCOUT-API": KEY},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        timeout=30,
    ) as http:

        async def one(hour: int) -> None:
            frm = start + timedelta(hours=hour)
            to = frm + timedelta(hours=1)
            params = {"from": f"{frm:%Y-%m-%dT%H:%M:%SZ}", "to": f"{to:%Y-%m-%dT%H:%M:%SZ}"}
            async with limit:
                response = await http.get(f"{url}/apps/101/metrics/response_time", params=params)
            response.raise_for_status()
            response.json()

        async with anyio.create_task_group() as tg:
            for hour in range(hours):
                tg.start_soon(one, hour)
    return {"wall": time.perf_counter() - t0, "cpu": _cpu() - cpu0, "requests": hours}


def run_child(scenario: str, args: list[str]) -> dict[str, Any]:
    import anyio

    url, concurrency = args[0], int(args[1])
    if scenario == "sweep-hand":
        return anyio.run(_hand, url, concurrency)
    return anyio.run(_ours, url, concurrency, args[2])


def report(runs: int, transports: list[str]) -> None:
    from run import child, simulator

    rows: dict[str, dict[int, list[dict[str, Any]]]] = {}
    with simulator(LATENCY) as url:
        for concurrency in CONCURRENCIES:
            for _ in range(runs):
                rows.setdefault("hand-written httpx job", {}).setdefault(concurrency, []).append(
                    child("sweep-hand", url, str(concurrency))
                )
                for http in transports:
                    rows.setdefault(f"scout_async (http={http})", {}).setdefault(
                        concurrency, []
                    ).append(child("sweep-ours", url, str(concurrency), http))
    print(
        f"\n1,008 requests (42 d at 1 min, 1 h each), latency {LATENCY * 1000:.0f} ms; "
        f"CPU per request (µs) / wall efficiency vs ideal; medians of {runs}"
    )
    print("| job | " + " | ".join(str(c) for c in CONCURRENCIES) + " |")
    print("|---|" + "---|" * len(CONCURRENCIES))
    for name, by_conc in rows.items():
        cells = []
        for concurrency, results in by_conc.items():
            cpu = statistics.median(1e6 * r["cpu"] / r["requests"] for r in results)
            ideal = math.ceil(results[0]["requests"] / concurrency) * LATENCY
            eff = statistics.median(ideal / r["wall"] for r in results)
            cell = f"{cpu:,.0f} / {eff:.2f}"
            if results[0].get("first") is not None:
                first = statistics.median(r["first"] for r in results)
                cell += f" (1st pt {first * 1000:.0f} ms)"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
