"""The victim of the SIGKILL test of a backfill into PostgreSQL: ``python -m tests.bulk.pg_worker
DATABASE_URL SIMULATOR_URL [SHARD_INDEX SHARD_COUNT]`` backfills ``JOB`` from the simulator a test
serves at SIMULATOR_URL into the database, with its checkpoint in the database, a checkpoint
after every chunk, until it is done (or killed).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio

from scout_async import ScoutClient

UTC = timezone.utc
KEY = "sk-pg-S3CR3T-worker-key-77"
SIM_NOW = datetime(2026, 3, 3, 12, 0, 11, tzinfo=UTC)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
JOB: dict[str, Any] = {
    "apps": [101, 102, 103],
    "metrics": ["apdex", "errors", "throughput"],
    "start": T0 + timedelta(minutes=7, seconds=30),
    "end": T0 + timedelta(days=1, hours=5, minutes=3),
    "resolution": "1m",
}


async def run(database: str, simulator: str, shard: tuple[int, int] | None) -> None:
    async with ScoutClient(api_key=KEY, base_url=simulator, max_concurrency=4) as client:
        result = await client.backfill(**JOB, sink=database, checkpoint_every=0.0, shard=shard)
    print("ok" if result.ok else "failed", result.points, flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    split = (int(arguments[2]), int(arguments[3])) if len(arguments) > 3 else None
    anyio.run(run, arguments[0], arguments[1], split)
