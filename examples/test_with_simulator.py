"""Testing your own code against the bundled Scout simulator, with the pytest plugin.

    pytest examples/test_with_simulator.py

Installing scout_async gives every pytest run three fixtures (no conftest needed):

- ``scout_simulator``: a fresh ``ScoutSimulator``. Its "now" is the real time, so code under
  test that asks for "the last 7 days" finds them there;
- ``scout_simulator_server``: that simulator served over real HTTP on a free localhost port;
  point your client at ``scout_simulator_server.url``;
- ``scout_simulator_now``: what the simulator takes as "now". Override it to pin the time (the
  data is then the same in every run), and give the client the simulator's clock,
  ``ScoutClient(clock=scout_simulator.clock)``, so both agree on what "now" is.

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
from scout_async.types import TraceSummary

# --- the code under test: yours ------------------------------------------------------------------


async def slowest_traces(
    client: scout_async.ScoutClient, app_id: int, endpoint_name: str
) -> list[TraceSummary]:
    """The three slowest traces of an endpoint in the last 7 days."""
    now = datetime.now(timezone.utc)
    endpoints = await client.endpoints.list(app_id, start=now - timedelta(days=1), end=now)
    endpoint = next(e for e in endpoints if e.name == endpoint_name)
    traces = await client.traces.list(
        app_id, endpoint_id=endpoint.id, start=now - timedelta(days=7), end=now, clamp=True
    )
    return sorted(traces, key=lambda t: t.total_call_time or 0, reverse=True)[:3]


async def errors_this_week(client: scout_async.ScoutClient, app_id: int) -> int:
    """How many error groups had errors in the last 7 days, by the client's clock."""
    now = client.clock.now()
    return len(await client.errors.list(app_id, start=now - timedelta(days=7), end=now))


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


# --- the tests: on the real time ------------------------------------------------------------------


def test_the_slowest_traces_of_the_last_week(scout_simulator_server: SimulatorServer) -> None:
    async def go() -> list[TraceSummary]:
        async with scout_async.ScoutClient(
            api_key=DEFAULT_API_KEY, base_url=scout_simulator_server.url
        ) as client:
            return await slowest_traces(client, 101, "api/metrics/show")

    slowest = anyio.run(go)

    assert len(slowest) == 3
    assert slowest[0].total_call_time is not None
    assert slowest[0].total_call_time >= (slowest[-1].total_call_time or 0)


def test_no_data_past_retention(
    scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
) -> None:
    long_ago = scout_simulator.now() - timedelta(days=60)

    async def go() -> None:
        async with scout_async.ScoutClient(
            api_key=DEFAULT_API_KEY, base_url=scout_simulator_server.url
        ) as client:
            await busiest_hour(client, 101, long_ago)

    with pytest.raises(LookupError):
        anyio.run(go)


# --- the tests: on a pinned day, with one clock for the simulator and the client ------------------

PINNED = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
DAY = datetime(2026, 7, 4, tzinfo=timezone.utc)  # the day before the pinned "now"


class TestOnAPinnedDay:
    @pytest.fixture
    def scout_simulator_now(self) -> datetime:
        """Overrides the plugin's fixture: the simulator's clock stands still at ``PINNED``."""
        return PINNED

    def run(
        self, sim: ScoutSimulator, server: SimulatorServer, *, api_key: str = DEFAULT_API_KEY
    ) -> tuple[datetime, float]:
        async def go() -> tuple[datetime, float]:
            async with scout_async.ScoutClient(
                api_key=api_key, base_url=server.url, clock=sim.clock
            ) as client:
                return await busiest_hour(client, 101, DAY)

        return anyio.run(go)

    def test_the_last_week_is_the_simulators_week(
        self, scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
    ) -> None:
        async def go() -> int:
            async with scout_async.ScoutClient(
                api_key=DEFAULT_API_KEY,
                base_url=scout_simulator_server.url,
                clock=scout_simulator.clock,  # the client's "now" is the simulator's
            ) as client:
                return await errors_this_week(client, 101)

        assert anyio.run(go) > 0
        (request,) = scout_simulator.requests
        assert request.query["to"] == "2026-07-05T17:20:11Z"

    def test_busiest_hour_is_an_hour_of_that_day(
        self, scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
    ) -> None:
        hour, value = self.run(scout_simulator, scout_simulator_server)

        assert DAY <= hour < DAY + timedelta(days=1)
        assert hour.minute == hour.second == 0
        assert value > 0
        # One day at 1 h is a single request, sent with the key in the header.
        assert [r.auth_mode for r in scout_simulator.requests] == ["header"]

    def test_the_data_is_the_same_in_every_run(
        self, scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
    ) -> None:
        first = self.run(scout_simulator, scout_simulator_server)
        assert first == self.run(scout_simulator, scout_simulator_server)

    def test_a_transient_server_error_is_retried(
        self, scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
    ) -> None:
        scout_simulator.add_fault(Fault(path="/apps/101/metrics/*", status=503, times=1))

        self.run(scout_simulator, scout_simulator_server)

        assert [r.status for r in scout_simulator.requests] == [503, 200]

    def test_a_wrong_key_is_refused(
        self, scout_simulator: ScoutSimulator, scout_simulator_server: SimulatorServer
    ) -> None:
        with pytest.raises(scout_async.AuthenticationError):
            self.run(scout_simulator, scout_simulator_server, api_key="not-the-key")
