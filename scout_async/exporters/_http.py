"""The exporter's HTTP side: routes (``/metrics``, ``/healthz``, ``/readyz``) as an ASGI app, and
uvicorn serving it inside the caller's asyncio event loop.

HTTP itself is uvicorn's (its h11 protocol): keep-alive, pipelining, HEAD, bad requests (400),
oversized request heads (``h11_max_incomplete_event_size``), the idle keep-alive timeout and the
cap on concurrent connections (``limit_concurrency``, 503 past it). A route answers from memory
at once: nothing here waits on Scout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
from collections.abc import Awaitable, Callable, Generator, Mapping, MutableMapping
from typing import Any

import anyio
import attrs
import uvicorn

__all__ = ["ASGIApp", "Reply", "Routes", "asgi_app", "bind", "require_asyncio", "serve_asgi"]

#: An ASGI 3 application, as Starlette, FastAPI or uvicorn take one.
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]

TEXT = "text/plain; charset=utf-8"
#: uvicorn's limits: the largest request head (bytes; larger is a 400), seconds an idle
#: kept-alive connection stays open (Prometheus scrapes every 15 s to 1 min), connections and
#: requests at once (more get a 503), and seconds a stop waits for answers being written.
MAX_HEAD = 16 * 1024
KEEP_ALIVE = 30
MAX_CONNECTIONS = 64
SHUTDOWN_GRACE = 5


@attrs.frozen
class Reply:
    status: int
    body: bytes
    content_type: str = TEXT
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Routes:
    """``/metrics`` (the exposition, negotiated from ``Accept``, gzipped when asked),
    ``/healthz`` (is polling alive), ``/readyz`` (is there data to serve), ``/`` (links)."""

    exposition: Callable[[str], tuple[bytes, str]]
    health: Callable[[], tuple[bool, str]]
    readiness: Callable[[], tuple[bool, str]]

    def respond(self, method: str, target: str, headers: Mapping[str, str]) -> Reply:
        """The answer to ``method target`` with ``headers`` (lowercase names)."""
        path = target.split("?", 1)[0]
        if path not in ("/", "/metrics", "/healthz", "/readyz"):
            return Reply(404, b"not found: try /metrics, /healthz or /readyz\n")
        if method not in ("GET", "HEAD"):
            return Reply(405, b"method not allowed\n", headers=(("Allow", "GET, HEAD"),))
        if path == "/metrics":
            body, content_type = self.exposition(headers.get("accept", ""))
            if "gzip" in headers.get("accept-encoding", "").lower():
                return Reply(
                    200,
                    gzip.compress(body, compresslevel=6),
                    content_type,
                    (("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")),
                )
            return Reply(200, body, content_type, (("Vary", "Accept-Encoding"),))
        if path == "/":
            return Reply(
                200,
                b"scout-async exporter: /metrics (Prometheus), /healthz (polling alive), "
                b"/readyz (data to serve)\n",
            )
        ok, why = self.health() if path == "/healthz" else self.readiness()
        return Reply(200 if ok else 503, (why + "\n").encode())


# -- ASGI --------------------------------------------------------------------------------------


def asgi_app(routes: Routes) -> ASGIApp:
    """The routes as an ASGI app; mounted under a prefix (``root_path``), paths are taken
    relative to it."""

    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            raise RuntimeError(f"the exporter speaks HTTP only, not {scope['type']}")
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = bytes(name).decode("latin-1").lower()
            text = bytes(value).decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        reply = routes.respond(scope["method"], path, headers)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in _head(reply)
                ],
            }
        )
        body = b"" if scope["method"] == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})

    return app


def _head(reply: Reply) -> list[tuple[str, str]]:
    return [
        ("Content-Type", reply.content_type),
        ("Content-Length", str(len(reply.body))),
        ("Cache-Control", "no-store"),
        *reply.headers,
    ]


# -- serving with uvicorn ----------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: a free port, known before serving starts);
    IPv6 when ``host`` has a colon, else IPv4 (as uvicorn's ``--host``: a name is bound at its
    IPv4 address). ``OSError`` as it is when the address is taken or not this machine's."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, leaving the process's signals alone: it runs inside someone else's
    event loop (the command line's SIGTERM and Ctrl-C handling, an application's own), which
    stops it by cancelling ``serve_asgi``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def require_asyncio() -> None:
    """``RuntimeError`` unless an asyncio event loop runs this task: uvicorn runs on asyncio
    only."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "the exporter's HTTP server (uvicorn) runs on asyncio only: on trio, run "
            "exporter.run() and serve exporter.asgi_app() with a trio ASGI server (hypercorn)"
        ) from None


async def serve_asgi(app: ASGIApp, sock: socket.socket) -> None:
    """Serve ``app`` with uvicorn on the listening ``sock`` until cancelled, then stop it
    gracefully and close ``sock``. asyncio only (``require_asyncio``)."""
    require_asyncio()
    config = uvicorn.Config(
        app,
        http="h11",
        ws="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,  # leave the process's logging alone
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_keep_alive=KEEP_ALIVE,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    server = _Server(config)
    stopped = anyio.Event()
    failures: list[Exception] = []

    async def run() -> None:
        # Shielded: a cancellation asks uvicorn to stop (below) and waits for it to close its
        # connections and the socket, instead of abandoning it half-way.
        with anyio.CancelScope(shield=True):
            try:
                await server.serve(sockets=[sock])
            except Exception as exc:  # raised below, outside the task group (no group)
                failures.append(exc)
            finally:
                stopped.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                await stopped.wait()
            finally:
                server.should_exit = True
    finally:
        sock.close()
    if failures:
        raise failures[0]
    raise RuntimeError("the exporter's HTTP server stopped unexpectedly")
