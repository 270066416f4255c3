"""Backfill one metric at one-minute resolution into a CSV file, streamed in constant memory.

    python examples/backfill_to_file.py                                  # 30 days, app 101
    python examples/backfill_to_file.py --days 2 --metric throughput --output throughput.csv

Against Scout: set SCOUT_API_KEY and SCOUT_API_URL (https://scoutapm.com/api/v0). With
SCOUT_API_URL unset, the script starts the bundled simulator on a local port and says so.

30 days at 1 min is 43,200 points in 720 requests (Scout answers at most 60 minutes at that step);
``metrics.stream`` fetches them concurrently and hands them over in order as they arrive, so each
row is written as soon as its chunk is in, and nothing else is held in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import anyio

import scout_async


async def backfill(
    client: scout_async.ScoutClient,
    app_id: int,
    metric: str,
    *,
    start: datetime,
    end: datetime,
    resolution: str,
    out: TextIO,
) -> int:
    """Write ``time,value`` rows of the series to ``out`` as they arrive; returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", "value"])
    rows = 0
    stream = client.metrics.stream(app_id, metric, start=start, end=end, resolution=resolution)
    async with contextlib.aclosing(stream):  # stops the fetching if we leave early
        async for point in stream:
            value = "" if point.value is None else point.value
            writer.writerow([point.time.strftime("%Y-%m-%dT%H:%M:%SZ"), value])
            rows += 1
    return rows


async def run(
    args: argparse.Namespace, base_url: str | None, api_key: str | None, out: TextIO
) -> int:
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=args.days)
    async with scout_async.ScoutClient(api_key=api_key, base_url=base_url) as client:
        rows = await backfill(
            client,
            args.app,
            args.metric,
            start=start,
            end=end,
            resolution=args.resolution,
            out=out,
        )
        print(f"{client.stats.requests} requests, {client.stats.retries} retries", file=sys.stderr)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--app", type=int, default=101, help="app id (default 101)")
    parser.add_argument("--metric", default="response_time", choices=scout_async.APP_METRICS)
    parser.add_argument("--days", type=float, default=30.0, help="how far back (default 30)")
    parser.add_argument("--resolution", default="1m", help="step, e.g. 1m, 5m, 1h (default 1m)")
    parser.add_argument("--output", type=Path, default=Path("backfill.csv"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        base_url: str | None = None  # None: ScoutClient reads SCOUT_API_URL and SCOUT_API_KEY
        api_key: str | None = None
        if not os.environ.get("SCOUT_API_URL"):
            from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator, SimulatorServer

            server = stack.enter_context(SimulatorServer(ScoutSimulator()))
            base_url, api_key = server.url, DEFAULT_API_KEY
            print(f"SCOUT_API_URL is not set: started the Scout simulator at {server.url}")
        with args.output.open("w", encoding="utf-8", newline="") as out:
            rows = anyio.run(run, args, base_url, api_key, out)
    seconds = time.monotonic() - began
    print(
        f"wrote {rows:,} rows of {args.metric} (app {args.app}) to {args.output} in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (scout_async.ScoutError, ValueError) as error:  # messages never include the key
        sys.exit(f"error: {error}")
