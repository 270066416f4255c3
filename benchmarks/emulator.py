"""A Scout metrics emulator for the benchmarks, independent of ``scout_async`` (imports none of it).

    python benchmarks/emulator.py [--latency 0.05] [--workers 2] [--port 0]

Serves ``GET /api/v0/apps/{id}/metrics/{metric}?from=&to=`` with Scout's envelope::

    {"header": {"status": {"code": 200, "message": "OK"}, "apiVersion": "0.1"},
     "results": {"summaries": {metric: n},
                 "series": {metric: [["2026-11-01T00:05:00Z", 76.51], ...]}}}

at the step Scout's docs give for the window's length (<=60 min 1 min, <=3 h 2 min, <=12 h 5 min,
<=1 d 10 min, <=3 d 30 min, <=7 d 1 h, <=14 d 2 h; a band's upper edge in that band; buckets on
the epoch-aligned grid from ``from`` to ``to``, the bucket at ``to`` included), after a fixed
``--latency``. A window longer than 14 days, or ``from`` not before ``to``, is a 422; a request
without ``X-SCOUT-API`` (or ``?key=``) a 403; any other path a 404, each in Scout's envelope.

Built so that the server is never what a client benchmark measures:

* a bare ASGI callable (no framework), served by uvicorn (httptools and uvloop when installed);
* ``--workers`` processes, each with its own listening socket on one port (``SO_REUSEPORT``), so
  the kernel spreads connections over them and none of their CPU is in the client's process;
* bodies are pre-rendered: each point's ``["<time>",value]`` is rendered once per bucket start
  and reused by every window that holds it, and each answer is kept per path and query (up to
  256 MiB a worker), so a benchmark's repeated runs cost the server a dictionary lookup; values
  are a pure function of the bucket's time, so overlapping windows agree;
* TCP_NODELAY on every connection: without it uvicorn's h11 protocol (headers and body written
  apart) stalls each answer for the peer's delayed ACK, about 40 ms.

The first line on stdout is ``<base url> <worker pid>,<worker pid>,...`` (the benchmarks read the
workers' CPU from ``/proc``); SIGTERM or SIGINT stops every worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/api/v0"
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MAX_WINDOW = 14 * DAY
#: Scout's step table (docs, "Time windows and steps"): (upper edge of the window length, step).
STEPS = (
    (60 * MINUTE, 1 * MINUTE),
    (3 * HOUR, 2 * MINUTE),
    (12 * HOUR, 5 * MINUTE),
    (1 * DAY, 10 * MINUTE),
    (3 * DAY, 30 * MINUTE),
    (7 * DAY, 1 * HOUR),
    (14 * DAY, 2 * HOUR),
)
HEADERS = [(b"content-type", b"application/json")]


def step_for(length: int) -> int:
    for upper, step in STEPS:
        if length <= upper:
            return step
    raise ValueError(length)


def value_at(epoch: int) -> float:
    """A plausible metric value (two decimals, like Scout's), a pure function of the bucket."""
    return 20 + ((epoch // 60) * 2654435761 % 10_007) / 100


_points: dict[int, bytes] = {}
_times: dict[str, int | None] = {}
_bodies: dict[tuple[str, bytes], tuple[int, bytes]] = {}
_cached = 0
#: Bodies kept per worker: every run of a benchmark asks for the same windows again.
CACHE_BYTES = 256 * 2**20


def point(epoch: int) -> bytes:
    """``["2026-11-01T00:05:00Z",76.51]`` for the bucket starting at ``epoch``, rendered once."""
    rendered = _points.get(epoch)
    if rendered is None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
        rendered = _points[epoch] = f'["{stamp}",{value_at(epoch)}]'.encode()
    return rendered


def parse_time(text: str) -> int | None:
    """Epoch seconds of an ISO 8601 time (``Z`` or an offset), ``None`` if it is not one."""
    if text in _times:
        return _times[text]
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        epoch: int | None = int(moment.timestamp()) if moment.tzinfo is not None else None
    except ValueError:
        epoch = None
    if len(_times) < 1_000_000:
        _times[text] = epoch
    return epoch


def envelope(code: int, message: str, results: bytes = b"{}") -> bytes:
    head = b'{"header":{"status":{"code":%d,"message":"%s"},"apiVersion":"0.1"},' % (
        code,
        message.encode(),
    )
    return head + b'"results":' + results + b"}"


def metric_body(metric: str, start: int, end: int) -> bytes:
    step = step_for(end - start)
    first = -(-start // step) * step
    points = b",".join([point(epoch) for epoch in range(first, end + 1, step)])
    name = metric.encode()
    summary = str(value_at(first)).encode()
    results = b'{"summaries":{"%s":%s},"series":{"%s":[%s]}}' % (name, summary, name, points)
    return envelope(200, "OK", results)


def answer(scope: Scope) -> tuple[int, bytes]:
    """The status and body for a request, rendered once per path and query while they fit."""
    global _cached
    query: bytes = scope["query_string"]
    keyed = any(name == b"x-scout-api" for name, _ in scope["headers"]) or (
        "key" in dict(parse_qsl(query.decode("latin-1")))
    )
    if not keyed:
        return 403, envelope(403, "Forbidden, check your API key")
    key = (scope["path"], query)
    if key in _bodies:
        return _bodies[key]
    status, body = render(scope)
    if status == 200 and _cached < CACHE_BYTES:
        _bodies[key] = status, body
        _cached += len(body)
    return status, body


def render(scope: Scope) -> tuple[int, bytes]:
    path: str = scope["path"]
    parts = path[len(PREFIX) :].split("/") if path.startswith(PREFIX + "/") else []
    # ['', 'apps', '101', 'metrics', 'response_time']
    if len(parts) != 5 or parts[1] != "apps" or parts[3] != "metrics" or not parts[2].isdigit():
        return 404, envelope(404, "Record Not Found")
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    start = parse_time(query.get("from", ""))
    end = parse_time(query.get("to", ""))
    if start is None or end is None or not 0 < end - start <= MAX_WINDOW:
        return 422, envelope(422, "Invalid timeframe parameters")
    return 200, metric_body(parts[4], start, end)


def make_app(latency: float) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no lifespan, no websockets
            return
        status, body = answer(scope)
        if latency:
            await asyncio.sleep(latency)
        headers = [*HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by connections
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    return sock


def serve(sock: socket.socket, latency: float) -> None:
    import uvicorn

    config = uvicorn.Config(
        make_app(latency),
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        date_header=False,
        timeout_keep_alive=30,
        backlog=2048,
    )
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    # Every worker listens on its own socket of one port; the kernel balances connections.
    sockets = [listening_socket(args.port)]
    port = sockets[0].getsockname()[1]
    sockets += [listening_socket(port) for _ in range(args.workers - 1)]
    pids = []
    for index, sock in enumerate(sockets):
        pid = os.fork()
        if pid == 0:  # the worker: its own socket only
            for other in sockets[:index] + sockets[index + 1 :]:
                other.close()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                serve(sock, args.latency)
            finally:
                os._exit(0)
        pids.append(pid)
    for sock in sockets:
        sock.close()
    print(f"http://127.0.0.1:{port}{PREFIX} {','.join(map(str, pids))}", flush=True)

    def stop(signum: int, frame: object) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids:
            os.waitpid(pid, 0)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
