"""Connection reuse stays correct on each HTTP path (issue 17): a server that closes idle
keep-alive connections, or closes each one right after its answer; an RST on a reused connection;
a request cancelled with half its body read. None leaves a broken connection in any pool: after
each, further requests all succeed and the client holds no more connections than its limit.

A bare server of the test's own (``RawServer``) does to the connections what the simulator cannot;
cancellation before the answer is in test_http_paths.py."""

from __future__ import annotations

import anyio
import pytest

import scout_async
from scout_async._core import POOL_SIZE
from tests.core.conftest import HttpPath, open_connections
from tests.core.raw_server import RawServer

#: Over 16, so httpx's path spreads the requests over two pools (pool_sizes: 10 + 10).
CONCURRENCY = 20


async def burst(client: scout_async.ScoutClient, count: int) -> None:
    """``count`` requests at once; each must succeed."""
    answers: list[int] = []

    async def one() -> None:
        answers.append(len(await client.apps.list()))

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one)
    assert answers == [1] * count


def assert_no_broken_connection_left(client: scout_async.ScoutClient, port: int) -> None:
    core = client._core
    assert core._pool_load == [0] * core.pool_count
    assert client.stats.in_flight == 0
    assert open_connections(port) <= CONCURRENCY


def test_layout_of_each_path(http: HttpPath) -> None:
    async def main() -> None:
        with RawServer() as raw:
            async with http.client(raw.url, max_concurrency=CONCURRENCY) as client:
                await client.apps.list()
                assert client._core.http_backend == http.expected
                # httpx: pools of at most POOL_SIZE; aiohttp: one connector holds them all.
                pools = -(-CONCURRENCY // POOL_SIZE) if http.expected == "httpx" else 1
                assert client._core.pool_count == pools

    http.run(main)


def test_a_server_closing_idle_connections_costs_nothing(http: HttpPath) -> None:
    async def main() -> None:
        with RawServer() as raw:
            async with http.client(raw.url, max_concurrency=CONCURRENCY) as client:
                for _ in range(3):
                    before = raw.connections
                    await burst(client, CONCURRENCY)
                    # The server's keep-alive timeout: every kept connection is closed while
                    # idle. Each is dropped, not sent on again, and new ones are opened.
                    assert raw.close_idle() == raw.connections - before > 1
                    await anyio.sleep(0.05)  # the client's event loop takes the FINs in
                await burst(client, CONCURRENCY)
                assert client.stats.retries == 0
                assert_no_broken_connection_left(client, raw.port)

    http.run(main)


def test_a_server_closing_each_connection_after_its_answer(http: HttpPath) -> None:
    # No "Connection: close": the client learns only from the FIN, maybe after it has sent the
    # next request on the connection. That request must be sent again, never fail.
    async def main() -> None:
        with RawServer(close_after_answer=True) as raw:
            async with http.client(raw.url, max_concurrency=CONCURRENCY) as client:
                for _ in range(10):
                    assert len(await client.apps.list()) == 1
                await burst(client, 2 * CONCURRENCY)
                assert raw.requests >= 10 + 2 * CONCURRENCY
                assert_no_broken_connection_left(client, raw.port)

    http.run(main)


@pytest.mark.parametrize("resets", [1, 5])
def test_a_reset_on_a_reused_connection_is_recovered_and_dropped(
    http: HttpPath, resets: int
) -> None:
    async def main() -> None:
        with RawServer(resets=resets) as raw:
            async with http.client(raw.url, max_concurrency=CONCURRENCY) as client:
                await burst(client, 5)  # connections to reuse
                await burst(client, 5)  # the reused ones get an RST instead of an answer
                assert raw.resets_sent == resets
                # Sent again (by the client's retry, or aiohttp's own for a reused connection),
                # each at most once; what follows finds nothing broken to reuse.
                retries = client.stats.retries
                assert retries <= resets
                for _ in range(3):
                    await burst(client, CONCURRENCY)
                assert client.stats.retries == retries
                assert_no_broken_connection_left(client, raw.port)

    http.run(main)


def test_cancelling_with_half_a_body_read_leaves_no_broken_connection(http: HttpPath) -> None:
    async def main() -> None:
        with RawServer() as raw:
            async with http.client(raw.url, max_concurrency=CONCURRENCY) as client:
                await burst(client, 3)  # connections to reuse
                raw.stalls_left = 3

                async def cancel_once_all_stalled(scope: anyio.CancelScope) -> None:
                    with anyio.fail_after(30):
                        while raw.stalled < 3:  # noqa: ASYNC110 - the server's counter
                            await anyio.sleep(0.01)
                    scope.cancel()

                async with anyio.create_task_group() as tg:
                    tg.start_soon(cancel_once_all_stalled, tg.cancel_scope)
                    for _ in range(3):
                        tg.start_soon(client.apps.list)
                assert tg.cancel_scope.cancelled_caught
                # A connection with half an answer unread is closed, never reused: the rest of
                # that answer would be read as the next one's start.
                for _ in range(3):
                    await burst(client, CONCURRENCY)
                assert client.stats.retries == 0
                assert_no_broken_connection_left(client, raw.port)

    http.run(main)
