"""ScoutClient's arguments are checked at construction: a bad one is a ConfigurationError, before
any request, and the message never shows a query, a fragment or credentials."""

from __future__ import annotations

import math

import httpx
import pytest
import respx

import scout_async
from tests.conftest import BASE_URL, SECRET, envelope


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:99999/api/v0", "port outside 1..65535"),
        ("http://127.0.0.1:0/api/v0", "port outside 1..65535"),
        ("http://[::1/api/v0", "cannot be parsed"),
        ("http://", "has no host"),
        ("https:///api/v0", "has no host"),
        ("ftp://scout.test/api/v0", "http(s) URL"),
        ("scout.test/api/v0", "http(s) URL"),
        ("https://scout.test/api/v0#frag", "without a query or a fragment"),
        ("https://scout.test/api/v0?key=sk-123", "without a query or a fragment"),
        ("https://me:sk-pass@scout.test/api/v0", "without credentials"),
    ],
)
def test_a_bad_base_url_is_refused_at_construction(url: str, says: str) -> None:
    with pytest.raises(scout_async.ConfigurationError) as caught:
        scout_async.ScoutClient(api_key=SECRET, base_url=url)
    message = str(caught.value)
    assert says in message
    assert "sk-123" not in message
    assert "sk-pass" not in message
    assert caught.value.__cause__ is None  # httpx's own error (which echoes the URL) is dropped


def test_a_bad_base_url_from_the_environment_is_refused_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCOUT_API_URL", "http://localhost:123456")
    with pytest.raises(scout_async.ConfigurationError, match="port"):
        scout_async.ScoutClient(api_key=SECRET)


@pytest.mark.parametrize(
    "url",
    ["https://scout.test/api/v0", "http://127.0.0.1:8080/api/v0/", "http://[::1]:8080/api/v0"],
)
def test_a_good_base_url_is_kept(url: str) -> None:
    client = scout_async.ScoutClient(api_key=SECRET, base_url=url)
    assert client.base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "timeout",
    [
        math.nan,
        math.inf,
        -1.0,
        0,
        httpx.Timeout(-1.0),
        httpx.Timeout(5.0, connect=math.nan),
        httpx.Timeout(5.0, read=0.0),
        httpx.Timeout(5.0, pool=math.inf),
    ],
)
def test_a_timeout_that_cannot_work_is_refused(timeout: float | httpx.Timeout) -> None:
    with pytest.raises(scout_async.ConfigurationError, match="timeout"):
        scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, timeout=timeout)


def test_a_timeout_without_limits_is_accepted() -> None:
    # None is httpx's "wait as long as it takes"; the caller asked for it.
    scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, timeout=httpx.Timeout(None))


@pytest.mark.parametrize("rate", [math.nan, math.inf, 0, -2.0, True])
def test_a_rate_limit_that_cannot_work_is_refused(rate: float) -> None:
    with pytest.raises(scout_async.ConfigurationError, match="rate_limit"):
        scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, rate_limit=rate)


def test_a_clock_without_the_three_methods_is_refused() -> None:
    class HalfClock:
        def now(self) -> None: ...

    with pytest.raises(scout_async.ConfigurationError, match="clock"):
        scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=HalfClock())  # type: ignore[arg-type]


@pytest.mark.parametrize("app_id", [10**30, 2**63])
async def test_an_id_past_what_scout_can_hold_is_refused_before_a_request(app_id: int) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(url__startswith=BASE_URL)
        async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL) as client:
            with pytest.raises(scout_async.ArgumentError, match="at most"):
                await client.apps.get(app_id)
            with pytest.raises(scout_async.ArgumentError, match="at most"):
                await client.traces.get(101, app_id)
        assert route.call_count == 0


async def test_the_largest_id_scout_can_hold_is_sent() -> None:
    biggest = 2**63 - 1
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/{biggest}").respond(
            json=envelope({"app": {"id": biggest, "name": "big"}})
        )
        async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL) as client:
            app = await client.apps.get(biggest)
    assert app.id == biggest
    assert route.call_count == 1
