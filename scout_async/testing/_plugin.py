"""pytest plugin: a fresh Scout API simulator for every test, in-process or on a real port.

Installed with the package (entry point ``pytest11``), so any project that depends on scout_async
gets two fixtures:

- ``scout_simulator``: a ``ScoutSimulator`` with a fixed clock (``scout_simulator.now()``);
- ``scout_simulator_server``: a running ``SimulatorServer`` around it; use its ``url``.

A user's test::

    import httpx

    async def test_reads_apdex(scout_simulator, scout_simulator_server):
        async with httpx.AsyncClient(
            base_url=scout_simulator_server.url, headers={"X-SCOUT-API": "sim-key"}
        ) as http:
            r = await http.get(
                "/apps/101/metrics/apdex",
                params={"from": "2026-07-05T16:00:00Z", "to": "2026-07-05T17:00:00Z"},
            )
        assert len(r.json()["results"]["series"]["apdex"]) == 61
        assert scout_simulator.requests[0].auth_mode == "header"

This module loads in every pytest run of anyone who installs the package, so it imports nothing
heavy at import time: the simulator (starlette, uvicorn) loads inside the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from . import ScoutSimulator, SimulatorServer

# The docs' own example instant: off the minute grid, so the bucket holding "now" is half full.
SIMULATOR_NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)


@pytest.fixture
def scout_simulator() -> ScoutSimulator:
    """A fresh simulator whose clock stands at ``SIMULATOR_NOW`` (2026-07-05T17:20:11Z)."""
    from . import ScoutSimulator

    return ScoutSimulator(now=SIMULATOR_NOW)


@pytest.fixture
def scout_simulator_server(scout_simulator: ScoutSimulator) -> Iterator[SimulatorServer]:
    """``scout_simulator`` served on ``127.0.0.1`` at a free port; yields the running server."""
    from . import SimulatorServer

    with SimulatorServer(scout_simulator) as server:
        yield server
