"""Exporter benchmark: 50 apps x 6 metrics (300 series) polled every minute against the simulator.

    python benchmarks/bench_exporter.py [--apps 50] [--cycles 5] [--speed 20] [--latency 0.05]

Three processes, so each number is one component's: the simulator (50 apps, ``--latency``
seconds per request), the exporter (``ScoutExporter.serve``, the client's default concurrency of
8, polling every minute at a 1-minute step) and a scraper that GETs ``/metrics`` as Prometheus
does (OpenMetrics preferred, gzip) every ``--every`` real seconds. Time runs ``--speed`` times
faster than real time in the exporter and the simulator alike (one clock, read from the system's
monotonic clock), so a poll cycle ("every minute") takes 60/speed real seconds; the work per
cycle does not change.

Measured in the exporter's process, over whole cycles once every series has a value:

* requests per poll cycle (one per series is the goal) and how long a cycle's requests took;
* client CPU per cycle: without scrapes, then with the scraper running;
* peak RSS of the exporter's process;
* scrape latency p50/p99 (in the scraper), for the scrapes that started while requests of a poll
  were in flight, and for all scrapes.

Prints a table, or one JSON object with ``--json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

KEY = "sim-key"
WALL = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
)
HERE = Path(__file__).resolve()


class SharedClock:
    """A ``scout_async.Clock`` running ``speed`` times faster than real time from ``origin`` (a
    reading of ``time.monotonic()``, the same in every process on one machine)."""

    def __init__(self, speed: float, origin: float) -> None:
        self.speed = speed
        self.origin = origin

    def elapsed(self) -> float:
        return (time.monotonic() - self.origin) * self.speed

    def now(self) -> datetime:
        return WALL + timedelta(seconds=self.elapsed())

    def monotonic(self) -> float:
        return self.elapsed()

    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(max(0.0, seconds) / self.speed)


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss  # maxrss in KiB on Linux


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# -- the simulator's process ---------------------------------------------------------------


def run_simulator(apps: int, latency: float, speed: float, origin: float) -> None:
    from scout_async.testing import ScoutSimulator, SimulatorServer

    clock = SharedClock(speed, origin)
    sim = ScoutSimulator(
        api_key=KEY,
        apps=[(1000 + i, f"app {i:02d}") for i in range(apps)],
        latency=latency,
        now=clock.now,
    )
    with SimulatorServer(sim) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


# -- the scraper's process -----------------------------------------------------------------


def run_scraper(url: str, seconds: float, every: float) -> None:
    import httpx

    samples: list[tuple[float, float]] = []
    headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
    end = time.monotonic() + seconds
    with httpx.Client(timeout=10, headers=headers) as http:
        while time.monotonic() < end:
            start = time.monotonic()
            response = http.get(url)
            response.raise_for_status()
            samples.append((start, time.monotonic() - start))
            time.sleep(max(0.0, every - (time.monotonic() - start)))
    print(json.dumps(samples))


# -- the exporter's process ----------------------------------------------------------------


async def measure(
    url: str, apps: int, cycles: int, speed: float, origin: float, scrape_every: float
) -> dict[str, Any]:
    import anyio
    import anyio.to_thread

    from scout_async import ScoutClient
    from scout_async._series.steps import floor_to_grid
    from scout_async.exporters import ScoutExporter

    clock = SharedClock(speed, origin)
    minute = 60.0
    result: dict[str, Any] = {"apps": apps, "series": apps * 6, "cycles": cycles, "speed": speed}
    async with ScoutClient(api_key=KEY, base_url=url, clock=clock) as client:
        exporter = ScoutExporter(
            client,
            apps=[1000 + i for i in range(apps)],
            metrics="all",
            interval=timedelta(minutes=1),
        )
        # (real time, whether requests of a poll were in flight), every 2 ms while scraped.
        polling: list[tuple[float, bool]] = []

        async def sample() -> None:
            while True:
                polling.append((time.monotonic(), client.stats.in_flight > 0))
                await anyio.sleep(0.002)

        async def quiet() -> None:
            """Until a cycle's requests are over (at most a cycle: an overloaded exporter may
            never be quiet)."""
            with anyio.move_on_after(minute / speed):
                while client.stats.in_flight:  # noqa: ASYNC110 - a counter, not an event
                    await anyio.sleep(0.005)

        async def whole_cycles() -> tuple[int, float, float]:
            await quiet()
            requests, (cpu, _) = client.stats.requests, _usage()
            start = clock.monotonic()
            await clock.sleep(cycles * minute)  # the same phase of the cycle as at the start
            await quiet()
            cpu_after, _ = _usage()
            return client.stats.requests - requests, cpu_after - cpu, clock.monotonic() - start

        async with anyio.create_task_group() as tg:
            host, port = await tg.start(exporter.serve, "127.0.0.1", 0)
            metrics_url = f"http://{host}:{port}/metrics"
            # Warm up: every series has a value (the first poll also lists each app's metrics).
            warm = time.monotonic()
            while True:
                text = exporter.exposition()[0].decode()
                if text.count("scout_app_bucket_timestamp_seconds{") >= apps * 6:
                    break
                await anyio.sleep(0.05)
            result["first_poll_s"] = time.monotonic() - warm
            # A cycle's duration: from its first request to its last response.
            await quiet()
            while not client.stats.in_flight:  # noqa: ASYNC110 - a counter, not an event
                await anyio.sleep(0.002)
            t0 = time.monotonic()
            await quiet()
            result["cycle_requests_s"] = time.monotonic() - t0

            requests, cpu, elapsed = await whole_cycles()
            result["requests_per_cycle"] = requests / cycles
            result["cpu_per_cycle_s"] = cpu / cycles
            result["virtual_elapsed_min"] = elapsed / minute

            sampler = anyio.CancelScope()

            async def sampled() -> None:
                with sampler:
                    await sample()

            tg.start_soon(sampled)
            seconds = cycles * minute / speed
            proc = await anyio.open_process(
                [
                    sys.executable,
                    str(HERE),
                    "--scraper",
                    metrics_url,
                    "--seconds",
                    str(seconds),
                    "--every",
                    str(scrape_every),
                ]
            )
            requests_b, cpu_b, _ = await whole_cycles()
            assert proc.stdout is not None
            out = b""
            async for chunk in proc.stdout:
                out += chunk
            await proc.wait()
            sampler.cancel()
            samples: list[tuple[float, float]] = json.loads(out)
            result["requests_per_cycle_scraped"] = requests_b / cycles
            result["cpu_per_cycle_scraped_s"] = cpu_b / cycles
            times = [t for t, _ in polling]
            during = [
                latency
                for start, latency in samples
                if polling and polling[max(0, bisect.bisect_right(times, start) - 1)][1]
            ]
            every = [latency for _, latency in samples]
            result["scrapes"] = len(every)
            result["scrapes_during_polls"] = len(during)
            result["scrape_p50_ms"] = _percentile(during, 0.50) * 1000
            result["scrape_p99_ms"] = _percentile(during, 0.99) * 1000
            result["scrape_all_p50_ms"] = _percentile(every, 0.50) * 1000
            result["scrape_all_p99_ms"] = _percentile(every, 0.99) * 1000
            result["exposition_bytes"] = len(exporter.exposition()[0])
            tg.cancel_scope.cancel()
        # Calibration: the same number of requests as plain `client.metrics.get` calls (the
        # client's own cost on this machine, without polling or exporting).
        end = floor_to_grid(clock.now(), timedelta(minutes=1)) - timedelta(minutes=3)
        limit = anyio.Semaphore(8)

        async def get(i: int) -> None:
            async with limit:
                await client.metrics.get(
                    1000 + i % apps,
                    "apdex",
                    start=end - timedelta(minutes=1),
                    end=end,
                    resolution="1m",
                )

        cpu, _ = _usage()
        async with anyio.create_task_group() as tg:
            for i in range(apps * 6):
                tg.start_soon(get, i)
        result["cpu_plain_gets_s"] = _usage()[0] - cpu
    result["peak_rss_mib"] = _usage()[1] / 1024
    return result


def run(
    apps: int, cycles: int, speed: float, latency: float, scrape_every: float
) -> dict[str, Any]:
    """Start the simulator, measure the exporter in this process, stop the simulator."""
    import anyio

    origin = time.monotonic()
    sim = subprocess.Popen(
        [
            sys.executable,
            str(HERE),
            "--simulator",
            "--apps",
            str(apps),
            "--latency",
            str(latency),
            "--speed",
            str(speed),
            "--origin",
            repr(origin),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the simulator did not start: {url!r}")
        result = anyio.run(measure, url, apps, cycles, speed, origin, scrape_every)
    finally:
        if sim.stdin is not None:
            sim.stdin.close()
        sim.wait(timeout=30)
    result["latency_ms"] = latency * 1000
    result["scrape_every_s"] = scrape_every
    result["ideal_cycle_s"] = math.ceil(apps * 6 / 8) * latency
    return result


def show(r: dict[str, Any]) -> None:
    print(
        f"exporter: {r['apps']} apps x 6 metrics = {r['series']} series, polled every minute, "
        f"simulator latency {r['latency_ms']:.0f} ms, concurrency 8, time x{r['speed']:g}, "
        f"{r['cycles']} cycles measured"
    )
    print(
        f"  requests per poll cycle      {r['requests_per_cycle']:.1f}"
        f" (with scrapes: {r['requests_per_cycle_scraped']:.1f})"
    )
    print(
        f"  a cycle's requests took      {r['cycle_requests_s']:.2f} s"
        f" (ideal ceil({r['series']}/8) x latency = {r['ideal_cycle_s']:.2f} s)"
    )
    print(
        f"  client CPU per cycle         {r['cpu_per_cycle_s'] * 1000:.0f} ms"
        f" (scraped every {r['scrape_every_s'] * r['speed']:g} s of exporter time: "
        f"{r['cpu_per_cycle_scraped_s'] * 1000:.0f} ms)"
    )
    print(
        f"  the same {r['series']} requests as plain client.metrics.get calls: "
        f"{r['cpu_plain_gets_s'] * 1000:.0f} ms CPU (the client's own cost on this machine)"
    )
    print(f"  peak RSS                     {r['peak_rss_mib']:.1f} MiB")
    print(
        f"  scrape latency during polls  p50 {r['scrape_p50_ms']:.1f} ms, "
        f"p99 {r['scrape_p99_ms']:.1f} ms ({r['scrapes_during_polls']} of {r['scrapes']} "
        f"scrapes; all: p50 {r['scrape_all_p50_ms']:.1f} ms, p99 {r['scrape_all_p99_ms']:.1f} ms)"
    )
    print(
        f"  exposition                   {r['exposition_bytes'] / 1024:.0f} KiB; first poll "
        f"(listing + values) {r['first_poll_s']:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--speed", type=float, default=5.0, help="clock speed-up (default 5)")
    parser.add_argument(
        "--every",
        type=float,
        default=0.5,
        help="real seconds between scrapes (default 0.5: at x5, every 2.5 s of exporter time)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="simulator latency, seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--simulator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--origin", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--scraper", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator:
        run_simulator(args.apps, args.latency, args.speed, args.origin)
        return
    if args.scraper:
        run_scraper(args.scraper, args.seconds, args.every)
        return
    result = run(args.apps, args.cycles, args.speed, args.latency, args.every)
    if args.json:
        print(json.dumps(result))
    else:
        show(result)


if __name__ == "__main__":
    main()
