"""`ScoutSimulator`: the simulated account, its clock and faults, and the ASGI app serving it."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol

import anyio
import attrs
import httpx
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send

from ._catalog import Catalog
from ._clock import Clock, SimulatorClock
from ._envelope import BARE_500, ApiError, encode, envelope
from ._facts import (
    API_PREFIX,
    APP_METRICS,
    DEFAULT_API_KEY,
    DEFAULT_APPS,
    IN_PROCESS_BASE_URL,
    JOB_METRICS,
)
from ._faults import Fault, FaultBook, malformed_body
from ._metric_data import Gaps, Source, bucket_starts, filling_bucket, plain, series_points
from ._routes import Call, dispatch
from ._rules import DEFAULT_RETENTION, EPOCH, BandEdges

__all__ = ["AuthMode", "DroppedConnection", "RecordedRequest", "ScoutSimulator", "WallClock"]

AuthMode = Literal["header", "query", "body"]
_JSON = "application/json; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_BAND_EDGES = ("inclusive", "exclusive")


class WallClock(Protocol):
    """Anything with ``now()`` returning an aware datetime: a client's clock, for one."""

    def now(self) -> datetime: ...


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
    at arrival, for measuring gaps such as a Retry-After wait, and ``answered`` the same clock
    when the simulator was done with it (the answer about to go out, latency included, or the
    client found gone); ``fault`` is the fault that hit it, if any; ``cancelled`` says the client
    gave up (was cancelled or hung up) before the answer went out.

    >>> [r.auth_mode for r in sim.requests]
    ['header', 'header']
    """

    method: str
    path: str
    query: dict[str, str]
    auth_mode: AuthMode | None
    status: int
    time: float
    answered: float
    fault: Fault | None = None
    cancelled: bool = False


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"the simulator's clock needs timezone-aware datetimes, got {moment!r}")
    return moment.astimezone(timezone.utc)


def _clocks(
    now: datetime | Callable[[], datetime] | WallClock | None,
    simulator_now: Callable[[], datetime],
) -> tuple[Callable[[], datetime], Clock]:
    """What the simulator reads its time from, and the clock it offers a client (``clock``)."""
    if now is None:
        return (lambda: datetime.now(timezone.utc)), SimulatorClock(simulator_now)
    if isinstance(now, datetime):
        fixed = _utc(now)
        return (lambda: fixed), SimulatorClock(simulator_now)
    reader = getattr(now, "now", None)
    if callable(reader):  # a clock object: share it whole when it is a whole clock
        return reader, now if isinstance(now, Clock) else SimulatorClock(simulator_now)
    if callable(now):
        return now, SimulatorClock(simulator_now)
    raise TypeError(
        f"now must be an aware datetime, a callable, an object with now(), or None; got {now!r}"
    )


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

    ``now`` is the simulator's clock: a fixed aware datetime, a callable returning one, an
    object with a ``now()`` method (a client's clock: ``ScoutSimulator(now=clock)`` and
    ``ScoutClient(clock=clock)`` then share one time), or None for the real UTC time. ``clock``
    is that time as a clock a client takes (``ScoutClient(clock=sim.clock)``): the object passed
    as ``now`` if it is a whole clock (``now()``, ``monotonic()``, ``sleep()``), else one reading
    the simulator's ``now`` and sleeping on the event loop. Code under test that asks for "the
    last 7 days" then asks about the simulator's days. Metric data older than
    ``now - retention`` is absent. ``latency`` seconds are added to every request.

    Variants, for what is unknown about the live API (run a client's tests against each):

    - ``inclusive_end`` (the ``to`` bucket): whether a series includes the bucket that starts
      exactly at ``to``. Evidence: none either way; the API notes, quirk 9, list it as unknown
      ("a correct client works either way"), and the real series in tests/fixtures/metrics.json
      does not show its window. ``True`` (the default, as before) includes it, ``False`` ends
      one step earlier.
    - ``missing`` and ``nulls`` (gaps): the fractions of a series' buckets left out altogether
      and sent as ``[time, null]``. The same quirk 9 lists "how gaps appear in a series
      (missing points or nulls)" as unknown. Which buckets is a pure function of the seed, the
      series' owner (app, endpoint or job), the bucket and the step, so every request agrees;
      a gap is a gap in every metric and every sub-series of that bucket. Both default to 0:
      every bucket has a value, as before.
    - ``band_edges`` (a window exactly on a band's upper edge): ``"inclusive"`` (the default)
      answers it at that band's step, as Scout's docs put it (60 min -> 1 min, 1 d -> 10 min);
      ``"exclusive"`` at the next band's (60 min -> 2 min). Quirk 16 of the API notes: nobody
      has recorded what the live API does at exactly an edge. A window of exactly 14 days (the
      longest accepted) is at 2 h either way.

    Apps in ``unreported_apps`` are listed with ``last_reported_at: ""``, as Scout lists an app
    whose agent has not reported (assumed from the Ruby client's guard against it).

    The account: ``apps`` as ``(id, name)`` pairs (default: five apps, 101 to 105), each with a
    deterministic share of a realistic pool of endpoints and jobs; ``metrics`` maps an app id to
    the names its ``/apps/{id}/metrics`` listing gives (default: every app metric; the series
    routes serve every documented metric either way). ``add_app`` and ``add_job`` change the
    account during a test; ``points`` tells a test what a series holds, for its expectations.

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
        now: datetime | Callable[[], datetime] | WallClock | None = None,
        latency: float = 0.0,
        inclusive_end: bool = True,
        missing: float = 0.0,
        nulls: float = 0.0,
        band_edges: BandEdges = "inclusive",
        unreported_apps: Collection[int] = (),
        metrics: Mapping[int, Sequence[str]] | None = None,
        retention: timedelta = DEFAULT_RETENTION,
        seed: int = 0,
    ) -> None:
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        if band_edges not in _BAND_EDGES:
            raise ValueError(f"band_edges must be one of {_BAND_EDGES}, got {band_edges!r}")
        self.api_key = api_key
        self.latency = latency
        self.inclusive_end = inclusive_end
        self.band_edges: BandEdges = band_edges
        self.unreported_apps = frozenset(unreported_apps)
        self._gaps = Gaps(missing=missing, nulls=nulls)
        self.retention = retention
        self.seed = seed
        self.catalog = Catalog(seed, DEFAULT_APPS if apps is None else apps, metrics)
        self._clock, self.clock = _clocks(now, self.now)
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

    @property
    def missing(self) -> float:
        """The fraction of buckets left out of every series (the gaps variant)."""
        return self._gaps.missing

    @property
    def nulls(self) -> float:
        """The fraction of buckets sent with a null value (the gaps variant)."""
        return self._gaps.nulls

    def add_app(self, app_id: int, name: str) -> None:
        """Add an app to the account: later requests list and serve it (a new app appeared).

        Its endpoints, jobs and data come from the seed as for any app; ``ValueError`` if
        ``app_id`` is taken.

        >>> sim.add_app(106, "Checkout Canary")
        """
        if isinstance(app_id, bool) or not isinstance(app_id, int) or app_id < 0:
            raise TypeError(f"app_id must be a non-negative int, got {app_id!r}")
        self.catalog.add_app(app_id, name)

    def add_job(self, app_id: int, full_name: str) -> str:
        """Give app ``app_id`` one more background job, ``"queue/ClassName"``; returns its id.

        The id is made as every job's is, so a name can be picked for the characters its id
        holds (in the standard alphabet, which the simulator accepts too,
        ``"critical/Re?fu>ndJob"`` has ``/``, ``+`` and ``=``). Its data comes from the seed; the
        app's other jobs keep theirs.

        >>> job_id = sim.add_job(101, "critical/RefundJob")
        """
        return self.catalog.add_job(app_id, full_name).job_id

    def points(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        step: timedelta,
        endpoint_id: str | None = None,
        job_id: str | None = None,
    ) -> list[tuple[datetime, float | None]]:
        """The points of a series for the buckets of ``step`` that overlap ``[start, end)``,
        as the simulator serves them: ``(bucket start, value)``, gaps left out, nulls as None,
        the bucket holding "now" as 0 (it is still filling; quirk 14).

        For a test's expectations: no request is made, recorded or hit by a fault. The clock and
        retention apply as they do to a request. The series is the app's own, an endpoint's
        (``endpoint_id``) or a job's (``job_id``; a job's own figure, which is what its nested
        answers' ``total`` holds). ``LookupError`` for an app, endpoint or job that does not
        exist, ``ValueError`` for a metric it has no series of.

        >>> sim.points(101, "apdex", start=t0, end=t0 + timedelta(minutes=2), step=minute)
        [(datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc), 0.97), (..., 0.968)]
        """
        seconds = step.total_seconds()
        if seconds <= 0 or seconds != int(seconds):
            raise ValueError(f"step must be a positive number of whole seconds, got {step}")
        source = self._source(app_id, metric, endpoint_id, job_id)
        buckets = bucket_starts(
            start=_utc(start),
            end=_utc(end),
            step=step,
            now=self.now(),
            retention=self.retention,
            inclusive_end=False,
        )
        return [
            (EPOCH + timedelta(seconds=t), None if v is None else plain(v, metric))
            for t, v in series_points(
                source, metric, buckets, self._gaps, filling=filling_bucket(self.now(), step)
            )
        ]

    def _source(
        self, app_id: int, metric: str, endpoint_id: str | None, job_id: str | None
    ) -> Source:
        if endpoint_id is not None and job_id is not None:
            raise ValueError("give endpoint_id or job_id, not both")
        app = self.catalog.app(app_id)
        if app is None:
            raise LookupError(f"no app {app_id} in the simulated account")
        if job_id is not None:
            job = app.job(job_id)
            if job is None:
                raise LookupError(f"app {app_id} has no job {job_id!r}")
            metrics, source = JOB_METRICS, job.source
        elif endpoint_id is not None:
            endpoint = app.endpoint(endpoint_id)
            if endpoint is None:
                raise LookupError(f"app {app_id} has no endpoint {endpoint_id!r}")
            metrics, source = APP_METRICS, endpoint.source
        else:
            metrics, source = APP_METRICS, app.source
        if metric not in metrics:
            raise ValueError(f"no {metric!r} series here; there are {', '.join(metrics)}")
        return source

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
                    answered=time.monotonic(),
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
                gaps=sim._gaps,
                band_edges=sim.band_edges,
                unreported=sim.unreported_apps,
            )
            document = envelope(200, dispatch(call, api_path))
            status = 200
        except ApiError as error:
            if error.bare:
                return _Reply(status=error.code, body=BARE_500, content_type=_HTML)
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
