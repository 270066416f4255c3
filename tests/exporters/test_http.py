"""The exporter's HTTP side over real sockets, served by uvicorn: routes, methods, keep-alive,
gzip, bad requests, the connection cap, a clean stop; and the same routes as an ASGI app mounted
in Starlette."""

from __future__ import annotations

import contextlib
import gzip
import signal
import socket
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import httpx
import pytest
import trio
from starlette.applications import Starlette
from starlette.routing import Mount

from scout_async import ScoutClient
from scout_async.exporters import ScoutExporter
from scout_async.exporters._http import MAX_CONNECTIONS, Routes, asgi_app, bind, serve_asgi
from scout_async.testing import ScoutSimulator, SimulatorServer

from .support import SECRET, parse

EXPOSITION = b"# HELP x_seconds X.\n# TYPE x_seconds gauge\nx_seconds 1.5\n"


def routes(*, healthy: bool = True, ready: bool = False) -> Routes:
    def exposition(accept: str) -> tuple[bytes, str]:
        return EXPOSITION + f"# accept={accept}\n".encode(), "text/plain; version=0.0.4"

    return Routes(
        exposition=exposition,
        health=lambda: (healthy, "ok" if healthy else "polling stopped: AuthenticationError"),
        readiness=lambda: (ready, "ready" if ready else "waiting for the first successful poll"),
    )


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[str]:
    """``host:port`` of uvicorn serving stub routes (pytest-asyncio runs a fixture's setup and
    teardown in different tasks, which a task group cannot span: a context manager instead).
    On the way out, the port is free again: cancelling stopped uvicorn and closed the socket."""
    sock = bind("127.0.0.1", 0)
    host, port = sock.getsockname()
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve_asgi, asgi_app(routes()), sock)
        yield f"{host}:{port}"
        tg.cancel_scope.cancel()
    assert sock.fileno() == -1
    with socket.create_server((host, port)):
        pass


async def test_routes_methods_and_headers() -> None:
    async with serving() as server, httpx.AsyncClient(base_url=f"http://{server}") as http:
        metrics = await http.get("/metrics", headers={"Accept-Encoding": "identity"})
        assert metrics.status_code == 200
        assert metrics.content.startswith(EXPOSITION)
        assert metrics.headers["content-type"] == "text/plain; version=0.0.4"
        assert metrics.headers["cache-control"] == "no-store"
        # The Accept header reaches the exposition (content negotiation), the query is ignored.
        negotiated = await http.get("/metrics?x=1", headers={"Accept": "application/openmetrics"})
        assert b"# accept=application/openmetrics\n" in negotiated.content
        head = await http.head("/metrics", headers={"Accept-Encoding": "identity"})
        assert (head.status_code, head.content) == (200, b"")
        assert int(head.headers["content-length"]) == len(metrics.content)
        assert (await http.get("/healthz")).text == "ok\n"
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.text) == (
            503,
            "waiting for the first successful poll\n",
        )
        assert (await http.get("/")).status_code == 200
        missing = await http.get("/nope")
        assert missing.status_code == 404
        post = await http.post("/metrics", content=b"x" * 1000)
        assert (post.status_code, post.headers["allow"]) == (405, "GET, HEAD")


async def test_gzip_when_asked() -> None:
    async with serving() as server:
        async with httpx.AsyncClient(base_url=f"http://{server}") as http:
            response = await http.get("/metrics", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert response.content.startswith(EXPOSITION)  # httpx decoded it
        raw = await _raw(
            server, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
        )
        _, body = raw.split(b"\r\n\r\n", 1)
        assert gzip.decompress(body).startswith(EXPOSITION)


async def test_one_connection_serves_many_requests() -> None:
    async with serving() as server:
        host, port = server.rsplit(":", 1)
        async with await anyio.connect_tcp(host, int(port)) as stream:
            responses = Responses(stream)
            for _ in range(3):
                await stream.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = await responses.next()
                assert answer.startswith(b"HTTP/1.1 200 ")
                assert answer.endswith(b"\r\n\r\nok\n")
            # Pipelined: both answered, in order.
            await stream.send(
                b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            assert (await responses.next()).startswith(b"HTTP/1.1 200 ")
            assert (await responses.next()).startswith(b"HTTP/1.1 404 ")


async def test_nonsense_gets_a_400_and_a_closed_connection() -> None:
    async with serving() as server:
        raw = await _raw(server, b"NOT HTTP AT ALL\r\n\r\n")
        assert raw.startswith(b"HTTP/1.1 400 ")
        # A request head that grows past 16 KiB without ending (uvicorn's
        # h11_max_incomplete_event_size) is refused rather than buffered on.
        endless = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000
        assert (await _raw(server, endless)).startswith(b"HTTP/1.1 400 ")
        fits = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 12_000 + b"\r\n\r\n"
        assert (await _raw(server, fits)).startswith(b"HTTP/1.1 200 ")
        # A client that leaves mid-request harms nothing.
        host, port = server.rsplit(":", 1)
        async with await anyio.connect_tcp(host, int(port)) as stream:
            await stream.send(b"GET /metr")
        async with httpx.AsyncClient(base_url=f"http://{server}") as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_connections_past_the_cap_get_a_503() -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    async with serving() as server:
        host, port = server.rsplit(":", 1)
        streams = [await anyio.connect_tcp(host, int(port)) for _ in range(MAX_CONNECTIONS - 1)]
        try:
            # Each of those holds a connection (idle, within the keep-alive timeout); under the
            # cap a request is answered.
            await streams[-1].send(request)
            assert (await Responses(streams[-1]).next()).startswith(b"HTTP/1.1 200 ")
            async with await anyio.connect_tcp(host, int(port)) as extra:
                # One more is past uvicorn's limit_concurrency: turned away, not queued.
                await extra.send(request)
                assert (await Responses(extra).next()).startswith(b"HTTP/1.1 503 ")
        finally:
            for stream in streams:
                await stream.aclose()
        async with httpx.AsyncClient(base_url=f"http://{server}") as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_the_routes_mount_in_an_asgi_app_under_a_prefix() -> None:
    sim = ScoutSimulator(api_key=SECRET)
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url) as client,
    ):
        exporter = ScoutExporter(client, apps=[101], metrics=["apdex"])
        app = Starlette(routes=[Mount("/scout", app=exporter.asgi_app())])
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://app") as http,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(exporter.run)
            while not exporter.ready:  # noqa: ASYNC110 (a property, not an event)
                await anyio.sleep(0.01)
            response = await http.get("/scout/metrics")
            assert response.status_code == 200
            assert parse(response.text).one("scout_app_apdex_ratio", app_id="101") is not None
            assert (await http.get("/scout/readyz")).text == "ready\n"
            head = await http.head("/scout/metrics")
            assert (head.status_code, head.content) == (200, b"")
            assert (await http.get("/scout/nope")).status_code == 404
            tg.cancel_scope.cancel()


def test_on_trio_serve_says_it_needs_asyncio_and_the_rest_runs() -> None:
    sim = ScoutSimulator(api_key=SECRET)

    async def main() -> str:
        async with (
            SimulatorServer(sim) as server,
            ScoutClient(api_key=SECRET, base_url=server.url) as client,
        ):
            exporter = ScoutExporter(client, apps=[101], metrics=["throughput"])
            # uvicorn runs on asyncio only: serve says so at once, before listening anywhere.
            with pytest.raises(RuntimeError, match="asyncio only"):
                await exporter.serve("127.0.0.1", 0)
            # The poll and the ASGI app (for a trio ASGI server) run on trio.
            transport = httpx.ASGITransport(app=exporter.asgi_app())
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://x") as http,
                anyio.create_task_group() as tg,
            ):
                tg.start_soon(exporter.run)
                while not exporter.ready:  # noqa: ASYNC110 (a property, not an event)
                    await anyio.sleep(0.01)
                text = (await http.get("/metrics")).text
                tg.cancel_scope.cancel()
        return text

    scrape = parse(trio.run(main))
    assert scrape.one("scout_app_throughput_requests_per_second", app_id="101") is not None


async def test_serve_leaves_the_process_signal_handlers_alone() -> None:
    # uvicorn on its own takes SIGINT and SIGTERM while it serves; inside the command line (or
    # anyone's application) those belong to the caller, who stops serve by cancelling it.
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    async with serving() as server, httpx.AsyncClient(base_url=f"http://{server}") as http:
        assert (await http.get("/healthz")).status_code == 200
        during = {number: signal.getsignal(number) for number in before}
    assert during == before
    assert {number: signal.getsignal(number) for number in before} == before


async def _raw(server: str, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and read until the server closes it (after the
    answer: with ``Connection: close`` added here when the request keeps it open)."""
    host, port = server.rsplit(":", 1)
    if b"HTTP/1.1\r\n" in request and b"Connection:" not in request:
        request = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(request)
        chunks = []
        with anyio.fail_after(10):
            while True:
                try:
                    chunks.append(await stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
    return b"".join(chunks)


class Responses:
    """Responses with a Content-Length body, one at a time, off a kept-alive connection."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.data = b""

    async def next(self) -> bytes:
        with anyio.fail_after(10):
            while b"\r\n\r\n" not in self.data:
                self.data += await self.stream.receive()
            head, _, rest = self.data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(rest) < length:
                rest += await self.stream.receive()
        self.data = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]
