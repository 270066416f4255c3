"""The key is never in the frames an error carries (issue 15, item 8).

Error trackers that capture local variables (Sentry-style,
``traceback.TracebackException(capture_locals=True)``) print the repr of every local of every
frame of an exception and of its causes. With ``auth="query"`` the built request's URL holds the
key, percent-encoded; in any mode httpx's and httpcore's frames hold the request and its headers,
and a server that echoes the key puts it in the body the client read.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx

import scout_async
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer
from tests.conftest import BASE_URL, VirtualClock, envelope

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

NOW = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)
KEY = "S3CR3T+abc/def==&x%y-0123456789"
FORMS = {KEY, quote(KEY, safe=""), quote(KEY), quote_plus(KEY), repr(KEY.encode())[2:-1]}
AUTH_MODES = ["header", "query", "body"]


def with_locals(exc: BaseException) -> str:
    """Everything an error tracker capturing locals would show of ``exc``."""
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def assert_no_key(exc: BaseException) -> None:
    shown = with_locals(exc)
    for form in FORMS:
        assert form not in shown, f"{form!r} in:\n{shown}"


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=NOW)


@pytest.fixture
async def server(sim: ScoutSimulator) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(sim) as running:
        yield running


def client_for(base_url: str, auth: str, **kwargs: object) -> scout_async.ScoutClient:
    kwargs.setdefault("max_retries", 1)
    return scout_async.ScoutClient(
        api_key=KEY,
        base_url=base_url,
        auth=auth,
        clock=VirtualClock(wall=NOW),
        **kwargs,  # type: ignore[arg-type]
    )


async def error_of(call: Awaitable[object]) -> scout_async.ScoutError:
    """The ``ScoutError`` ``call`` raises, caught here: its traceback starts in this frame, not
    in the test's (whose locals may hold the key on purpose)."""
    try:
        await call
    except scout_async.ScoutError as exc:
        return exc
    raise AssertionError("no error")


async def drain(points: AsyncIterator[object]) -> None:
    async for _ in points:
        pass


FAULTS = {
    "server-error": Fault(path="/apps/101", status=500, times=None),
    "body-only-error": Fault(path="/apps/101", body_status=503, times=None),
    "dropped": Fault(path="/apps/101", drop=True, times=None),
    "not-json": Fault(path="/apps/101", malformed="not-json", times=None),
    "truncated": Fault(path="/apps/101", malformed="truncated", times=None),
    "no-envelope": Fault(path="/apps/101", malformed="no-envelope", times=None),
}


@pytest.mark.parametrize("auth", AUTH_MODES)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_errors_over_http_carry_no_key_in_their_frames(
    auth: str, fault: str, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(FAULTS[fault])
    async with client_for(server.url, auth) as client:
        error = await error_of(client.apps.get(101))
    assert sim.requests  # the key went out, and came back in no frame
    assert_no_key(error)


@pytest.mark.parametrize("auth", AUTH_MODES)
async def test_a_timeout_carries_no_key_in_its_frames(
    auth: str, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/101", latency=2.0, times=None))
    async with client_for(server.url, auth, timeout=0.1, max_retries=0) as client:
        error = await error_of(client.apps.get(101))
    assert isinstance(error, scout_async.APITimeoutError)
    assert_no_key(error)


@pytest.mark.parametrize("auth", AUTH_MODES)
async def test_a_refused_connection_carries_no_key_in_its_frames(auth: str) -> None:
    # A port nothing listens on (taken and released at once).
    with SimulatorServer(ScoutSimulator()) as gone:
        url = gone.url
    async with client_for(url, auth) as client:
        error = await error_of(client.apps.list())
    assert isinstance(error, scout_async.APIConnectionError)
    assert_no_key(error)


@pytest.mark.parametrize("auth", AUTH_MODES)
async def test_a_failed_stream_carries_no_key_in_its_frames(
    auth: str, server: SimulatorServer, sim: ScoutSimulator
) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", status=502, skip=2, times=None))
    start = NOW - timedelta(hours=6)
    async with client_for(server.url, auth) as client:
        streamed = await error_of(
            drain(client.metrics.stream(101, "apdex", start=start, end=NOW, resolution="1m"))
        )
        got = await error_of(
            client.metrics.get(101, "apdex", start=start, end=NOW, resolution="1m")
        )
    assert isinstance(streamed, scout_async.ServerError)
    assert isinstance(got, scout_async.ServerError)
    assert streamed.resume_from is not None
    assert_no_key(streamed)
    assert_no_key(got)


@pytest.mark.parametrize("auth", AUTH_MODES)
async def test_a_server_echoing_the_key_gets_it_into_no_frame(auth: str) -> None:
    echo = envelope({}, 403, f"Forbidden: key {KEY} ({quote(KEY, safe='')}) is not valid")
    with respx.mock() as router:
        router.get(url__startswith=f"{BASE_URL}/apps").respond(403, json=echo)
        async with client_for(BASE_URL, auth) as client:
            error = await error_of(client.apps.list())
    assert isinstance(error, scout_async.AuthenticationError)
    assert_no_key(error)


@pytest.mark.parametrize("auth", AUTH_MODES)
@pytest.mark.parametrize(
    "raised",
    [
        httpx.ConnectError(f"cannot reach {BASE_URL}/apps?key={quote(KEY, safe='')}"),
        OverflowError(f"port out of range in {BASE_URL}/apps?key={quote(KEY, safe='')}"),
        ExceptionGroup("connecting", [OSError(f"refused {KEY}"), OSError("refused")]),
    ],
    ids=["httpx-error", "overflow", "group"],
)
async def test_whatever_the_transport_raises_carries_no_key(auth: str, raised: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with client_for(BASE_URL, auth, http_client=http) as client:
        error = await error_of(client.apps.list())
    await http.aclose()
    assert_no_key(error)
