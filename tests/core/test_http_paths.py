"""The client behaves the same on each HTTP path (issue 11, item 4): httpx's own pools and
httpx-aiohttp's transport on asyncio, and httpx's on trio. Retries, limits, timeouts, the
no-redirect rule, the 429 pause, the key's redaction and cancellation, over real localhost HTTP."""

from __future__ import annotations

import logging
import socket
import traceback
from datetime import timedelta
from urllib.parse import quote

import anyio
import httpx
import pytest

import scout_async
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer
from tests.conftest import SECRET, VirtualClock
from tests.core.conftest import NOW, HttpPath, open_connections
from tests.core.raw_server import RawServer

DAY = timedelta(days=1)


def said(error: BaseException) -> str:
    """Everything an error shows: its traceback with every cause, and each one's repr."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    seen: BaseException | None = error
    while seen is not None:
        text += repr(seen) + str(seen)
        seen = seen.__cause__ or seen.__context__
    return text


def test_a_request_succeeds_on_the_path_asked_for(http: HttpPath, live: SimulatorServer) -> None:
    async def main() -> None:
        async with http.client(live.url) as client:
            apps = await client.apps.list()
            assert [a.id for a in apps] == [101, 102, 103, 104, 105]
            assert client._core.http_backend == http.expected
            assert client.stats.retries == 0

    http.run(main)


ODD_KEY = "k+y/=&:@!$'()*,;~%x"


def test_every_url_leaves_as_httpx_encodes_it(http: HttpPath, live: SimulatorServer) -> None:
    # aiohttp parses a URL given as a string again and turns %3D in a path into "=": the
    # padding of an endpoint id (base64) would leave differently on one path than the other.
    odd_ids: list[str] = []
    with RawServer() as raw:

        async def main() -> None:
            async with http.client(live.url) as client:
                endpoints = await client.endpoints.list(101, start=NOW - DAY, end=NOW)
                odd_ids.extend(e.id for e in endpoints if set(e.id) & set("+/="))
                for endpoint_id in odd_ids:
                    await client.metrics.get(
                        101, "throughput", endpoint_id=endpoint_id, start=NOW - DAY, end=NOW
                    )
            async with http.client(raw.url, auth="query", api_key=ODD_KEY) as client:
                await client.apps.list()

        http.run(main)
    paths = [r.path for r in live.simulator.requests if r.path.endswith("/throughput")]
    assert paths == [
        f"/api/v0/apps/101/endpoints/{quote(i, safe='')}/metrics/throughput" for i in odd_ids
    ]
    assert {c for i in odd_ids for c in "+/=" if c in i} == {"+", "/", "="}
    # The key's every character, percent-encoded as httpx does (its own URL says how).
    expected = httpx.URL(raw.url + "/apps", params={"key": ODD_KEY})
    assert raw.targets == [expected.raw_path.decode()]


def test_a_5xx_is_retried_then_succeeds(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    sim.add_fault(Fault(path="/apps", status=503, times=2))

    async def main() -> None:
        async with http.client(live.url, clock=clock) as client:
            assert len(await client.apps.list()) == 5
            assert client.stats.retries == 2
            assert client.stats.requests == 3

    http.run(main)
    assert len(clock.sleeps) == 2  # the backoff, on the client's clock


def test_retries_are_bounded_then_the_error_is_typed(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    sim.add_fault(Fault(path="/apps", status=500, times=None))

    async def main() -> None:
        async with http.client(live.url, clock=clock, max_retries=2) as client:
            with pytest.raises(scout_async.ServerError) as info:
                await client.apps.list()
            assert info.value.status_code == 500
            assert client.stats.requests == 3

    http.run(main)
    assert len(sim.requests) == 3


def test_a_dropped_connection_is_a_connection_error_retried(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    sim.add_fault(Fault(path="/apps", drop=True, times=None))

    async def main() -> None:
        async with http.client(live.url, clock=clock, max_retries=1) as client:
            with pytest.raises(scout_async.APIConnectionError) as info:
                await client.apps.list()
            # A broken connection is no timeout, on either path (httpx-aiohttp names every
            # aiohttp connection error ConnectTimeout).
            assert type(info.value) is scout_async.APIConnectionError
            assert "connection failed" in str(info.value)

    http.run(main)


def test_a_refused_connection_is_a_connection_error_not_a_timeout(
    http: HttpPath, clock: VirtualClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed

    async def main() -> None:
        async with http.client(
            f"http://127.0.0.1:{port}/api/v0", clock=clock, max_retries=2
        ) as client:
            with pytest.raises(scout_async.APIConnectionError) as info:
                await client.apps.list()
            assert type(info.value) is scout_async.APIConnectionError
            assert str(info.value).startswith("GET /apps: connection failed (")
            assert client.stats.requests == 3

    http.run(main)


def test_a_read_timeout_is_a_timeout_error(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    sim.add_fault(Fault(path="/apps", latency=5.0, times=2))

    async def main() -> None:
        timeout = httpx.Timeout(5.0, read=0.3)
        async with http.client(live.url, clock=clock, timeout=timeout, max_retries=1) as client:
            with pytest.raises(scout_async.APITimeoutError, match="timed out"):
                await client.apps.list()
            assert client.stats.requests == 2
            # The timed-out connections were given up, not kept: the next request succeeds.
            assert len(await client.apps.list()) == 5
            assert client._core._pool_load == [0] * client._core.pool_count

    http.run(main)


def test_a_connect_timeout_is_a_timeout_error(http: HttpPath, clock: VirtualClock) -> None:
    # A listener whose queue of one is full: the kernel leaves further SYNs unanswered.
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))

        async def main() -> None:
            timeout = httpx.Timeout(5.0, connect=0.3)
            async with http.client(
                f"http://127.0.0.1:{port}/api/v0", clock=clock, timeout=timeout, max_retries=1
            ) as client:
                with pytest.raises(scout_async.APITimeoutError, match="timed out"):
                    await client.apps.list()
                assert client.stats.requests == 2

        http.run(main)


def test_a_redirect_is_not_followed(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    with RawServer(redirect_to=f"{live.url}/apps") as raw:

        async def main() -> None:
            async with http.client(raw.url, clock=clock) as client:
                with pytest.raises(scout_async.APIStatusError, match="not followed") as info:
                    await client.apps.list()
                assert info.value.status_code == 302

        http.run(main)
    assert raw.requests == 1  # a redirect is an answer: not retried
    assert sim.requests == []  # and the key never went where it pointed


def test_a_429_is_waited_out_for_its_retry_after_then_all_succeed(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator, clock: VirtualClock
) -> None:
    sim.add_fault(Fault(path="/apps", status=429, retry_after="7", times=1))

    async def main() -> None:
        async with http.client(live.url, clock=clock, max_concurrency=1) as client:
            results: list[int] = []

            async def one() -> None:
                results.append(len(await client.apps.list()))

            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(one)
            assert results == [5, 5, 5]
            assert client.stats.rate_limited == 1
            assert client.stats.retries == 1

    http.run(main)
    assert max(clock.sleeps) >= 7.0  # the answer's Retry-After, read on this path, was waited


@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_a_200_whose_body_is_not_json(
    times: int | None,
    http: HttpPath,
    live: SimulatorServer,
    sim: ScoutSimulator,
    clock: VirtualClock,
) -> None:
    sim.add_fault(Fault(path="/apps", malformed="not-json", times=times))

    async def main() -> None:
        async with http.client(live.url, clock=clock, max_retries=2) as client:
            if times == 1:
                assert len(await client.apps.list()) == 5
                assert client.stats.retries == 1
            else:
                with pytest.raises(scout_async.ResponseFormatError):
                    await client.apps.list()
                assert client.stats.requests == 3

    http.run(main)


@pytest.mark.parametrize("auth", ["header", "query"])
def test_the_key_shows_in_no_error_and_no_log_line(
    auth: str,
    http: HttpPath,
    clock: VirtualClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: httpx's, httpcore's, aiohttp's, ours
    # Whatever an earlier test in this process did to the HTTP stack's loggers (a level, a
    # disabled logger, propagation off), they reach the capture here.
    for name in ("httpx", "httpcore", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    sim = ScoutSimulator(api_key=SECRET, now=NOW)
    sim.add_fault(Fault(path="/apps/101", drop=True, times=None))
    sim.add_fault(Fault(path="/apps/102", status=500, times=None))
    sim.add_fault(Fault(path="/apps/103", latency=5.0, times=None))
    sim.add_fault(Fault(path="/apps/104", malformed="not-json", times=None))
    errors: list[BaseException] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v0"

    async def main(url: str) -> None:
        options = {"clock": clock, "auth": auth, "max_retries": 1, "api_key": SECRET}
        timeout = httpx.Timeout(5.0, read=0.3)
        async with http.client(url, timeout=timeout, **options) as client:
            assert SECRET not in repr(client) + str(vars(client)) + repr(client._core.config)
            assert len(await client.apps.list()) == 5
            for app_id in (101, 102, 103, 104):
                with pytest.raises(scout_async.ScoutError) as info:
                    await client.apps.get(app_id)
                errors.append(info.value)
            # httpx logs no URL for the client's own pools (it sends past httpx's client):
            # a line of the HTTP stack that holds one, while this client is open.
            logging.getLogger("httpx").info("sending %s", f"{url}/apps?key={SECRET}")
        async with http.client(refused, **options) as client:
            with pytest.raises(scout_async.APIConnectionError) as refused_info:
                await client.apps.list()
            errors.append(refused_info.value)

    with SimulatorServer(sim) as server:
        http.run(main, server.url)
    expected = [
        scout_async.APIConnectionError,
        scout_async.ServerError,
        scout_async.APITimeoutError,
        scout_async.ResponseFormatError,
        scout_async.APIConnectionError,
    ]
    assert len(errors) == len(expected)
    assert all(isinstance(e, t) for e, t in zip(errors, expected, strict=True))
    for error in errors:
        assert SECRET not in said(error)
    client_side = [r for r in caplog.records if not r.name.startswith("uvicorn")]
    assert len(client_side) >= 5  # requests and retries were logged
    for record in client_side:
        assert SECRET not in record.getMessage(), record.getMessage()
    # The URL was logged, its key masked (another client's redaction left open elsewhere in
    # the process may mask more of it: not "key=" itself, then).
    assert any("/apps?" in r.getMessage() and "***" in r.getMessage() for r in client_side)


@pytest.mark.parametrize("auth", ["header", "query"])
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", id="bad-status-line"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 120_000 + b"\r\nContent-Length: 0\r\n\r\n",
            id="huge-header",
        ),
    ],
)
def test_an_unparseable_answer_is_retried_and_shows_no_key(
    auth: str, answer: bytes, http: HttpPath, clock: VirtualClock
) -> None:
    errors: list[BaseException] = []

    async def main(url: str) -> None:
        options = {"clock": clock, "auth": auth, "max_retries": 1, "api_key": SECRET}
        async with http.client(url, **options) as client:
            # A bad status line is a broken connection on both paths. A huge header is one on
            # aiohttp's (its limit is 8 KB); httpx reads it, then an empty body: not JSON.
            with pytest.raises(scout_async.ScoutError) as info:
                await client.apps.list()
            errors.append(info.value)

    with RawServer(answer=answer) as raw:
        http.run(main, raw.url)
        assert raw.requests == 2  # retried once, as any broken answer
    assert SECRET not in said(errors[0])
    if b"2OO" in answer or http.expected == "aiohttp":
        assert isinstance(errors[0], scout_async.APIConnectionError)


def test_cancelling_mid_request_leaves_every_pool_usable(
    http: HttpPath, live: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps", latency=30.0, times=2))

    async def main() -> None:
        async with http.client(live.url, max_concurrency=4) as client:
            await client.apps.get(101)  # a connection to reuse

            async def cancel_once_both_in_flight(scope: anyio.CancelScope) -> None:
                with anyio.fail_after(30):
                    while sim.in_flight < 2:  # noqa: ASYNC110 - polling the simulator's counter
                        await anyio.sleep(0.01)
                scope.cancel()

            async with anyio.create_task_group() as tg:
                tg.start_soon(cancel_once_both_in_flight, tg.cancel_scope)
                tg.start_soon(client.apps.list)
                tg.start_soon(client.apps.list)
            assert tg.cancel_scope.cancelled_caught
            core = client._core
            assert core._pool_load == [0] * core.pool_count  # every slot came back
            assert client.stats.in_flight == 0
            async with anyio.create_task_group() as tg:
                for _ in range(12):
                    tg.start_soon(client.apps.list)
            assert client.stats.retries == 0  # nothing half-read was reused
            assert open_connections(live.port) <= 4

    http.run(main)
