"""Benchmarks on localhost: ``nox -s bench`` (or ``python benchmarks/run.py [--only NAME ...]``).

Every measurement runs the client alone in a fresh interpreter (its CPU from getrusage, its peak
RSS its own) against a server in other processes: by default benchmarks/emulator.py, an
independent Scout emulator on uvicorn with several worker processes (--workers), so the server
is never the bottleneck; --server simulator uses the bundled one-process simulator instead.

  sweep         issues 11 and 17: 1,008 requests (36 series x 14 d at 5 min, 12 h each), 50 ms
                latency, at 8/16/32/64 in flight (--concurrency): client CPU per request and wall
                efficiency vs ceil(requests/concurrency) x latency for the hand-written httpx
                job (httpx.AsyncClient, asyncio.Semaphore, json.loads, a datetime per point) and
                scout_async on httpx and on the aiohttp transport, ratios to the hand-written
                job; medians of --runs; the knee of each
  bytes         bytes held per point by a Series of 30 d at 1 min (goal <= 24)
  rss-get       peak RSS of metrics.get() for 30 series x 30 d at 1 min
  stream-rss    peak RSS of streaming 30 d vs 1 d at 1 min to a file (goal: within 10 %)
  first-point   time to the first point of stream() over 30 d at 1 min
  fetch         30 d at 1 min (720 requests) streamed at concurrency 16, at each --latency
                (default 50 and 200 ms): wall vs ideal (goal >= 0.9), beside plain httpx
  backfill      5 apps x 6 metrics x 30 d at 5 min (1,800 requests) at concurrency 32, 20 ms
                latency: scout_async's backfill beside the same job by hand
  sinks         benchmarks/bench_sinks.py (PostgreSQL, SQLite, JSONL; minutes) - only by name
  exporter      benchmarks/bench_exporter.py (the Prometheus exporter) - only by name
  dlt           benchmarks/bench_dlt.py (the dlt source into DuckDB, rows vs pyarrow) - only by name

Without --only: every scenario but sinks, exporter and dlt (about 6 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402 - benchmarks/ is not a package; its modules import each other

SCENARIOS = [
    "sweep",
    "bytes",
    "rss-get",
    "stream-rss",
    "first-point",
    "fetch",
    "backfill",
    "sinks",
    "exporter",
    "dlt",
]
DEFAULT = SCENARIOS[:-3]
#: The names of earlier versions of this file.
ALIASES = {"concurrency": "sweep", "rss": "stream-rss", "fetch-30d-1m": "fetch"}


# -- fetch: 30 days at 1 minute streamed at concurrency 16 ------------------------------------


async def _child_fetch(url: str, days: float, concurrency: int, out: str) -> dict[str, Any]:
    end = common.floor_now(timedelta(hours=1)) - timedelta(hours=1)
    start = end - timedelta(days=days)
    cpu0 = common.cpu()
    t0 = time.perf_counter()
    points = 0
    async with common.scout_client(url, "default", concurrency) as (client, _how):
        with open(out, "w") as sink:  # noqa: ASYNC230 - a plain blocking sink, as users write
            async for point in client.metrics.stream(
                101, "response_time", start=start, end=end, resolution="1m"
            ):
                sink.write(f"{point.time:%Y-%m-%dT%H:%M:%SZ},{point.value}\n")
                points += 1
        requests = client.stats.requests
        peak = client.stats.peak_in_flight
    return {
        "wall": time.perf_counter() - t0,
        "requests": requests,
        "points": points,
        "peak_in_flight": peak,
        "cpu": common.cpu() - cpu0,
        "rss_kib": common.maxrss_kib(),
    }


async def _child_plain(url: str, days: float, concurrency: int) -> dict[str, Any]:
    """The same one-hour requests by hand: httpx, a semaphore, json.loads, a datetime a point."""
    import asyncio

    end = common.floor_now(timedelta(hours=1)) - timedelta(hours=1)
    plan = common.windows(end - timedelta(days=days), end, timedelta(hours=1))
    t0 = time.perf_counter()
    async with common.hand_client(url, concurrency) as http:
        await common.hand_series(http, asyncio.Semaphore(concurrency), 101, "response_time", plan)
    return {"wall": time.perf_counter() - t0, "requests": len(plan)}


def fetch_30d(latency: float, concurrency: int, tmp: Path) -> None:
    with common.server(latency) as srv:
        r = common.child("fetch", srv.url, 30, concurrency, tmp / "fetch.csv")
        plain = common.child("plain", srv.url, 30, concurrency)
    ideal = math.ceil(r["requests"] / concurrency) * latency
    print(
        f"\nfetch 30 d at 1 min, concurrency {concurrency}, latency {latency * 1000:.0f} ms: "
        f"{r['requests']} requests, {r['points']} points, wall {r['wall']:.2f} s, ideal "
        f"{ideal:.2f} s, efficiency {ideal / r['wall']:.3f} (goal >= 0.9); hand-written httpx "
        f"{plain['wall']:.2f} s (efficiency {ideal / plain['wall']:.3f}); peak in flight "
        f"{r['peak_in_flight']}, client CPU {r['cpu']:.2f} s"
    )


# -- the command line -------------------------------------------------------------------------


def run_child(scenario: str, rest: list[str]) -> dict[str, Any]:
    import asyncio

    if scenario == "fetch":
        url, days, conc, out = rest
        return asyncio.run(_child_fetch(url, float(days), int(conc), out))
    if scenario == "plain":
        url, days, conc = rest
        return asyncio.run(_child_plain(url, float(days), int(conc)))
    if scenario.startswith("sweep-"):
        from bench_concurrency import run_child as sweep

        return sweep(scenario, rest)
    if scenario in ("bytes", "rss-get", "stream", "first"):
        from bench_datapath import run_child as datapath

        return datapath(scenario, rest)
    from bench_backfill import run_child as backfill

    return backfill(scenario, rest)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS + sorted(ALIASES),
        metavar="NAME",
        help="run this scenario only (repeatable): " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per cell, medians (default 3)")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[8, 16, 32, 64],
        help="in-flight limits of the sweep (default 8 16 32 64)",
    )
    parser.add_argument(
        "--http",
        action="append",
        choices=list(common.LAYOUTS),
        help="scout_async HTTP layouts of the sweep and first-point (repeatable): 'httpx' "
        "(httpx's pools, the client's own layout of them), 'aiohttp' (httpx-aiohttp's "
        "transport), 'default' (no argument: what the client picks), 'one-pool' (one httpx "
        "pool of max_concurrency, the layout before issue 17); default: httpx and aiohttp "
        "(when httpx-aiohttp is installed)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="server latency of the fetch scenario, seconds (repeatable; default 0.05 and 0.2)",
    )
    parser.add_argument(
        "--server",
        choices=["emulator", "simulator"],
        default=common.SERVER,
        help="emulator (benchmarks/emulator.py, default) or the bundled simulator",
    )
    parser.add_argument(
        "--workers", type=int, default=common.WORKERS, help="emulator processes (default 2)"
    )
    parser.add_argument(
        "--hand-python",
        default=common.HAND_PYTHON,
        help="an interpreter of an environment holding httpx alone: the sweep runs the "
        "hand-written job there too (nox -s bench makes one)",
    )
    args = parser.parse_args()
    if args.child:
        import json

        scenario, *rest = args.child
        print(json.dumps(run_child(scenario, rest)))
        return

    common.SERVER, common.WORKERS = args.server, args.workers
    if args.hand_python:
        os.environ["SCOUT_BENCH_HAND_PYTHON"] = common.HAND_PYTHON = args.hand_python
    only = [ALIASES.get(name, name) for name in (args.only or DEFAULT)]
    layouts = args.http or (
        ["httpx", "aiohttp"] if importlib.util.find_spec("httpx_aiohttp") else ["httpx"]
    )
    _describe(args, layouts)
    _compile_scout_async()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name in [s for s in SCENARIOS if s in only]:
            began = time.perf_counter()
            _scenario(name, args, layouts, tmp)
            took = time.perf_counter() - began
            print(f"[{name}: {took:.0f} s; load average {os.getloadavg()[0]:.2f}]")
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")


def _compile_scout_async() -> None:
    """Byte-compile scout_async before any measurement, as installing a wheel does: from a
    source checkout with ``PYTHONDONTWRITEBYTECODE`` set, every child interpreter would compile
    the package again (~100 ms of CPU counted against the client, not against httpx, whose
    bytecode was written when it was installed)."""
    import compileall

    spec = importlib.util.find_spec("scout_async")
    for location in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(location, quiet=1)


def _scenario(name: str, args: argparse.Namespace, layouts: list[str], tmp: Path) -> None:
    if name == "sweep":
        from bench_concurrency import report

        report(args.runs, layouts, args.concurrency)
    elif name == "bytes":
        from bench_datapath import report_bytes

        report_bytes()
    elif name == "rss-get":
        from bench_datapath import report_rss_get

        report_rss_get()
    elif name == "stream-rss":
        from bench_datapath import report_stream_rss

        report_stream_rss(tmp)
    elif name == "first-point":
        from bench_datapath import report_first_point

        report_first_point(args.runs, layouts)
    elif name == "fetch":
        for latency in args.latency or [0.05, 0.2]:
            fetch_30d(latency, 16, tmp)
    elif name == "backfill":
        from bench_backfill import report as backfill

        backfill(tmp)
    else:
        script = HERE / f"bench_{name}.py"
        print(f"\n{name}: {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)


def _describe(args: argparse.Namespace, layouts: list[str]) -> None:
    import httpx

    import scout_async

    versions = [f"scout_async {getattr(scout_async, '__version__', '?')}"]
    versions.append(f"httpx {httpx.__version__}")
    for module in ("httpx_aiohttp", "aiohttp", "msgspec", "orjson", "uvicorn", "httptools"):
        if importlib.util.find_spec(module):
            version = getattr(__import__(module), "__version__", "")
            versions.append(f"{module} {version}".strip())
    if importlib.util.find_spec("uvloop"):
        versions.append("uvloop (server only)")
    load = os.getloadavg()
    # How fast this machine runs Python right now (the same loop on every run, to compare runs).
    speed = min(_timed_loop() for _ in range(5))
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f}, "
        f"sum(range(10**6)) in {speed * 1000:.1f} ms; "
        f"server: {args.server}"
        + (f" ({args.workers} processes)" if args.server == "emulator" else "")
        + f"; scout_async layouts: {', '.join(layouts)}; runs {args.runs}\n"
        + ", ".join(versions)
    )


def _timed_loop() -> float:
    t0 = time.perf_counter()
    sum(range(10**6))
    return time.perf_counter() - t0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
