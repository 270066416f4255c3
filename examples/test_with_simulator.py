"""Testing your own code against the bundled Scout simulator, with the pytest plugin.

    pytest examples/test_with_simulator.py

Installing scout_async gives every pytest run two fixtures (no conftest needed):

- ``scout_simulator``: a fresh ``ScoutSimulator`` whose clock stands still at
  2026-07-05T17:20:11Z, so the data and "now" are the same in every run;
- ``scout_simulator_server``: that simulator served over real HTTP on a free localhost port;
  point your client at ``scout_simulator_server.url``.

Script failures with ``scout_simulator.add_fault(Fault(...))`` and check what was sent with
``scout_simulator.requests``. The tests below are plain functions calling ``anyio.run``, so they
need no async pytest plugin.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import pytest

import scout_async
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer

# --- the code under test: yours ------------------------------------------------------------------


async def busiest_hour(
    client: scout_async.ScoutClient, app_id: int, day: datetime
) -> tuple[datetime, float]:
    """The hour of ``day`` (UTC) with the highest throughput, and that throughput."""
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    series = await client.metrics.get(
        app_id, "throughput", start=start, end=start + timedelta(days=1), resolution="1h"
    )
    known = [(p.time, p.value) for p in series.points if p.value is not None]
    if not known:
        raise LookupError(f"no throughput for app {app_id} on {start:%Y-%m-%d}")
    return max(known, key=lambda pair: pair[1])


# --- the tests ------------------------------------------------------------------------------------

DAY = datetime(2026, 7, 4, tzinfo=timezone.utc)  # the day before the simulator's "now"


def run_busiest_hour(
    server: SimulatorServer, *, api_key: str = DEFAULT_API_KEY
) -> tuple[datetime, float]:
    async def go() -> tuple[datetime, float]:
        async with scout_async.ScoutClient(api_key=api_key, base_url=server.url) as client:
            return await busiest_hour(client, 101, DAY)

    return anyio.run(go)


def test_busiest_hour_is_an_hour_of_that_day(
    scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
) -> None:
    hour, value = run_busiest_hour(scout_simulator_server)

    assert DAY <= hour < DAY + timedelta(days=1)
    assert hour.minute == hour.second == 0
    assert value > 0
    # One day at 1 h is a single request, sent with the key in the header.
    assert [r.auth_mode for r in scout_simulator.requests] == ["header"]


def test_the_data_is_the_same_in_every_run(scout_simulator_server: SimulatorServer) -> None:
    assert run_busiest_hour(scout_simulator_server) == run_busiest_hour(scout_simulator_server)


def test_a_transient_server_error_is_retried(
    scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
) -> None:
    scout_simulator.add_fault(Fault(path="/apps/101/metrics/*", status=503, times=1))

    run_busiest_hour(scout_simulator_server)

    assert [r.status for r in scout_simulator.requests] == [503, 200]


def test_a_wrong_key_is_refused(scout_simulator_server: SimulatorServer) -> None:
    with pytest.raises(scout_async.AuthenticationError):
        run_busiest_hour(scout_simulator_server, api_key="not-the-key")


def test_no_data_past_retention(scout_simulator_server: SimulatorServer) -> None:
    async def go() -> None:
        async with scout_async.ScoutClient(
            api_key=DEFAULT_API_KEY, base_url=scout_simulator_server.url
        ) as client:
            await busiest_hour(client, 101, DAY - timedelta(days=60))

    with pytest.raises(LookupError):
        anyio.run(go)
