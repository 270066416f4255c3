"""Benchmarks against the bundled simulator on localhost: ``nox -s bench`` (or run this file).

Each scenario starts ``python -m scout_async.testing`` in its own process with a fixed latency, so
the client's numbers are not mixed with the server's CPU, and measures the client only.

  fetch-30d-1m   30 days at 1 min = 720 requests at concurrency 16: wall time vs the ideal
                 ceil(720 / 16) x latency (goal: efficiency >= 0.9)
  stream-rss     peak RSS of streaming 30 days vs 1 day at 1 min to a file (goal: within 10 %)
  backfill       5 apps x 6 metrics x 30 days at 5 min (1,800 requests) at concurrency 32 with
                 20 ms latency: wall vs ideal, requests/s, client CPU s per 1,000 requests, peak
                 RSS; and the same job written by hand with plain httpx and a semaphore
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

KEY = "sim-key"
HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def simulator(latency: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scout_async.testing", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the simulator did not start: {url!r}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def child(scenario: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter, so peak RSS is that scenario's alone."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", scenario, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss  # maxrss in KiB on Linux


async def _child_fetch(
    url: str, days: float, resolution: str, concurrency: int, out: str
) -> dict[str, Any]:
    import scout_async

    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    points = 0
    async with scout_async.ScoutClient(
        api_key=KEY, base_url=url, max_concurrency=concurrency
    ) as client:
        with open(out, "w") as sink:  # noqa: ASYNC230 - a plain blocking sink, as users write
            async for point in client.metrics.stream(
                101, "response_time", start=start, end=end, resolution=resolution
            ):
                sink.write(f"{point.time:%Y-%m-%dT%H:%M:%SZ},{point.value}\n")
                points += 1
        requests = client.stats.requests
        peak = client.stats.peak_in_flight
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    return {
        "wall": wall,
        "requests": requests,
        "points": points,
        "peak_in_flight": peak,
        "cpu": cpu1 - cpu0,
        "rss_kib": rss,
    }


async def _child_plain(url: str, days: float, concurrency: int) -> dict[str, Any]:
    """The same 1-min requests by hand: plain httpx and a semaphore, no ordering, no parsing."""
    import anyio
    import httpx

    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    hours = int(days * 24)
    limit = anyio.Semaphore(concurrency)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(
        headers={"X-SCOUT-API": KEY},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    ) as http:

        async def one(hour: int) -> None:
            frm = end - timedelta(hours=hour + 1)
            params = {
                "from": frm.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "to": (frm + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            async with limit:
                response = await http.get(f"{url}/apps/101/metrics/response_time", params=params)
                response.raise_for_status()
                response.json()

        async with anyio.create_task_group() as tg:
            for hour in range(hours):
                tg.start_soon(one, hour)
    return {"wall": time.perf_counter() - t0, "requests": hours}


def fetch_30d(latency: float, concurrency: int, tmp: Path) -> dict[str, Any]:
    with simulator(latency) as url:
        r = child("fetch", url, "30", "1m", str(concurrency), str(tmp / "fetch.csv"))
        plain = child("plain", url, "30", str(concurrency))
    ideal = math.ceil(r["requests"] / concurrency) * latency
    r["ideal"] = ideal
    r["efficiency"] = ideal / r["wall"]
    r["plain_wall"] = plain["wall"]
    r["plain_efficiency"] = ideal / plain["wall"]
    return r


def stream_rss(latency: float, concurrency: int, tmp: Path) -> dict[str, Any]:
    with simulator(latency) as url:
        one = child("fetch", url, "1", "1m", str(concurrency), str(tmp / "one.csv"))
        thirty = child("fetch", url, "30", "1m", str(concurrency), str(tmp / "thirty.csv"))
    return {
        "rss_1d_mib": one["rss_kib"] / 1024,
        "rss_30d_mib": thirty["rss_kib"] / 1024,
        "ratio": thirty["rss_kib"] / one["rss_kib"],
        "points_1d": one["points"],
        "points_30d": thirty["points"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="server latency of the fetch scenarios, seconds (repeatable; default 0.05 and 0.2)",
    )
    parser.add_argument(
        "--only", choices=["fetch", "rss", "backfill", "concurrency"], action="append"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per cell of the sweep")
    parser.add_argument(
        "--http",
        action="append",
        choices=["default", "one-pool", "aiohttp"],
        help="scout_async HTTP layouts of the sweep: 'default' (the client's own pools), "
        "'one-pool' (one httpx pool of max_concurrency, the layout before issue 17), 'aiohttp' "
        "(http_client=httpx_aiohttp.HttpxAiohttpClient()); default: all available",
    )
    args = parser.parse_args()
    if args.child:
        import anyio

        scenario, *rest = args.child
        if scenario == "fetch":
            url, days, resolution, conc, out = rest
            result = anyio.run(_child_fetch, url, float(days), resolution, int(conc), out)
        elif scenario == "plain":
            url, days, conc = rest
            result = anyio.run(_child_plain, url, float(days), int(conc))
        else:
            sys.path.insert(0, str(HERE))
            if scenario.startswith("sweep-"):
                from bench_concurrency import run_child as run_sweep

                result = run_sweep(scenario, rest)
            else:
                from bench_backfill import run_child

                result = run_child(scenario, rest)
        print(json.dumps(result))
        return

    import tempfile

    only = set(args.only or ["fetch", "rss", "backfill", "concurrency"])
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        latencies = args.latency or [0.05, 0.2]
        if "fetch" in only:
            for latency in latencies:
                r = fetch_30d(latency, 16, tmp)
                print(
                    f"fetch 30d @1m, concurrency 16, latency {latency * 1000:.0f} ms: "
                    f"{r['requests']} requests, {r['points']} points, wall {r['wall']:.2f} s, "
                    f"ideal {r['ideal']:.2f} s, efficiency {r['efficiency']:.3f} (goal >= 0.9); "
                    f"plain httpx + semaphore {r['plain_wall']:.2f} s "
                    f"(efficiency {r['plain_efficiency']:.3f}); peak in flight "
                    f"{r['peak_in_flight']}, client CPU {r['cpu']:.2f} s"
                )
        if "rss" in only:
            r = stream_rss(latencies[0], 16, tmp)
            print(
                f"stream to file @1m: peak RSS 1 day {r['rss_1d_mib']:.1f} MiB "
                f"({r['points_1d']} points), 30 days {r['rss_30d_mib']:.1f} MiB "
                f"({r['points_30d']} points), ratio {r['ratio']:.3f} (goal <= 1.10)"
            )
        if "backfill" in only:
            sys.path.insert(0, str(HERE))
            from bench_backfill import report

            report(tmp)
        if "concurrency" in only:
            sys.path.insert(0, str(HERE))
            import importlib.util

            from bench_concurrency import report as sweep

            transports = args.http or (
                ["default", "one-pool", "aiohttp"]
                if importlib.util.find_spec("httpx_aiohttp")
                else ["default", "one-pool"]
            )
            sweep(args.runs, transports)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
