"""What the core's tests over real localhost HTTP share: a simulator, its server, and a count of
this process's open connections to it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import psutil
import pytest

from scout_async.testing import ScoutSimulator, SimulatorServer

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(now=NOW)


@pytest.fixture
async def server(sim: ScoutSimulator) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(sim) as running:
        yield running


def open_connections(port: int) -> int:
    """This process's established TCP connections to ``port``."""
    return sum(
        1
        for c in psutil.Process(os.getpid()).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )
