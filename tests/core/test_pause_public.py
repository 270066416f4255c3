"""``ScoutClient.rate_limit_pause_remaining()``: the client-wide 429 pause, read publicly."""

from __future__ import annotations

import httpx
import pytest
import respx

import scout_async
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope

APPS = envelope({"apps": [{"id": 101, "name": "Shop"}]})


async def test_the_pause_after_a_429_counts_down_on_the_clients_clock(
    clock: VirtualClock,
) -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "20"}, json=envelope({}, 429, "slow down")),
        httpx.Response(200, json=APPS),
    ]
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").mock(side_effect=answers)
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, max_retries=0, clock=clock
        ) as client:
            assert client.rate_limit_pause_remaining() == 0.0
            with pytest.raises(scout_async.RateLimitError):
                await client.apps.list()
            # Retry-After is the pause, read on the client's clock (virtual here).
            assert client.rate_limit_pause_remaining() == pytest.approx(20.0)
            clock.now_s += 5
            assert client.rate_limit_pause_remaining() == pytest.approx(15.0)
            await client.apps.list()  # waits out the rest of the pause, then succeeds
            assert client.rate_limit_pause_remaining() == 0.0
            clock.now_s += 100
            assert client.rate_limit_pause_remaining() == 0.0  # never negative


async def test_no_429_no_pause(clock: VirtualClock) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps").respond(json=APPS)
        async with scout_async.ScoutClient(
            api_key=SECRET, base_url=BASE_URL, clock=clock
        ) as client:
            await client.apps.list()
            remaining = client.rate_limit_pause_remaining()
    assert isinstance(remaining, float)
    assert remaining == 0.0
