"""Every error that reaches the caller is a ScoutError, whatever the HTTP stack raises (issue 15,
item 4): a port out of range once gave a raw ``ExceptionGroup`` of ``OverflowError`` on asyncio,
a bad URL a raw ``httpx.InvalidURL``."""

from __future__ import annotations

import asyncio
import sys

import anyio
import httpx
import pytest

import scout_async
from tests.conftest import BASE_URL, SECRET, VirtualClock

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup


def raising(error: BaseException) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise error

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), calls


NOT_TRANSIENT = [
    OverflowError("getsockaddrarg: port must be 0-65535."),
    ExceptionGroup("connecting", [OverflowError("port must be 0-65535")]),
    httpx.InvalidURL("Invalid port: '99999'"),
    ValueError("something in the HTTP stack"),
    KeyError("header"),
    RuntimeError("Cannot send a request, as the client has been closed."),
]


@pytest.mark.parametrize("error", NOT_TRANSIENT, ids=lambda e: type(e).__name__)
async def test_other_errors_of_the_http_stack_are_scout_errors_not_retried(
    error: Exception, clock: VirtualClock
) -> None:
    http, calls = raising(error)
    async with scout_async.ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=http, clock=clock
    ) as client:
        with pytest.raises(scout_async.ScoutError) as info:
            await client.apps.list()
    await http.aclose()
    assert type(info.value) is scout_async.ScoutError  # no answer type claims to know more
    assert str(info.value).startswith("GET /apps: the HTTP request could not be made (")
    assert type(error).__name__ in str(info.value) or "Group" in type(error).__name__
    assert info.value.__cause__ is error
    assert len(calls) == 1  # the same again would fail the same way


@pytest.mark.parametrize(
    ("error", "expected", "said"),
    [
        (OSError("Connection refused"), scout_async.APIConnectionError, "connection failed"),
        (
            ExceptionGroup("connecting", [OSError("refused v4"), ConnectionResetError("v6")]),
            scout_async.APIConnectionError,
            "connection failed",
        ),
        # aiohttp's transport can let asyncio's own TimeoutError through (an OSError from 3.11,
        # none at all on 3.10): it is a timeout either way, not a connection error or a bug.
        (TimeoutError("timed out"), scout_async.APITimeoutError, "GET /apps: timed out"),
        (asyncio.TimeoutError(), scout_async.APITimeoutError, "GET /apps: timed out"),
        (
            ExceptionGroup("connecting", [TimeoutError("v4"), asyncio.TimeoutError()]),
            scout_async.APITimeoutError,
            "GET /apps: timed out",
        ),
    ],
    ids=[
        "os-error",
        "group-of-os-errors",
        "timeout-error",
        "asyncio-timeout-error",
        "group-of-timeouts",
    ],
)
async def test_failed_connection_attempts_and_bare_timeouts_are_typed_and_retried(
    error: Exception, expected: type[scout_async.ScoutError], said: str, clock: VirtualClock
) -> None:
    http, calls = raising(error)
    async with scout_async.ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=http, clock=clock
    ) as client:
        with pytest.raises(expected, match=said) as info:
            await client.apps.list()
    await http.aclose()
    assert type(info.value) is expected
    assert len(calls) == 4  # max_retries=3


async def test_a_cancellation_is_not_turned_into_an_error(clock: VirtualClock) -> None:
    started = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with scout_async.ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=http, clock=clock
    ) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.apps.list)
            await started.wait()
            tg.cancel_scope.cancel()  # ends the group quietly: the request was cancelled
        assert client.stats.retries == 0
    await http.aclose()
