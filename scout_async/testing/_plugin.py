"""pytest plugin: a fresh Scout API simulator for every test, in-process or on a real port.

Installed with the package (entry point ``pytest11``), so any project that depends on scout_async
gets three fixtures:

- ``scout_simulator``: a ``ScoutSimulator`` whose "now" is the real time, so code under test
  that asks for "the last 7 days" gets the simulator's last 7 days;
- ``scout_simulator_server``: a running ``SimulatorServer`` around it; use its ``url``;
- ``scout_simulator_now``: what ``scout_simulator`` takes as ``now`` (``None``: the real
  time). Override it to pin the time, in a test module or a conftest::

      @pytest.fixture
      def scout_simulator_now():
          return datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)

  and give the client the simulator's clock (``ScoutClient(clock=scout_simulator.clock)``),
  so its lookback checks and "now" agree with the simulator's.

A user's test::

    import httpx

    def test_reads_apdex(scout_simulator, scout_simulator_server):
        to = scout_simulator.now().replace(second=0, microsecond=0)
        r = httpx.get(
            scout_simulator_server.url + "/apps/101/metrics/apdex",
            params={"from": (to - timedelta(hours=1)).isoformat(), "to": to.isoformat()},
            headers={"X-SCOUT-API": "sim-key"},
        )
        assert len(r.json()["results"]["series"]["apdex"]) == 61
        assert scout_simulator.requests[0].auth_mode == "header"

This module loads in every pytest run of anyone who installs the package, so it imports nothing
heavy at import time: the simulator (starlette, uvicorn) loads inside the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from . import ScoutSimulator, SimulatorServer

# The docs' own example instant, for a test that pins the time: off the minute grid, so the
# bucket holding "now" is half full.
SIMULATOR_NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)


@pytest.fixture
def scout_simulator_now() -> Any:
    """The ``now`` of ``scout_simulator``: ``None``, the real time. Override it to pin the time
    (an aware datetime, a callable, or a clock object with ``now()``)."""
    return None


@pytest.fixture
def scout_simulator(scout_simulator_now: Any) -> ScoutSimulator:
    """A fresh simulator; its "now" is ``scout_simulator_now`` (by default the real time).

    ``scout_simulator.clock`` is that time as a client's clock: ``ScoutClient(clock=...)``.
    """
    from . import ScoutSimulator

    return ScoutSimulator(now=scout_simulator_now)


@pytest.fixture
def scout_simulator_server(scout_simulator: ScoutSimulator) -> Iterator[SimulatorServer]:
    """``scout_simulator`` served on ``127.0.0.1`` at a free port; yields the running server."""
    from . import SimulatorServer

    with SimulatorServer(scout_simulator) as server:
        yield server
