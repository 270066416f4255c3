"""The core through the public client: auth on the wire, statuses, retries, envelope."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx

import scout_async
from scout_async import _protocol
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope, fixture_json

APPS = envelope({"apps": [{"id": 101, "name": "Shop", "last_reported_at": "2026-02-12T19:00:00Z"}]})


@pytest.mark.parametrize("auth", ["header", "query", "body"])
async def test_each_auth_mode_on_the_wire(auth: str, clock: VirtualClock) -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE_URL}/apps").respond(json=APPS)
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, auth=auth, clock=clock
        ) as c:
            await c.apps.list()
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["user-agent"] == f"scout-async/{scout_async.__version__}"
    assert (request.headers.get("X-SCOUT-API") == SECRET) is (auth == "header")
    assert (request.url.params.get("key") == SECRET) is (auth == "query")
    body = json.loads(request.content) if request.content else None
    assert (body == {"key": SECRET}) is (auth == "body")


STATUS_ERRORS = [
    (400, scout_async.InvalidRequestError),
    (401, scout_async.AuthenticationError),
    (403, scout_async.AuthenticationError),
    (404, scout_async.NotFoundError),
    (422, scout_async.InvalidRequestError),
    (429, scout_async.RateLimitError),
    (500, scout_async.ServerError),
    (502, scout_async.ServerError),
    (503, scout_async.ServerError),
    (408, scout_async.ServerError),
    (418, scout_async.APIStatusError),
]


@pytest.mark.parametrize(("status", "error"), STATUS_ERRORS)
@pytest.mark.parametrize("where", ["http", "body-only"])
async def test_status_maps_to_error(
    status: int,
    error: type[scout_async.APIStatusError],
    where: str,
    client: scout_async.ScoutClient,
) -> None:
    message = "Something the server said"
    body = envelope({}, code=status, message=message)
    http_status = status if where == "http" else 200
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101").respond(http_status, json=body)
        with pytest.raises(error) as info:
            await client.apps.get(101)
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.server_message == message
    assert "GET /apps/101" in str(info.value)
    assert message in str(info.value)
    retried = _protocol.is_retryable_status(status)
    assert route.call_count == (4 if retried else 1)


async def test_http_200_with_body_403_is_authentication_error(
    client: scout_async.ScoutClient,
) -> None:
    body = envelope({}, code=403, message="Forbidden, check your API key")
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").respond(200, json=body)
        with pytest.raises(scout_async.AuthenticationError, match="check your API key"):
            await client.apps.list()


@pytest.mark.parametrize("status", [401, 403, 404, 422, 400])
async def test_no_retry_on_client_errors(
    status: int, client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(
            status, json=envelope({}, code=status, message="no")
        )
        with pytest.raises(scout_async.APIStatusError):
            await client.apps.list()
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_retries_then_succeeds_with_growing_capped_waits(clock: VirtualClock) -> None:
    responses = [httpx.Response(503, json=envelope({}, 503, "busy"))] * 5 + [
        httpx.Response(200, json=APPS)
    ]
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").mock(side_effect=responses)
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, max_retries=5, clock=clock
        ) as c:
            apps = await c.apps.list()
    assert [a.id for a in apps] == [101]
    assert route.call_count == 6
    assert len(clock.sleeps) == 5
    # Jittered exponential backoff: retry n waits within [d/2, d], d = min(8, 0.5 * 2**n).
    for n, wait in enumerate(clock.sleeps):
        ceiling = min(8.0, 0.5 * 2**n)
        assert ceiling / 2 <= wait <= ceiling
    assert c.stats.retries == 5
    assert c.stats.requests == 6


async def test_gives_up_after_max_retries(
    client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(500, json=envelope({}, 500, "boom"))
        with pytest.raises(scout_async.ServerError, match="500 boom"):
            await client.apps.list()
    assert route.call_count == 4  # max_retries=3 -> at most 4 requests
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("max_retries", [0, 1])
async def test_max_retries_bounds_requests(max_retries: int, clock: VirtualClock) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(502)
        async with scout_async.ScoutClient(
            api_key=SECRET,
            base_url=BASE_URL,
            max_retries=max_retries,
            clock=clock,
        ) as c:
            with pytest.raises(scout_async.ServerError):
                await c.apps.list()
    assert route.call_count == max_retries + 1


@pytest.mark.parametrize(
    ("header", "minimum"),
    [("7", 7.0), ("2.5", 2.5), ("http-date", 28.0)],
    ids=["seconds", "fractional", "http-date"],
)
async def test_retry_after_is_the_minimum_wait(
    header: str, minimum: float, client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    if header == "http-date":  # 30 s from now on the client's clock, to the second
        header = format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
    responses = [
        httpx.Response(429, headers={"Retry-After": header}, json=envelope({}, 429, "slow down")),
        httpx.Response(200, json=APPS),
    ]
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=responses)
        await client.apps.list()
    assert len(clock.sleeps) >= 1
    assert minimum <= sum(clock.sleeps) <= minimum + 31
    assert client.stats.rate_limited == 1


async def test_retry_after_over_the_cap_fails_at_once(
    client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(
            429, headers={"Retry-After": "3600"}, json=envelope({}, 429, "slow down")
        )
        with pytest.raises(scout_async.RateLimitError) as info:
            await client.apps.list()
    assert info.value.retry_after == 3600.0
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_429_pauses_every_task_of_the_client(
    client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    import anyio

    calls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now_s)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "10"}, json=envelope({}, 429, "x"))
        return httpx.Response(200, json=APPS)

    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=answer)
        await client.apps.list()  # hits the 429, sets the client-wide pause, then succeeds
        start = clock.now_s
        # A second call made right after must not go out before the pause is over either.
        clock.now_s = start - 9.0
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.apps.list)
    assert calls[-1] >= start


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"header": {"status": {"message": "OK"}}}', "no Scout envelope"),
        (b"[1, 2, 3]", "no Scout envelope"),
        (b'{"apps": []}', "no Scout envelope"),
        (b'{"header": {"status": {"code": 200, "message": "OK"}}}', "no 'results'"),
    ],
    ids=["no-results-no-code", "array", "bare-results", "no-results"],
)
async def test_json_that_is_not_the_envelope_is_a_response_format_error(
    body: bytes, why: str, client: scout_async.ScoutClient
) -> None:
    # Asking again gets the same JSON: not retried.
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(200, content=body)
        with pytest.raises(scout_async.ResponseFormatError, match=why):
            await client.apps.list()
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b'{"header": {"status": {"code": 200', b""],
    ids=["html", "truncated", "empty"],
)
async def test_a_200_whose_body_is_not_json_is_retried_then_a_response_format_error(
    body: bytes, client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    # A body cut short on the way, or a proxy's page at 200, is a fault of the way: like a 502.
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(200, content=body)
        with pytest.raises(scout_async.ResponseFormatError, match="not JSON"):
            await client.apps.list()
        assert route.call_count == 4  # max_retries=3: bounded
        assert len(clock.sleeps) == 3
        flaky = [httpx.Response(200, content=body), httpx.Response(200, json=APPS)]
        router.get(f"{BASE_URL}/apps").mock(side_effect=flaky)
        assert len(await client.apps.list()) == 1
    assert client.stats.retries == 4


@pytest.mark.parametrize(
    "body",
    [
        {"results": {"apps": []}},
        {"header": {"apiVersion": "0.1"}, "results": {"apps": []}},
        {"header": {"status": {"message": "OK"}}, "results": {"apps": []}},
    ],
    ids=["no-header", "no-status", "no-code"],
)
async def test_an_envelope_without_a_status_code_is_accepted(
    body: dict[str, object], client: scout_async.ScoutClient
) -> None:
    # Scout's other clients take a 200 whose envelope lacks header.status.code as a success.
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").respond(200, json=body)
        assert await client.apps.list() == []
    assert route.call_count == 1


async def test_unexpected_shape_is_response_format_error(client: scout_async.ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").respond(json=envelope({"apps": [{"name": "no id"}]}))
        with pytest.raises(scout_async.ResponseFormatError, match="App"):
            await client.apps.list()
        router.get(f"{BASE_URL}/apps/101").respond(json=envelope({"application": {}}))
        with pytest.raises(scout_async.ResponseFormatError, match=r"results\.app"):
            await client.apps.get(101)


async def test_connection_errors_and_timeouts_retry_then_raise(
    client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(scout_async.APIConnectionError, match="ConnectError"):
            await client.apps.list()
        assert route.call_count == 4
        route = router.get(f"{BASE_URL}/apps/1").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(scout_async.APITimeoutError):
            await client.apps.get(1)
        assert route.call_count == 4
        flaky = [httpx.RemoteProtocolError("dropped"), httpx.Response(200, json=APPS)]
        router.get(f"{BASE_URL}/apps").mock(side_effect=flaky)  # type: ignore[arg-type]
        assert len(await client.apps.list()) == 1


async def test_real_fixtures_parse(client: scout_async.ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").respond(json=fixture_json("apps_list.json"))
        apps = await client.apps.list()
    assert [(a.id, a.name) for a in apps] == [(1, "Rails App"), (2, "Django App")]
    assert apps[0].last_reported_at == datetime(2026, 2, 12, 19, 0, tzinfo=timezone.utc)


async def test_unknown_fields_are_ignored_and_optional_fields_missing(
    client: scout_async.ScoutClient,
) -> None:
    body = envelope({"app": {"id": 7, "name": "New", "brand_new_field": {"x": 1}}, "extra": 1})
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/7").respond(json=body)
        app = await client.apps.get(7)
    assert app == scout_async.App(id=7, name="New", last_reported_at=None)


async def test_app_metrics_list(client: scout_async.ScoutClient) -> None:
    names = ["apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time"]
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/metrics").respond(
            json=envelope({"availableMetrics": names})
        )
        assert await client.metrics.list(101) == names


@pytest.mark.parametrize(
    ("bad", "error"), [("101", TypeError), (True, TypeError), (0, ValueError), (-3, ValueError)]
)
async def test_bad_app_ids_fail_before_any_request(
    bad: object, error: type[Exception], client: scout_async.ScoutClient
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(error, match="app_id"):
            await client.apps.get(bad)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_user_http_client_is_used_and_left_open(clock: VirtualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=APPS)

    http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="https://ignored.example"
    )
    async with scout_async.ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=http, clock=clock
    ) as c:
        await c.apps.list()
    assert str(seen[0].url) == f"{BASE_URL}/apps"
    assert not http.is_closed
    await http.aclose()


async def test_closed_client_refuses_requests(clock: VirtualClock) -> None:
    c = scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock)
    await c.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await c.apps.list()


async def test_retry_after_on_503_is_the_minimum_wait(
    client: scout_async.ScoutClient, clock: VirtualClock
) -> None:
    responses = [
        httpx.Response(503, headers={"Retry-After": "30"}, json=envelope({}, 503, "busy")),
        httpx.Response(200, json=APPS),
    ]
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=responses)
        await client.apps.list()
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] >= 30


class _RawBody(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"not gzip at all"


async def test_a_corrupt_compressed_body_is_a_response_format_error(clock: VirtualClock) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=_RawBody())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with scout_async.ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=http, clock=clock
    ) as c:
        with pytest.raises(scout_async.ResponseFormatError, match="decoded"):
            await c.apps.list()
    await http.aclose()
    assert len(calls) == 1


async def test_absurdly_nested_json_is_a_response_format_error(
    client: scout_async.ScoutClient,
) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").respond(200, content=b"[" * 100_000 + b"]" * 100_000)
        with pytest.raises(scout_async.ResponseFormatError):
            await client.apps.list()


async def test_redirects_are_not_followed(clock: VirtualClock) -> None:
    # httpx strips only Authorization across origins; X-SCOUT-API must never reach the target.
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE_URL}/apps").respond(
            302, headers={"Location": "https://elsewhere.example/apps?x=1"}
        )
        elsewhere = router.get("https://elsewhere.example/apps").respond(json=APPS)
        http = httpx.AsyncClient(follow_redirects=True)
        async with scout_async.ScoutClient(
            api_key=SECRET,
            base_url=BASE_URL,
            http_client=http,
            clock=clock,
        ) as c:
            with pytest.raises(
                scout_async.APIStatusError, match=r"elsewhere\.example/apps;"
            ) as info:
                await c.apps.list()
        await http.aclose()
    assert info.value.status_code == 302
    assert elsewhere.call_count == 0


async def test_a_429_that_ends_the_retries_still_pauses_the_client(clock: VirtualClock) -> None:
    calls: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now_s)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "20"}, json=envelope({}, 429, "x"))
        return httpx.Response(200, json=APPS)

    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=answer)
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, max_retries=0, clock=clock
        ) as c:
            with pytest.raises(scout_async.RateLimitError):
                await c.apps.list()
            await c.apps.list()  # another call waits out the key's pause
    assert calls[1] - calls[0] >= 20


async def test_a_429_pauses_tasks_already_queued_for_a_slot(clock: VirtualClock) -> None:
    import anyio

    sent: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, clock.now_s))
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "10"}, json=envelope({}, 429, "x"))
        return httpx.Response(200, json=APPS)

    with respx.mock() as router:
        router.get(url__regex=r".*/apps$").mock(side_effect=answer)
        async with scout_async.ScoutClient(
            api_key=SECRET,
            base_url=BASE_URL,
            max_concurrency=1,
            clock=clock,
        ) as c:
            t0 = clock.now_s
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(c.apps.list)
    assert len(sent) == 4  # one 429, then three successes
    assert all(at >= t0 + 10 for _, at in sent[1:])


async def test_the_slot_is_free_while_a_request_waits_to_retry() -> None:
    import anyio

    order: list[str] = []
    answered_2 = anyio.Event()

    class BackoffUntilAppTwo(VirtualClock):
        """App 1's backoff lasts until app 2 was answered: with the only slot held across the
        backoff, app 2 could never be sent, and the wait would time out."""

        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            with anyio.fail_after(10):
                await answered_2.wait()

    def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        order.append(name)
        if name == "2":
            answered_2.set()
        if name == "1" and order.count("1") == 1:
            return httpx.Response(503, json=envelope({}, 503, "busy"))
        return httpx.Response(200, json=envelope({"app": {"id": int(name), "name": name}}))

    gated = BackoffUntilAppTwo()
    with respx.mock() as router:
        router.get(url__regex=r".*/apps/\d+$").mock(side_effect=answer)
        async with (
            scout_async.ScoutClient(
                api_key=SECRET, base_url=BASE_URL, max_concurrency=1, clock=gated
            ) as c,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(c.apps.get, 1)
            await anyio.lowlevel.checkpoint()
            tg.start_soon(c.apps.get, 2)
    # App 1's retry waits for its backoff without the only slot: app 2 goes first.
    assert order == ["1", "2", "1"]
    assert len(gated.sleeps) == 1


async def test_timeout_setting_reaches_every_request(clock: VirtualClock) -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=APPS)

    timeout = httpx.Timeout(7.0, connect=2.0)
    for setting, expected in ((4.5, 4.5), (timeout, 7.0)):
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=99)
        async with scout_async.ScoutClient(
            api_key=SECRET,
            base_url=BASE_URL,
            http_client=http,
            timeout=setting,
            clock=clock,
        ) as c:
            await c.apps.list()
        await http.aclose()
        assert seen[-1]["read"] == expected
    assert seen[-1]["connect"] == 2.0


async def test_retries_are_logged_on_the_scout_async_logger(
    client: scout_async.ScoutClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scout_async")
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(
            side_effect=[httpx.Response(502), httpx.Response(200, json=APPS)]
        )
        await client.apps.list()
    lines = [r.getMessage() for r in caplog.records if r.name == "scout_async"]
    assert any("GET /apps failed (502); retry 1 of 3" in line for line in lines)
    assert any(line.startswith("GET /apps -> 200 (attempt 2") for line in lines)


async def test_a_request_waiting_to_retry_when_the_client_closes_sends_nothing_more() -> None:
    """``aclose()`` while a request sleeps before its retry: the retry raises instead of opening
    a connection on a closed pool (that connection would never be closed)."""
    import anyio

    sent: list[str] = []
    backing_off = anyio.Event()
    closed = anyio.Event()

    class BackoffUntilClosed(VirtualClock):
        async def sleep(self, seconds: float) -> None:
            backing_off.set()
            with anyio.fail_after(10):
                await closed.wait()

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(503, json=envelope({}, 503, "busy"))

    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=answer)
        client = scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, clock=BackoffUntilClosed()
        )
        failures: list[BaseException] = []

        async def list_apps() -> None:
            try:
                await client.apps.list()
            except BaseException as exc:
                failures.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(list_apps)
            await backing_off.wait()
            await client.aclose()
            closed.set()
    assert sent == ["/api/v0/apps"]
    assert len(failures) == 1
    assert isinstance(failures[0], RuntimeError)
    assert "closed" in str(failures[0])
