"""Sink benchmark: backfill 5 apps x 6 metrics x 30 days at 1 minute (1,296,000 rows, 21,600
requests) from the bundled simulator into PostgreSQL, SQLite and JSONL.

    python benchmarks/bench_sinks.py [--days 30] [--concurrency 16] [--postgres URL]

Each sink runs in a fresh interpreter (so peak RSS is that run's alone) against one simulator
process (``python -m scout_async.testing --port 0``, no added latency: the API is not the
bottleneck here, the sink is). Measured in the client process: wall time, rows written per
second, CPU (user + system, psycopg's threads included) per 1,000 rows, peak RSS; and the size
of the output (PostgreSQL: ``pg_total_relation_size`` of the table with its index; SQLite and
JSONL: the files). Without ``--postgres`` a throwaway server is started from the installed
binaries (as the tests do), with fsync and synchronous commits on, as in production; its own CPU
is not counted. Each sink commits with the backfill's default checkpoint cadence (1 s): SQLite
and JSONL into a state file, PostgreSQL into the database, in the transaction of its rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KEY = "sim-key"
APPS = [101, 102, 103, 104, 105]
METRICS = ["apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time"]


@contextlib.contextmanager
def simulator() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scout_async.testing", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
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


@contextlib.contextmanager
def postgres(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    sys.path.insert(0, str(ROOT))
    from tests import pg_server

    server = pg_server._start(durable=True)
    try:
        yield server.url(pg_server.new_database(server))
    finally:
        pg_server._stop(server)


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss  # maxrss in KiB on Linux


async def _child(kind: str, url: str, output: str, days: float, concurrency: int) -> dict[str, Any]:
    import scout_async

    end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)
    start = end - timedelta(days=days)
    checkpoint = None if kind == "postgresql" else output + ".state.json"
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    async with scout_async.ScoutClient(
        api_key=KEY, base_url=url, max_concurrency=concurrency
    ) as client:
        result = await client.backfill(
            apps=APPS,
            metrics=METRICS,
            start=start,
            end=end,
            resolution="1m",
            sink=output,
            checkpoint=checkpoint,
        )
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    assert result.ok, result
    return {
        "kind": kind,
        "rows": result.points,
        "wall_s": round(wall, 1),
        "rows_per_s": round(result.points / wall),
        "cpu_ms_per_1000_rows": round((cpu1 - cpu0) * 1e6 / result.points, 2),
        "peak_rss_mib": round(rss / 1024, 1),
    }


def size(kind: str, output: str) -> int:
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(output) as db:
            found = db.execute("SELECT pg_total_relation_size('points')").fetchone()
            assert found is not None
            return int(found[0])
    return os.path.getsize(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--postgres", default=None, help="an empty database to write into")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "URL", "OUTPUT", "DAYS"))
    args = parser.parse_args()
    if args.child:
        import anyio

        kind, url, output, days = args.child
        print(json.dumps(anyio.run(_child, kind, url, output, float(days), args.concurrency)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp, simulator() as url, postgres(args.postgres) as pg:
        outputs = {
            "postgresql": pg,
            "sqlite": str(Path(tmp) / "points.sqlite"),
            "jsonl": str(Path(tmp) / "points.jsonl"),
        }
        for kind, output in outputs.items():
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--concurrency",
                    str(args.concurrency),
                    "--child",
                    kind,
                    url,
                    output,
                    str(args.days),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["size_mib"] = round(size(kind, output) / 2**20, 1)
            results.append(result)
            print(json.dumps(result), file=sys.stderr)
    header = "sink          rows   wall s     rows/s  CPU ms/1k rows  peak RSS MiB  size MiB"
    print(header)
    for r in results:
        print(
            f"{r['kind']:<10} {r['rows']:>9,} {r['wall_s']:>7} {r['rows_per_s']:>10,} "
            f"{r['cpu_ms_per_1000_rows']:>15} {r['peak_rss_mib']:>13} {r['size_mib']:>9}"
        )


if __name__ == "__main__":
    main()
