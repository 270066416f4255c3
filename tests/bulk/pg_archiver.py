"""One archive process of the concurrent-archives test: ``python -m tests.bulk.pg_archiver
DATABASE_URL SIMULATOR_URL`` catches ``ARCHIVE`` up into the database from the simulator a test
serves, on a clock that reads ``SIM_NOW`` when it starts, and prints the rows it wrote.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import anyio

from scout_async import ScoutClient
from scout_async._bulk.archive import Archive
from tests.bulk.pg_worker import KEY, SIM_NOW

ARCHIVE = {
    "apps": [101, 102, 103],
    "metrics": ["apdex", "errors", "throughput"],
    "resolution": "1m",
    "lookback": timedelta(hours=20),
    "lateness": timedelta(minutes=2),
}


class StartsAtSimNow:
    """A clock that reads ``SIM_NOW`` when made, then moves with the system's."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def now(self) -> datetime:
        return SIM_NOW + timedelta(seconds=time.monotonic() - self._started)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


async def run(database: str, simulator: str) -> None:
    client = ScoutClient(api_key=KEY, base_url=simulator, max_concurrency=4, clock=StartsAtSimNow())
    async with client:
        archive = Archive(client, database, **ARCHIVE)  # type: ignore[arg-type]
        async with archive:
            done = await archive.catch_up()
    print(done.rows, len(done.errors), flush=True)


if __name__ == "__main__":
    anyio.run(run, sys.argv[1], sys.argv[2])
