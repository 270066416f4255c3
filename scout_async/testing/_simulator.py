"""`ScoutSimulator`: the simulated account, its clock and faults, and the ASGI app serving it."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import anyio
import attrs
import httpx
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send

from ._catalog import Catalog
from ._envelope import ApiError, encode, envelope
from ._facts import API_PREFIX, DEFAULT_API_KEY, DEFAULT_APPS, IN_PROCESS_BASE_URL
from ._faults import Fault, FaultBook, malformed_body
from ._routes import Call, dispatch
from ._rules import DEFAULT_RETENTION

__all__ = ["AuthMode", "DroppedConnection", "RecordedRequest", "ScoutSimulator"]

AuthMode = Literal["header", "query", "body"]
_JSON = "application/json; charset=utf-8"
# Recorded for a request the client gave up on before it was answered (nginx's "client closed
# request"); nothing was sent.
CLIENT_CLOSED = 499


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised by the app to break a response off mid-body (the ``drop`` fault).

    Over a real server the connection closes early. In-process, ``httpx.ASGITransport`` re-raises
    app exceptions, so this is httpx's own error type: a client sees the same transport error
    either way.
    """


@attrs.frozen
class RecordedRequest:
    """One request the simulator answered.

    ``path`` is the full path as sent (still percent-encoded); ``query`` has the value of a
    ``key`` parameter replaced by ``"***"``; ``auth_mode`` says where the key came from;
    ``status`` is the HTTP status sent (499 when ``cancelled``); ``time`` is ``time.monotonic()``
    at arrival, for measuring gaps such as a Retry-After wait; ``fault`` is the fault that hit
    it, if any; ``cancelled`` says the client gave up (was cancelled or hung up) before the
    answer went out.

    >>> [r.auth_mode for r in sim.requests]
    ['header', 'header']
    """

    method: str
    path: str
    query: dict[str, str]
    auth_mode: AuthMode | None
    status: int
    time: float
    fault: Fault | None = None
    cancelled: bool = False


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"the simulator's clock needs timezone-aware datetimes, got {moment!r}")
    return moment.astimezone(timezone.utc)


@attrs.frozen
class _Reply:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


def _json_reply(
    status: int, document: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
) -> _Reply:
    return _Reply(status=status, body=encode(document), headers=headers)


class ScoutSimulator:
    """A faithful, deterministic stand-in for the Scout APM read API (``/api/v0``).

    Serve ``sim.app`` in-process with ``httpx.ASGITransport`` or on a real port with
    ``SimulatorServer``. Data is synthetic but realistic and a pure function of the seed, so
    overlapping requests agree bucket for bucket.

    >>> sim = ScoutSimulator(now=datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc))
    >>> transport = httpx.ASGITransport(app=sim.app)
    >>> async with httpx.AsyncClient(transport=transport, base_url="http://sim/api/v0") as http:
    ...     r = await http.get("/apps", headers={"X-SCOUT-API": DEFAULT_API_KEY})
    >>> r.json()["results"]["apps"][0]["id"]
    101

    ``now`` is the simulator's clock: a fixed aware datetime, a callable returning one, or None
    for the real UTC time. Metric data older than ``now - retention`` is absent. ``latency``
    seconds are added to every request.

    Variants, for what is unknown about the live API (run a client's tests against each):

    - ``inclusive_end`` (the ``to`` bucket): whether a series includes the bucket that starts
      exactly at ``to``. Evidence: none either way; the API notes, quirk 9, list it as unknown
      ("a correct client works either way"), and the real series in tests/fixtures/metrics.json
      does not show its window. ``True`` (the default, as before) includes it, ``False`` ends
      one step earlier.

    Counters (safe to read from any thread): ``in_flight``, ``peak_in_flight``, ``completed``
    and ``cancelled``. Over a ``SimulatorServer`` they are updated in the server's thread just
    after the answer is sent, so a client may see its response a moment before ``completed``
    counts it; in-process (``http_client()``) they are up to date when the response arrives.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        apps: Sequence[tuple[int, str]] | None = None,
        now: datetime | Callable[[], datetime] | None = None,
        latency: float = 0.0,
        inclusive_end: bool = True,
        retention: timedelta = DEFAULT_RETENTION,
        seed: int = 0,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        self.api_key = api_key
        self.latency = latency
        self.inclusive_end = inclusive_end
        self.retention = retention
        self.seed = seed
        self.catalog = Catalog(seed, DEFAULT_APPS if apps is None else apps)
        if now is None:
            self._clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        elif isinstance(now, datetime):
            fixed = _utc(now)
            self._clock = lambda: fixed
        else:
            self._clock = now
        self.requests: list[RecordedRequest] = []
        self._faults = FaultBook()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0
        self._completed = 0
        self._cancelled = 0
        self.app = _SimulatorApp(self)

    def now(self) -> datetime:
        """The simulator's current time (aware, UTC)."""
        return _utc(self._clock())

    def add_fault(self, fault: Fault) -> None:
        """Arm ``fault``; faults are tried in the order they were added."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that reaches this simulator in-process (no socket, no thread).

        The transport is ``httpx.ASGITransport(app=self.app)`` and the base URL
        ``http://simulator/api/v0`` unless ``base_url`` is given; every other keyword goes to
        ``httpx.AsyncClient``. No key is set: pass ``headers={"X-SCOUT-API": DEFAULT_API_KEY}``
        for raw requests; a ``ScoutClient`` sends its own. Any host reaches the app, so a
        ``ScoutClient`` works with its default ``base_url`` too.

        >>> async with ScoutClient(api_key=DEFAULT_API_KEY, http_client=sim.http_client()) as c:
        ...     apps = await c.apps.list()
        """
        if "transport" in kwargs:
            raise TypeError("http_client() sets its own transport (the simulator's ASGI app)")
        kwargs.setdefault("base_url", IN_PROCESS_BASE_URL)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), **kwargs)

    @property
    def in_flight(self) -> int:
        """Requests being handled right now (latency sleeps included)."""
        return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were ever handled at once (since ``reset_in_flight_peak``)."""
        return self._peak_in_flight

    @property
    def max_in_flight(self) -> int:
        """The former name of ``peak_in_flight``, kept for callers that still use it."""
        return self._peak_in_flight

    @property
    def completed(self) -> int:
        """Requests whose handling ended without the client giving up: answered (any status,
        faults included), dropped by a ``drop`` fault, or failed inside the simulator."""
        return self._completed

    @property
    def cancelled(self) -> int:
        """Requests the client gave up on while they were in flight: the handling was cancelled
        (in-process, e.g. the caller's task was cancelled or timed out) or the connection
        closed before the answer went out (over a server, noticed during latency)."""
        return self._cancelled

    def reset_in_flight_peak(self) -> None:
        """Start measuring ``peak_in_flight`` afresh (from the current ``in_flight``)."""
        with self._lock:
            self._peak_in_flight = self._in_flight

    # -- used by the app -------------------------------------------------------------------

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def _leave(self, *, cancelled: bool) -> None:
        with self._lock:
            self._in_flight -= 1
            if cancelled:
                self._cancelled += 1
            else:
                self._completed += 1

    def _take_fault(self, api_path: str, query: QueryParams) -> Fault | None:
        return self._faults.take(api_path, query)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def _find_key(
    headers: dict[bytes, bytes], query: QueryParams, body: bytes
) -> tuple[str | None, AuthMode | None]:
    """The key a request carries and where: header first, then query, then a JSON body."""
    header = headers.get(b"x-scout-api")
    if header is not None:
        return header.decode("latin-1"), "header"
    if "key" in query:
        return query["key"], "query"
    if body:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None, None
        if isinstance(document, dict) and isinstance(document.get("key"), str):
            return document["key"], "body"
    return None, None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _is_cancellation(error: BaseException) -> bool:
    """Whether ``error`` is the running async library's cancellation (the caller gave up)."""
    return isinstance(error, anyio.get_cancelled_exc_class())


async def _client_left_during(seconds: float, receive: Receive) -> bool:
    """Wait ``seconds``, or less if the client disconnects meanwhile; True if it did.

    The request body has been read, so the next ASGI message is ``http.disconnect``: uvicorn
    sends it when the connection closes, ``httpx.ASGITransport`` only after the response (by
    then this wait is over). Cancelling the caller's task in-process raises the async library's
    cancellation here instead, which the app counts the same way.
    """
    left = False
    async with anyio.create_task_group() as tasks:

        async def watch() -> None:
            nonlocal left
            while (await receive())["type"] != "http.disconnect":
                pass
            left = True
            tasks.cancel_scope.cancel()

        tasks.start_soon(watch)
        await anyio.sleep(seconds)
        tasks.cancel_scope.cancel()
    return left


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _SimulatorApp:
    """The ASGI app: accounting, faults, auth, routing, envelope, in that order.

    Faults come first, as a proxy or rate limiter in front of the API would answer before it.
    """

    def __init__(self, simulator: ScoutSimulator) -> None:
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the Scout simulator speaks HTTP only, not {scope['type']}")
        sim = self.simulator
        sim._enter()
        cancelled = False
        try:
            cancelled = not await self._handle(scope, receive, send)
        except BaseException as error:
            cancelled = _is_cancellation(error)
            raise
        finally:
            sim._leave(cancelled=cancelled)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer one request; False if the client went away before the answer was ready."""
        sim = self.simulator
        arrived = time.monotonic()
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.split(b"?", 1)[0].decode("latin-1")
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        headers = dict(scope["headers"])
        body = await _read_body(receive)
        key, auth_mode = _find_key(headers, query, body)
        recorded = {name: ("***" if name == "key" else value) for name, value in query.items()}
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        fault = sim._take_fault(api_path, query) if api_path is not None else None
        reply: _Reply | None = None
        cancelled = False
        try:
            delay = sim.latency + (fault.latency if fault is not None and fault.latency else 0.0)
            if delay and await _client_left_during(delay, receive):
                cancelled = True
                return False
            reply = self._reply(scope["method"], api_path, query, key, fault)
        except BaseException as error:
            cancelled = _is_cancellation(error)
            raise
        finally:
            # Recorded before the answer goes out, so a client that has its response can rely
            # on finding the request in `sim.requests` (the server runs in another thread).
            sim._record(
                RecordedRequest(
                    method=scope["method"],
                    path=path,
                    query=recorded,
                    auth_mode=auth_mode,
                    status=CLIENT_CLOSED if cancelled else 500 if reply is None else reply.status,
                    time=arrived,
                    fault=fault,
                    cancelled=cancelled,
                )
            )
        await _send(send, reply, drop=fault is not None and fault.drop)
        return True

    def _reply(
        self,
        method: str,
        api_path: str | None,
        query: QueryParams,
        key: str | None,
        fault: Fault | None,
    ) -> _Reply:
        sim = self.simulator
        if fault is not None and fault.status is not None:
            headers = () if fault.retry_after is None else (("retry-after", fault.retry_after),)
            return _json_reply(fault.status, envelope(fault.status, {}), headers)
        if fault is not None and fault.body_status is not None:
            # The error lives only in the body: HTTP says all is well.
            return _json_reply(200, envelope(fault.body_status, {}))
        if key is None or not hmac.compare_digest(key.encode(), sim.api_key.encode()):
            return _json_reply(403, envelope(403, {}))
        try:
            if method != "GET" or api_path is None:
                raise ApiError(404)
            call = Call(
                catalog=sim.catalog,
                now=sim.now(),
                query=dict(query.items()),
                retention=sim.retention,
                inclusive_end=sim.inclusive_end,
                step=fault.step if fault is not None else None,
            )
            document = envelope(200, dispatch(call, api_path))
            status = 200
        except ApiError as error:
            document = envelope(error.code, {}, error.message)
            status = error.code
        if fault is not None and fault.malformed is not None:
            body, content_type = malformed_body(fault.malformed, document)
            return _Reply(status=status, body=body, content_type=content_type)
        return _json_reply(status, document)


async def _send(send: Send, reply: _Reply, *, drop: bool) -> None:
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        *((name.encode(), value.encode("latin-1")) for name, value in reply.headers),
    ]
    start: Message = {"type": "http.response.start", "status": reply.status, "headers": headers}
    await send(start)
    if not drop:
        await send({"type": "http.response.body", "body": reply.body})
        return
    # Promise the whole length, deliver half, then fail: the server closes the connection and
    # the client sees an incomplete body.
    await send(
        {
            "type": "http.response.body",
            "body": reply.body[: len(reply.body) // 2],
            "more_body": True,
        }
    )
    raise DroppedConnection("the simulator dropped the connection mid-response (drop fault)")
