"""Several metrics of one app side by side in a pandas DataFrame, read batch by batch.

    python examples/to_dataframe.py                                   # 7 days at 1 h, app 101
    python examples/to_dataframe.py --days 2 --resolution 5m --output app101.parquet

Needs ``pip install 'scout-async[pandas]'`` (and ``[arrow]`` for ``--output``). Against Scout:
set SCOUT_API_KEY and SCOUT_API_URL. With SCOUT_API_URL unset, the script starts the bundled
simulator on a local port and says so.

``metrics.stream_batches`` hands over one columnar ``Series`` per request, in time order: no
``Point`` object is made for any bucket. ``frames.to_pandas(..., layout="wide")`` lines the
series up on time, one column per metric; a bucket Scout sent no value for is ``NaN``, not 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio

import scout_async
from scout_async import frames

METRICS = ("throughput", "response_time", "errors", "apdex")


async def read(
    client: scout_async.ScoutClient,
    app_id: int,
    *,
    start: datetime,
    end: datetime,
    resolution: str,
) -> list[scout_async.Series]:
    """Every batch of every metric of ``METRICS``, the metrics read concurrently."""
    batches: dict[str, list[scout_async.Series]] = {metric: [] for metric in METRICS}

    async def one(metric: str) -> None:
        stream = client.metrics.stream_batches(
            app_id, metric, start=start, end=end, resolution=resolution
        )
        async with contextlib.aclosing(stream):
            async for batch in stream:
                batches[metric].append(batch)

    async with anyio.create_task_group() as tg:
        for metric in METRICS:
            tg.start_soon(one, metric)
    return [batch for metric in METRICS for batch in batches[metric]]


async def run(args: argparse.Namespace, base_url: str | None, api_key: str | None) -> None:
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=args.days)
    async with scout_async.ScoutClient(api_key=api_key, base_url=base_url) as client:
        batches = await read(client, args.app, start=start, end=end, resolution=args.resolution)
    table = frames.to_pandas(batches, layout="wide")
    print(
        f"{len(table):,} rows x {len(table.columns)} metrics, {table.index[0]} .. {table.index[-1]}"
    )
    print(table.describe().loc[["count", "mean", "max"]].round(2).to_string())
    if args.output is not None:
        import pyarrow.parquet as pq

        pq.write_table(frames.to_arrow(batches), args.output)  # long: app_id, metric, time, value
        print(f"wrote {args.output}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--app", type=int, default=101, help="app id (default 101)")
    parser.add_argument("--days", type=float, default=7.0, help="how far back (default 7)")
    parser.add_argument("--resolution", default="1h", help="step, e.g. 5m, 1h (default 1h)")
    parser.add_argument("--output", type=Path, default=None, help="also write a Parquet file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        base_url: str | None = None  # None: ScoutClient reads SCOUT_API_URL and SCOUT_API_KEY
        api_key: str | None = None
        if not os.environ.get("SCOUT_API_URL"):
            from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator, SimulatorServer

            server = stack.enter_context(SimulatorServer(ScoutSimulator()))
            base_url, api_key = server.url, DEFAULT_API_KEY
            print(f"SCOUT_API_URL is not set: started the Scout simulator at {server.url}")
        anyio.run(run, args, base_url, api_key)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (scout_async.ScoutError, ValueError) as error:  # messages never include the key
        sys.exit(f"error: {error}")
