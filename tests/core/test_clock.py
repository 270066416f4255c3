"""The client's one clock: ``ScoutClient(clock=...)`` is checked at construction and is where the
core takes every time from (the 429 pause, backoff, a Retry-After date)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx

import scout_async
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope

APPS = envelope({"apps": [{"id": 101, "name": "Shop"}]})


class NoSleep:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return 0.0


@pytest.mark.parametrize("clock", [object(), NoSleep(), "system", 1.5], ids=repr)
def test_a_clock_without_the_clock_methods_is_a_configuration_error(clock: object) -> None:
    with pytest.raises(scout_async.ConfigurationError, match="clock") as info:
        scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert SECRET not in str(info.value)


async def test_the_client_keeps_the_clock_it_was_given(clock: VirtualClock) -> None:
    async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock) as c:
        assert c.clock is clock
    async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL) as c:
        assert isinstance(c.clock, scout_async.SystemClock)
        assert isinstance(c.clock, scout_async.Clock)


@pytest.mark.parametrize(
    "wall",
    [datetime(2031, 5, 1, 12, tzinfo=timezone.utc), datetime(2021, 5, 1, 12, tzinfo=timezone.utc)],
    ids=["after-the-real-now", "before-the-real-now"],
)
async def test_a_retry_after_date_is_read_on_the_clients_clock(wall: datetime) -> None:
    # 30 s after the client's now: years away from the machine's, in either direction.
    clock = VirtualClock(wall=wall)
    header = format_datetime(wall + timedelta(seconds=30), usegmt=True)
    responses = [
        httpx.Response(429, headers={"Retry-After": header}, json=envelope({}, 429, "slow down")),
        httpx.Response(200, json=APPS),
    ]
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps").mock(side_effect=responses)
        async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock) as c:
            await c.apps.list()
    assert route.call_count == 2
    assert 30 <= sum(clock.sleeps) <= 31
    assert c.stats.rate_limited == 1
