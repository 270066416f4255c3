"""dlt source benchmark: load 5 apps x 6 metrics x 7 days at 1 minute (302,400 rows) from the
bundled simulator into DuckDB with ``scout_source``, once per ``backend`` (``rows``: a dict a
point; ``pyarrow``: an Arrow table a series).

    python benchmarks/bench_dlt.py [--days 7] [--concurrency 16] [--runs 1]

Each run is a fresh interpreter (a new pipeline in a new directory, so a full first load), against
one simulator process (``python -m scout_async.testing --port 0``, no added latency). Measured in
the loading process, extract, normalize and load together: wall time, rows loaded per second, CPU
(user + system, every thread) per 1,000 rows, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from bench_sinks import APPS, KEY, METRICS, simulator

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["rows", "pyarrow"]


def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss  # maxrss in KiB on Linux


def _child(backend: str, url: str, workdir: str, days: float, concurrency: int) -> dict[str, Any]:
    import dlt

    from scout_async import ScoutClient
    from scout_async.dlt import Backend, scout_source

    def client() -> ScoutClient:
        return ScoutClient(api_key=KEY, base_url=url, max_concurrency=concurrency)

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.duckdb(str(Path(workdir) / "warehouse.duckdb")),
        dataset_name="scout",
        pipelines_dir=str(Path(workdir) / "pipelines"),
    )
    source = scout_source(
        apps=APPS,
        metrics=METRICS,
        resolution="1m",
        lookback=timedelta(days=days),
        client=client,
        backend=cast("Backend", backend),
    ).with_resources("metric_points")
    cpu0, _ = _usage()
    t0 = time.perf_counter()
    info = pipeline.run(source)
    wall = time.perf_counter() - t0
    cpu1, rss = _usage()
    assert not info.has_failed_jobs, info
    trace = pipeline.last_trace
    assert trace is not None
    assert trace.last_normalize_info is not None
    rows = int(trace.last_normalize_info.row_counts["metric_points"])
    with pipeline.sql_client() as sql:
        stored = sql.execute_sql("SELECT count(*) FROM metric_points")
    assert stored is not None
    assert stored[0][0] == rows, (stored, rows)
    return {
        "backend": backend,
        "rows": rows,
        "wall_s": wall,
        "cpu_ms_per_1000_rows": (cpu1 - cpu0) * 1e6 / rows,
        "peak_rss_mib": rss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1, help="runs per backend, medians")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "URL", "WORKDIR"))
    args = parser.parse_args()
    if args.child:
        backend, url, workdir = args.child
        print(json.dumps(_child(backend, url, workdir, args.days, args.concurrency)))
        return
    results: dict[str, list[dict[str, Any]]] = {backend: [] for backend in BACKENDS}
    with simulator() as url:
        for _ in range(args.runs):
            for backend in BACKENDS:
                with tempfile.TemporaryDirectory() as workdir:
                    command = [sys.executable, __file__, "--days", str(args.days)]
                    command += ["--concurrency", str(args.concurrency)]
                    command += ["--child", backend, url, workdir]
                    done = subprocess.run(
                        command, check=True, capture_output=True, text=True, cwd=ROOT
                    )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results[backend].append(result)
                print(json.dumps(result), file=sys.stderr)
    print(f"medians of {args.runs} run(s), {args.days:g} days, concurrency {args.concurrency}")
    print("backend       rows   wall s     rows/s  CPU ms/1k rows  peak RSS MiB")
    for backend, runs in results.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_ms_per_1000_rows"] for r in runs)
        rss = statistics.median(r["peak_rss_mib"] for r in runs)
        rows = runs[0]["rows"]
        print(
            f"{backend:<8} {rows:>9,} {wall:>8.1f} {rows / wall:>10,.0f} {cpu:>15.1f} {rss:>13.1f}"
        )


if __name__ == "__main__":
    main()
