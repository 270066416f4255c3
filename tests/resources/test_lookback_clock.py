"""The lookback limits (traces: 7 days; error groups and anomaly events: 30) are judged by the
client's clock (``ScoutClient(clock=...)``), never by the machine's."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
import respx

import scout_async
from scout_async import ScoutClient
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope

UTC = timezone.utc
PAST = datetime(2024, 1, 10, 12, tzinfo=UTC)  # long before the real now
FUTURE = datetime(2100, 1, 10, 12, tzinfo=UTC)  # long after it
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
ID = "YQ=="
JOB_ID = "ZGVmYXVsdC9NeVdvcmtlcg=="  # default/MyWorker: a job id names a queue/JobName


class FixedClock:
    """The smallest clock: a fixed wall time, the real monotonic time and sleep."""

    def __init__(self, wall: datetime) -> None:
        self.wall = wall

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


Lister = Callable[[ScoutClient, datetime, datetime, bool], Awaitable[list[Any]]]


async def _endpoint_traces(c: ScoutClient, start: datetime, end: datetime, clamp: bool) -> Any:
    return await c.traces.list(1, endpoint_id=ID, start=start, end=end, clamp=clamp)


async def _job_traces(c: ScoutClient, start: datetime, end: datetime, clamp: bool) -> Any:
    return await c.traces.list(1, job_id=JOB_ID, start=start, end=end, clamp=clamp)


async def _error_groups(c: ScoutClient, start: datetime, end: datetime, clamp: bool) -> Any:
    return await c.errors.list(1, start=start, end=end, clamp=clamp)


async def _anomalies(c: ScoutClient, start: datetime, end: datetime, clamp: bool) -> Any:
    return await c.anomalies.list(1, start=start, end=end, clamp=clamp)


LISTERS = [
    pytest.param(_endpoint_traces, timedelta(days=7), id="traces.list(endpoint_id)"),
    pytest.param(_job_traces, timedelta(days=7), id="traces.list(job_id)"),
    pytest.param(_error_groups, timedelta(days=30), id="errors.list"),
    pytest.param(_anomalies, timedelta(days=30), id="anomalies.list"),
]

EMPTY = envelope({"traces": [], "error_groups": [], "anomaly_events": []})


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def client_with(clock: scout_async.Clock | None) -> ScoutClient:
    """A client on ``clock``; ``None`` is the default, the system clock."""
    return ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock)


@pytest.mark.parametrize(("call", "lookback"), LISTERS)
async def test_a_window_recent_on_the_clients_clock_passes_though_old_in_real_time(
    call: Lister, lookback: timedelta
) -> None:
    start, end = PAST - DAY, PAST
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(json=EMPTY)
        async with client_with(FixedClock(PAST)) as clocked:
            assert await call(clocked, start, end, False) == []
        assert [c.request.url.params["from"] for c in route.calls] == [iso(start)]
        # The same window judged by the real clock is years too old.
        async with client_with(None) as real:
            with pytest.raises(scout_async.ArgumentError, match="too old"):
                await call(real, start, end, False)
    assert route.call_count == 1


@pytest.mark.parametrize(("call", "lookback"), LISTERS)
async def test_a_window_recent_in_real_time_is_refused_when_old_on_the_clients_clock(
    call: Lister, lookback: timedelta
) -> None:
    end = real_now()
    start = end - DAY
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(json=EMPTY)
        async with client_with(VirtualClock(wall=FUTURE)) as clocked:
            with pytest.raises(scout_async.ArgumentError, match="too old") as info:
                await call(clocked, start, end, False)
            # The earliest start named is the client's clock's, not the machine's.
            assert iso(FUTURE - lookback + MINUTE) in str(info.value)
            with pytest.raises(ValueError, match="too old, even clamped"):
                await call(clocked, start, end, True)
        assert route.call_count == 0
        async with client_with(None) as real:
            assert await call(real, start, end, False) == []
    assert [c.request.url.params["from"] for c in route.calls] == [iso(start)]


@pytest.mark.parametrize(("call", "lookback"), LISTERS)
async def test_clamp_moves_the_start_to_the_limit_of_the_clients_clock(
    call: Lister, lookback: timedelta
) -> None:
    with respx.mock() as router:
        route = router.route().respond(json=EMPTY)
        async with client_with(VirtualClock(wall=PAST)) as clocked:
            await call(clocked, PAST - 90 * DAY, PAST, True)
    assert route.calls[0].request.url.params["from"] == iso(PAST - lookback + MINUTE)
