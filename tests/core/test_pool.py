"""The client's connection pools (issue 17): layout, and reuse that stays correct over real
localhost HTTP when the server closes idle connections, resets a reused one, or a request is
cancelled mid-way, on httpx's pools and on httpx-aiohttp's transport (more in test_reuse.py)."""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import pytest

import scout_async
from scout_async._core import POOL_SIZE, pool_sizes
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer
from tests.core.conftest import open_connections


def client_for(
    url: str, max_concurrency: int = 8, http_backend: str = "httpx"
) -> scout_async.ScoutClient:
    return scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY,
        base_url=url,
        max_concurrency=max_concurrency,
        max_retries=3,
        http_backend=http_backend,
    )


BACKENDS = pytest.mark.parametrize("backend", ["httpx", "aiohttp"])


@pytest.mark.parametrize(
    ("concurrency", "sizes"),
    [
        (1, [1]),
        (8, [8]),
        (9, [5, 4]),
        (16, [8, 8]),
        (17, [6, 6, 5]),
        (32, [8] * 4),
        (64, [8] * 8),
        (50, [8, 7, 7, 7, 7, 7, 7]),
    ],
)
def test_pools_hold_at_most_pool_size_and_add_up(concurrency: int, sizes: list[int]) -> None:
    assert pool_sizes(concurrency) == sizes
    assert sum(sizes) == concurrency
    assert max(sizes) <= POOL_SIZE


def test_a_client_spreads_over_several_pools_only_past_pool_size() -> None:
    assert client_for("http://127.0.0.1:1", POOL_SIZE)._core.pool_count == 1
    assert client_for("http://127.0.0.1:1", 4 * POOL_SIZE)._core.pool_count == 4


def test_on_aiohttp_one_connector_holds_every_connection() -> None:
    assert client_for("http://127.0.0.1:1", 4 * POOL_SIZE, "aiohttp")._core.pool_count == 1


@pytest.mark.parametrize(
    ("backend", "loads"),
    [
        ("httpx", [8] * 6),  # six pools of 8, each busy, none over its size
        ("aiohttp", [48]),  # one connector holds them all
    ],
)
async def test_requests_use_every_pool_and_return_every_slot(
    server: SimulatorServer, sim: ScoutSimulator, backend: str, loads: list[int]
) -> None:
    # Long enough for all 48 requests to be in flight at once, and for the watcher (polling
    # every 10 ms) to see it on a slow machine: they start over a few hundred ms there.
    sim.latency = 1.0
    async with client_for(server.url, 48, backend) as client:
        core = client._core
        seen: list[int] = []

        async def watch() -> None:
            with anyio.fail_after(30):
                while sim.in_flight < 48:  # noqa: ASYNC110 - polling the simulator's counter
                    await anyio.sleep(0.01)
            seen.extend(core._pool_load)

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            for _ in range(48):
                tg.start_soon(client.apps.list)
        # All busy at once, and each slot came back.
        assert seen == loads
        assert core._pool_load == [0] * len(loads)
        assert open_connections(server.port) == 48  # the pools keep their connections for reuse
        assert client.stats.retries == 0


LOADS = {"httpx": [0] * 4, "aiohttp": [0]}  # 32 in flight: four httpx pools of 8, one connector


@BACKENDS
async def test_a_server_closing_idle_connections_costs_no_retry(
    sim: ScoutSimulator, backend: str
) -> None:
    async with SimulatorServer(sim) as first:
        port, url = first.port, first.url
        client = client_for(url, 32, backend)
        async with anyio.create_task_group() as tg:
            for _ in range(32):
                tg.start_soon(client.apps.list)
        assert open_connections(port) > 0
    # The server went away with every idle connection the pools kept; one comes back on the
    # same port. The next requests find the closed connections, drop them and open new ones.
    async with SimulatorServer(sim, port=port), client:
        async with anyio.create_task_group() as tg:
            for _ in range(32):
                tg.start_soon(client.apps.list)
        assert client.stats.retries == 0
        assert client._core._pool_load == LOADS[backend]


@BACKENDS
async def test_a_reset_on_a_reused_connection_is_retried_and_the_connection_dropped(
    server: SimulatorServer, sim: ScoutSimulator, backend: str
) -> None:
    async with client_for(server.url, 2, backend) as client:
        await client.apps.list()  # a connection is now in the pool
        sim.add_fault(Fault(path="/apps", drop=True))  # the reused connection breaks mid-body
        await client.apps.list()
        assert client.stats.retries == 1
        for _ in range(5):  # nothing broken is left to reuse: no further retry
            await client.apps.list()
        assert client.stats.retries == 1
        assert open_connections(server.port) <= 2
        assert client._core._pool_load == [0]


@BACKENDS
async def test_cancelling_mid_request_leaves_no_broken_connection(
    server: SimulatorServer, sim: ScoutSimulator, backend: str
) -> None:
    async with client_for(server.url, 2, backend) as client:
        await client.apps.list()
        sim.add_fault(Fault(path="/apps", latency=30.0))
        with anyio.CancelScope() as scope:

            async def cancel_once_in_flight() -> None:
                with anyio.fail_after(30):
                    while sim.in_flight < 1:  # noqa: ASYNC110 - polling the simulator's counter
                        await anyio.sleep(0.01)
                scope.cancel()

            async with anyio.create_task_group() as tg:
                tg.start_soon(cancel_once_in_flight)
                await client.apps.list()
        assert scope.cancelled_caught
        assert client._core._pool_load == [0]  # the cancelled request gave its slot back
        for _ in range(5):
            await client.apps.list()
        assert client.stats.retries == 0
        assert open_connections(server.port) <= 2


@pytest.mark.parametrize(("backend", "concurrency"), [("httpx", 64), ("aiohttp", 64)])
async def test_a_client_loads_the_ca_bundle_once_for_all_its_pools(
    monkeypatch: pytest.MonkeyPatch, backend: str, concurrency: int
) -> None:
    """Each of httpx's clients, left to itself, makes its own TLS context and loads the CA
    bundle again (~50 ms of CPU each, 8 times for 64 in flight): the pools share one, and it
    still verifies certificates and host names."""
    if backend == "aiohttp":
        import aiohttp.connector  # makes its own default contexts once, when imported

        assert aiohttp.connector
    made: list[ssl.SSLContext] = []
    default = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = default(*args, **kwargs)
        made.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", counting)
    async with client_for("https://scout.test/api/v0", concurrency, backend) as client:
        await client.aclose()  # the pools are made on construction inside a loop
    assert len(made) == 1
    assert made[0].verify_mode == ssl.CERT_REQUIRED
    assert made[0].check_hostname
