"""End to end over real localhost HTTP against the bundled simulator."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

import scout_async
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock
from tests.core.conftest import NOW, open_connections


def client_for(server: SimulatorServer, **kwargs: object) -> scout_async.ScoutClient:
    return scout_async.ScoutClient(api_key=DEFAULT_API_KEY, base_url=server.url, **kwargs)  # type: ignore[arg-type]


async def test_apps_and_a_month_of_metrics(server: SimulatorServer) -> None:
    async with client_for(server) as client:
        apps = await client.apps.list()
        assert [a.id for a in apps] == [101, 102, 103, 104, 105]
        assert await client.apps.get(101) == apps[0]
        assert set(await client.metrics.list(101)) == set(scout_async.APP_METRICS)
        start, end = NOW - timedelta(days=29), NOW
        series = await client.metrics.get(101, "response_time", start=start, end=end)
        streamed = [
            p async for p in client.metrics.stream(101, "response_time", start=start, end=end)
        ]
    assert series.step == timedelta(hours=2)
    assert streamed == series.points
    times = [p.time for p in series.points]
    assert times == sorted(set(times))
    assert all((t - times[0]) % series.step == timedelta(0) for t in times)
    assert times[0] <= start < times[0] + series.step
    assert times[-1] < end <= times[-1] + series.step


@pytest.mark.parametrize("resolution", ["1m", "10m", "2h"])
async def test_inclusive_and_exclusive_servers_give_the_same_series(resolution: str) -> None:
    start, end = NOW - timedelta(days=3, minutes=7), NOW - timedelta(hours=1)
    got = []
    for inclusive in (True, False):
        sim = ScoutSimulator(now=NOW, inclusive_end=inclusive)
        async with SimulatorServer(sim) as srv, client_for(srv, max_concurrency=8) as client:
            got.append(
                await client.metrics.get(
                    102, "throughput", start=start, end=end, resolution=resolution
                )
            )
    assert got[0] == got[1]
    step = got[0].step
    first = got[0].points[0].time
    assert first <= start < first + step
    assert len(got[0].points) == -(-(end - first) // step)


async def test_wrong_key_is_authentication_error(server: SimulatorServer) -> None:
    async with scout_async.ScoutClient(api_key="not-the-key", base_url=server.url) as client:
        with pytest.raises(scout_async.AuthenticationError, match="403"):
            await client.apps.list()


@pytest.mark.parametrize("auth", ["header", "query", "body"])
async def test_every_auth_mode_against_the_simulator(
    auth: str, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    async with client_for(server, auth=auth) as client:
        await client.apps.list()
    assert sim.requests[-1].auth_mode == auth


async def test_dropped_connections_are_retried_without_leaking(
    server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", drop=True, times=5))
    async with client_for(server, max_concurrency=4) as client:
        series = await client.metrics.get(
            101, "errors", start=NOW - timedelta(hours=6), end=NOW, resolution="1m"
        )
        assert len(series.points) == 6 * 60 + 1  # the bucket holding "now" is included
        assert client.stats.retries == 5
        assert client.stats.in_flight == 0
        # Each dropped connection was discarded: what is left open is the pool's healthy ones.
        assert 1 <= open_connections(server.port) <= 4
    assert open_connections(server.port) == 0


async def test_cancel_a_request_then_reuse_the_client(
    server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/101", latency=5.0, times=3))
    async with client_for(server, max_concurrency=2) as client:
        with anyio.move_on_after(0.3) as scope:
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(client.apps.get, 101)
        assert scope.cancelled_caught
        # The two cancelled requests' connections were closed, not returned to the pool
        # half-read (httpx #1461): none is left open.
        assert open_connections(server.port) == 0
        for _ in range(5):
            assert (await client.apps.get(102)).id == 102
        assert client.stats.in_flight == 0
        # Sequential reuse keeps one healthy keep-alive connection.
        assert open_connections(server.port) == 1
    assert open_connections(server.port) == 0


async def test_429_with_retry_after_over_http(server: SimulatorServer, sim: ScoutSimulator) -> None:
    sim.add_fault(Fault(path="/apps", status=429, retry_after="1", times=1))
    async with client_for(server) as client:
        started = anyio.current_time()
        apps = await client.apps.list()
        waited = anyio.current_time() - started
    assert len(apps) == 5
    assert waited >= 1.0
    assert [r.status for r in sim.requests] == [429, 200]


async def test_server_errors_exhaust_retries(server: SimulatorServer, sim: ScoutSimulator) -> None:
    sim.add_fault(Fault(path="/apps", status=503, times=None))
    async with client_for(server, max_retries=2) as client:
        with pytest.raises(scout_async.ServerError, match="503"):
            await client.apps.list()
    assert len(sim.requests) == 3


async def test_step_fault_is_caught(server: SimulatorServer, sim: ScoutSimulator) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", step=timedelta(minutes=5), skip=2))
    start = NOW - timedelta(hours=5)
    async with client_for(server, max_concurrency=1) as client:
        with pytest.raises(scout_async.StepMismatchError) as info:
            await client.metrics.get(101, "apdex", start=start, end=NOW, resolution="1m")
    # The third request was answered at 5 min: the series is complete up to that chunk.
    plan = scout_async.plan_range(start, NOW, "1m")
    assert info.value.resume_from == plan[2].owned_start
    assert info.value.expected == timedelta(minutes=1)
    assert info.value.actual == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("kind", "attempts"),
    [("not-json", 4), ("truncated", 4), ("no-envelope", 1), ("wrong-shape", 1)],
)
async def test_malformed_bodies_over_http(
    kind: str, attempts: int, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    # A body that is not JSON at all is a fault of the way, retried; JSON of another shape is not.
    sim.add_fault(Fault(path="/apps/101", malformed=kind, times=None))  # type: ignore[arg-type]
    async with client_for(server, clock=VirtualClock(wall=NOW)) as client:
        with pytest.raises(scout_async.ResponseFormatError):
            await client.apps.get(101)
    assert len(sim.requests) == attempts


@pytest.mark.parametrize("kind", ["not-json", "truncated"])
async def test_a_body_cut_short_once_is_retried_over_http(
    kind: str, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", malformed=kind, skip=1))  # type: ignore[arg-type]
    start = NOW - timedelta(hours=5)
    async with client_for(server, clock=VirtualClock(wall=NOW)) as client:
        series = await client.metrics.get(101, "apdex", start=start, end=NOW, resolution="1m")
    # NOW (17:20:11) is off the grid; the buckets from 17:18 on have not closed (lateness 2 min).
    assert len(series.points) == 5 * 60 - 2
    assert [r.fault is not None for r in sim.requests].count(True) == 1


async def test_concurrency_limit_holds_on_the_server(
    server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", latency=0.02, times=None))
    async with client_for(server, max_concurrency=6) as client:

        async def one(app_id: int) -> None:
            await client.metrics.get(
                app_id, "errors", start=NOW - timedelta(hours=12), end=NOW, resolution="1m"
            )

        async with anyio.create_task_group() as tg:
            for app_id in (101, 102, 103):
                tg.start_soon(one, app_id)
    assert sim.max_in_flight == 6
