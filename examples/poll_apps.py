"""Poll several apps concurrently for their latest complete buckets, every few seconds.

    python examples/poll_apps.py                                   # 3 rounds, 2 s apart
    python examples/poll_apps.py --apps 101,102,103,104,105 --metric apdex --rounds 0  # forever

Each round asks every app, at once, for the last few minutes at 1-minute resolution and prints the
buckets it has not printed before. Only complete buckets count: the client ends every series at
the last bucket that closed 2 minutes (``poll``'s lateness) before now, as Scout reports the bucket
in progress before it is complete. One client serves every app, so its concurrency limit (and a
429's pause) is shared by all of them.

Against Scout: set SCOUT_API_KEY and SCOUT_API_URL. With SCOUT_API_URL unset, the script starts
the bundled simulator on a local port and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import datetime, timedelta, timezone

import anyio

import scout_async

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
STEP = timedelta(minutes=1)
#: A series ends at its last closed bucket: one that ended this long before now.
LATENESS = timedelta(minutes=2)


def last_complete_window(now: datetime, lookback: timedelta) -> tuple[datetime, datetime]:
    """``[start, now)`` whose series holds ``lookback`` of closed buckets."""
    closed = now - LATENESS
    end = closed - (closed - EPOCH) % STEP
    return end - lookback, now


async def poll_once(
    client: scout_async.ScoutClient,
    app_ids: list[int],
    metric: str,
    lookback: timedelta,
    seen: dict[int, datetime],
) -> list[tuple[int, scout_async.Point]]:
    """The new complete points of every app, fetched concurrently; updates ``seen``."""
    start, end = last_complete_window(datetime.now(timezone.utc), lookback)
    results: dict[int, scout_async.Series] = {}

    async def fetch(app_id: int) -> None:
        results[app_id] = await client.metrics.get(
            app_id, metric, start=start, end=end, resolution=STEP
        )

    async with anyio.create_task_group() as tg:
        for app_id in app_ids:
            tg.start_soon(fetch, app_id)

    fresh: list[tuple[int, scout_async.Point]] = []
    for app_id in app_ids:
        last = seen.get(app_id)
        new = [p for p in results[app_id].points if last is None or p.time > last]
        if new:
            seen[app_id] = new[-1].time
        fresh.extend((app_id, point) for point in new)
    return fresh


async def poll(
    app_ids: list[int],
    metric: str,
    *,
    interval: float,
    rounds: int,
    lookback: timedelta,
    base_url: str | None,
    api_key: str | None,
) -> None:
    seen: dict[int, datetime] = {}
    async with scout_async.ScoutClient(api_key=api_key, base_url=base_url) as client:
        done = 0
        while rounds == 0 or done < rounds:
            if done:
                await anyio.sleep(interval)
            fresh = await poll_once(client, app_ids, metric, lookback, seen)
            done += 1
            print(f"round {done}: {len(fresh)} new bucket(s)")
            for app_id, point in fresh:
                value = "null" if point.value is None else f"{point.value:g}"
                print(f"  app {app_id}  {point.time:%Y-%m-%dT%H:%M}Z  {metric} = {value}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Poll apps for their latest complete buckets.")
    parser.add_argument("--apps", default="101,102,103", help="comma-separated app ids")
    parser.add_argument("--metric", default="throughput", choices=scout_async.APP_METRICS)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds to run; 0 runs forever")
    parser.add_argument("--lookback", type=int, default=5, help="minutes asked for each round")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app_ids = [int(part) for part in args.apps.split(",")]
    with contextlib.ExitStack() as stack:
        base_url: str | None = None  # None: ScoutClient reads SCOUT_API_URL and SCOUT_API_KEY
        api_key: str | None = None
        if not os.environ.get("SCOUT_API_URL"):
            from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator, SimulatorServer

            server = stack.enter_context(SimulatorServer(ScoutSimulator()))
            base_url, api_key = server.url, DEFAULT_API_KEY
            print(f"SCOUT_API_URL is not set: started the Scout simulator at {server.url}")
        anyio.run(
            lambda: poll(
                app_ids,
                args.metric,
                interval=args.interval,
                rounds=args.rounds,
                lookback=timedelta(minutes=args.lookback),
                base_url=base_url,
                api_key=api_key,
            )
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except (scout_async.ScoutError, ValueError) as error:  # messages never include the key
        sys.exit(f"error: {error}")
