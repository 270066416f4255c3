"""What the simulator offers a test beyond serving the API: counters, the variants (the `to`
bucket, the band edges), a clock shared with a client, faults aimed at one chunk, and an
in-process httpx client."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from scout_async import ScoutClient
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
GRID_END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
KEY = {"X-SCOUT-API": DEFAULT_API_KEY}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": iso(start), "to": iso(end)}


def stamps(response: httpx.Response, metric: str = "throughput") -> list[str]:
    assert response.status_code == 200, response.text
    return [t for t, _ in response.json()["results"]["series"][metric]]


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll ``condition``: over a server the counters change in the server's thread."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - polling counters another thread keeps
            await anyio.sleep(0.01)


# -- counters ----------------------------------------------------------------------------------


async def test_counters_start_at_zero_and_count_answers() -> None:
    sim = ScoutSimulator(now=NOW)
    assert (sim.in_flight, sim.peak_in_flight, sim.completed, sim.cancelled) == (0, 0, 0, 0)
    sim.add_fault(Fault(path="/usage", status=503))
    async with sim.http_client(headers=KEY) as http:
        assert (await http.get("/apps")).status_code == 200
        assert (await http.get("/usage")).status_code == 503  # a fault's answer is an answer
        assert (await http.get("/apps/999")).status_code == 404
        assert (await http.get("/apps", headers={"X-SCOUT-API": "wrong"})).status_code == 403
    assert (sim.in_flight, sim.peak_in_flight, sim.completed, sim.cancelled) == (0, 1, 4, 0)
    assert not any(r.cancelled for r in sim.requests)


async def test_a_drop_fault_counts_as_completed_not_cancelled() -> None:
    sim = ScoutSimulator(now=NOW)
    sim.add_fault(Fault(drop=True))
    async with sim.http_client(headers=KEY) as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/apps")
    assert (sim.completed, sim.cancelled, sim.in_flight) == (1, 0, 0)


async def test_peak_in_flight_counts_concurrent_requests_and_resets() -> None:
    sim = ScoutSimulator(now=NOW, latency=0.05)
    async with sim.http_client(headers=KEY) as http:
        async with anyio.create_task_group() as tasks:
            for _ in range(6):
                tasks.start_soon(http.get, "/apps")
        assert sim.peak_in_flight == 6
        assert sim.max_in_flight == 6  # the former name still answers
        sim.reset_in_flight_peak()
        assert sim.peak_in_flight == 0
        await http.get("/apps")
    assert (sim.peak_in_flight, sim.completed, sim.cancelled) == (1, 7, 0)


async def test_a_request_the_caller_abandons_is_cancelled_in_process() -> None:
    sim = ScoutSimulator(now=NOW)
    sim.add_fault(Fault(path="/apps/*/metrics/*", latency=30.0))
    async with sim.http_client(headers=KEY) as http:
        started = time.monotonic()
        with anyio.move_on_after(0.1) as scope:
            await http.get("/apps/101/metrics/apdex", params=window(NOW - HOUR, NOW))
        assert scope.cancelled_caught
        assert time.monotonic() - started < 5
        assert (sim.in_flight, sim.completed, sim.cancelled) == (0, 0, 1)
        assert (await http.get("/apps")).status_code == 200
    assert (sim.completed, sim.cancelled) == (1, 1)
    abandoned, answered = sim.requests
    assert abandoned.cancelled
    assert abandoned.status == 499
    assert abandoned.path == "/api/v0/apps/101/metrics/apdex"
    assert not answered.cancelled
    assert answered.status == 200


def test_an_abandoned_request_is_cancelled_under_trio() -> None:
    import trio  # a test dependency: never skipped

    sim = ScoutSimulator(now=NOW, latency=30.0)

    async def main() -> None:
        async with sim.http_client(headers=KEY) as http:
            with trio.move_on_after(0.1) as scope:
                await http.get("/apps")
            assert scope.cancelled_caught

    trio.run(main)
    assert (sim.in_flight, sim.completed, sim.cancelled) == (0, 0, 1)
    assert sim.requests[0].cancelled


async def test_a_client_that_hangs_up_on_a_server_is_cancelled() -> None:
    sim = ScoutSimulator(now=NOW)
    sim.add_fault(Fault(path="/apps/*/metrics/*", latency=30.0))
    async with SimulatorServer(sim) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=KEY, timeout=0.2) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/apps/101/metrics/apdex", params=window(NOW - HOUR, NOW))
        # The closed connection ends the 30 s wait at once instead of holding the request.
        await wait_until(lambda: sim.cancelled == 1)
        assert (sim.in_flight, sim.completed) == (0, 0)
        async with httpx.AsyncClient(base_url=server.url, headers=KEY) as http:
            assert (await http.get("/apps")).status_code == 200
        await wait_until(lambda: sim.completed == 1)
    assert [(r.status, r.cancelled) for r in sim.requests] == [(499, True), (200, False)]


def test_counters_are_exact_under_threads() -> None:
    sim = ScoutSimulator(now=NOW, latency=0.01)
    errors: list[BaseException] = []
    with SimulatorServer(sim) as server:

        def worker() -> None:
            try:
                with httpx.Client(base_url=server.url, headers=KEY) as http:
                    for _ in range(10):
                        assert http.get("/apps").status_code == 200
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        deadline = time.monotonic() + 5
        while sim.completed < 80 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert errors == []
    assert (sim.completed, sim.cancelled, sim.in_flight) == (80, 0, 0)
    assert 1 <= sim.peak_in_flight <= 8
    assert len(sim.requests) == 80


# -- the `to` bucket variant -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "includes_to"),
    [({}, True), ({"inclusive_end": True}, True), ({"inclusive_end": False}, False)],
    ids=["default", "inclusive", "exclusive"],
)
async def test_the_to_bucket_variant(arguments: dict[str, Any], includes_to: bool) -> None:
    sim = ScoutSimulator(now=NOW, **arguments)
    assert sim.inclusive_end is includes_to
    async with sim.http_client(headers=KEY) as http:
        on_grid = stamps(
            await http.get("/apps/101/metrics/throughput", params=window(GRID_END - HOUR, GRID_END))
        )
        # Off the grid no bucket starts at `to`: both variants agree.
        half = timedelta(seconds=30)
        off_grid = stamps(
            await http.get(
                "/apps/101/metrics/throughput",
                params=window(GRID_END - HOUR + half, GRID_END + half),
            )
        )
    assert on_grid[0] == iso(GRID_END - HOUR)
    assert on_grid[-1] == iso(GRID_END if includes_to else GRID_END - timedelta(minutes=1))
    assert len(on_grid) == (61 if includes_to else 60)
    assert (off_grid[0], off_grid[-1]) == (iso(GRID_END - HOUR), iso(GRID_END))
    assert len(off_grid) == 61


# -- the band-edge variant ---------------------------------------------------------------------

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
# (window length, its step with inclusive upper edges, with exclusive ones)
EDGES = [
    (30 * MINUTE, MINUTE, MINUTE),  # inside a band: the same either way
    (HOUR, MINUTE, 2 * MINUTE),  # the docs: <= 60 min -> 1 min
    (HOUR + MINUTE, 2 * MINUTE, 2 * MINUTE),
    (3 * HOUR, 2 * MINUTE, 5 * MINUTE),
    (12 * HOUR, 5 * MINUTE, 10 * MINUTE),
    (DAY, 10 * MINUTE, 30 * MINUTE),
    (3 * DAY, 30 * MINUTE, HOUR),
    (7 * DAY, HOUR, 2 * HOUR),
    (14 * DAY, 2 * HOUR, 2 * HOUR),  # the longest window: no band above it
]


@pytest.mark.parametrize(("length", "inclusive", "exclusive"), EDGES, ids=str)
async def test_the_band_edge_variant(
    length: timedelta, inclusive: timedelta, exclusive: timedelta
) -> None:
    end = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
    found = {}
    for edges in ("inclusive", "exclusive"):
        sim = ScoutSimulator(now=NOW, band_edges=edges)
        assert sim.band_edges == edges
        async with sim.http_client(headers=KEY) as http:
            times = stamps(
                await http.get("/apps/101/metrics/throughput", params=window(end - length, end))
            )
        found[edges] = datetime.fromisoformat(times[1].replace("Z", "+00:00")) - (
            datetime.fromisoformat(times[0].replace("Z", "+00:00"))
        )
    assert found == {"inclusive": inclusive, "exclusive": exclusive}
    assert ScoutSimulator(now=NOW).band_edges == "inclusive"  # as documented, by default


def test_the_band_edge_variant_is_checked() -> None:
    with pytest.raises(ValueError, match="band_edges"):
        ScoutSimulator(band_edges="open")  # type: ignore[arg-type]


# -- one clock for the simulator and a client --------------------------------------------------


class MovingClock:
    """A client's clock on virtual time: ``now()`` moves with every sleep."""

    def __init__(self, wall: datetime) -> None:
        self.wall = wall
        self.slept = 0.0

    def now(self) -> datetime:
        return self.wall + timedelta(seconds=self.slept)

    def monotonic(self) -> float:
        return self.slept

    async def sleep(self, seconds: float) -> None:
        self.slept += seconds
        await anyio.lowlevel.checkpoint()


async def test_a_client_clock_drives_the_simulator_and_is_shared_whole() -> None:
    clock = MovingClock(NOW)
    sim = ScoutSimulator(now=clock)
    assert sim.clock is clock  # a whole clock: the client takes the very same object
    assert sim.now() == NOW
    await clock.sleep(90)
    assert sim.now() == NOW + timedelta(seconds=90)
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=sim.clock) as client,
    ):
        # "The last 7 days" on the client's clock are the simulator's last 7 days: the lookback
        # check passes and the traces are there.
        endpoint = (await client.endpoints.list(101, start=clock.now() - DAY, end=clock.now()))[0]
        traces = await client.traces.list(
            101, endpoint_id=endpoint.id, start=clock.now() - 7 * DAY, end=clock.now(), clamp=True
        )
    assert traces
    assert all(t.time is not None and t.time <= sim.now() for t in traces)


async def test_sim_clock_reads_the_simulator_time_for_a_client() -> None:
    pinned = ScoutSimulator(now=NOW)
    assert pinned.clock.now() == NOW
    moving = [NOW]
    called = ScoutSimulator(now=lambda: moving[0])
    moving[0] += HOUR
    assert called.clock.now() == NOW + HOUR
    real = ScoutSimulator()
    assert abs(real.clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    monotonic = pinned.clock.monotonic()
    await pinned.clock.sleep(0)
    assert pinned.clock.monotonic() >= monotonic

    class OnlyNow:
        def now(self) -> datetime:
            return NOW - DAY

    partial = ScoutSimulator(now=OnlyNow())
    assert partial.now() == NOW - DAY
    assert partial.clock.now() == NOW - DAY  # wrapped: OnlyNow has no monotonic() or sleep()
    async with (
        pinned.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=pinned.clock) as client,
    ):
        assert client.clock is pinned.clock
        series = await client.metrics.get(
            101, "throughput", start=client.clock.now() - HOUR, end=client.clock.now()
        )
    assert series.points[-1].time <= NOW


def test_now_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="now must be"):
        ScoutSimulator(now=42)  # type: ignore[arg-type]


# -- apps that never reported ------------------------------------------------------------------


async def test_an_unreported_app_is_listed_with_an_empty_last_reported_at() -> None:
    sim = ScoutSimulator(now=NOW, unreported_apps=[102])
    async with sim.http_client(headers=KEY) as http:
        listed = (await http.get("/apps")).json()["results"]["apps"]
        one = (await http.get("/apps/102")).json()["results"]["app"]
    reported = {app["id"]: app["last_reported_at"] for app in listed}
    assert reported[102] == ""
    assert one["last_reported_at"] == ""
    assert all(value.endswith("Z") for key, value in reported.items() if key != 102)


# -- faults aimed at one chunk -----------------------------------------------------------------


def _chunks() -> list[tuple[datetime, datetime]]:
    edges = [GRID_END - 3 * HOUR, GRID_END - 2 * HOUR, GRID_END - HOUR, GRID_END]
    return list(itertools.pairwise(edges))


async def test_fault_from_hits_only_the_chunk_that_starts_there() -> None:
    sim = ScoutSimulator(now=NOW)
    middle = _chunks()[1][0]
    sim.add_fault(Fault(path="/apps/*/metrics/*", from_=middle, status=503, times=None))
    async with sim.http_client(headers=KEY) as http:
        statuses = [
            (await http.get("/apps/101/metrics/apdex", params=window(a, b))).status_code
            for _ in range(2)
            for a, b in _chunks()
        ]
        # No `from` at all: no match either.
        assert (await http.get("/apps/101/metrics")).status_code == 200
        # The same instant written another way is the same `from`.
        other_form = {"from": "2026-07-05T16:00:00+02:00", "to": iso(GRID_END)}
        assert (await http.get("/apps/101/metrics/apdex", params=other_form)).status_code == 503
        unreadable = {"from": "soon", "to": iso(GRID_END)}
        assert (await http.get("/apps/101/metrics/apdex", params=unreadable)).status_code == 422
    assert statuses == [200, 503, 200] * 2
    hit = [r for r in sim.requests if r.fault is not None]
    assert [r.query["from"] for r in hit] == [iso(middle)] * 2 + [other_form["from"]]


async def test_fault_from_counts_skip_and_times_among_its_matches_only() -> None:
    sim = ScoutSimulator(now=NOW)
    last = _chunks()[2][0]
    sim.add_fault(Fault(from_=last, skip=1, times=1, status=500))
    async with sim.http_client(headers=KEY) as http:
        statuses = [
            (await http.get("/apps/101/metrics/apdex", params=window(a, b))).status_code
            for _ in range(3)
            for a, b in _chunks()
        ]
    assert statuses == [200, 200, 200, 200, 200, 500, 200, 200, 200]


async def test_fault_from_can_slow_one_chunk() -> None:
    sim = ScoutSimulator(now=NOW)
    first = _chunks()[0][0]
    sim.add_fault(Fault(path="/apps/101/metrics/*", from_=first, latency=0.3))
    async with sim.http_client(headers=KEY) as http:
        took = []
        for a, b in _chunks():
            started = time.monotonic()
            assert (
                await http.get("/apps/101/metrics/apdex", params=window(a, b))
            ).status_code == 200
            took.append(time.monotonic() - started)
    assert took[0] >= 0.3
    assert max(took[1:]) < 0.3


def test_fault_from_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Fault(from_=datetime(2026, 7, 5, 15), status=500)
    assert Fault(from_=GRID_END, status=500).matches(
        "/apps/1/metrics/apdex", {"from": iso(GRID_END)}
    )
    assert not Fault(from_=GRID_END, status=500).matches("/apps/1/metrics/apdex")


# -- in-process httpx client -------------------------------------------------------------------


async def test_http_client_reaches_the_simulator_in_process() -> None:
    sim = ScoutSimulator(now=NOW)
    async with sim.http_client(headers=KEY) as http:
        assert isinstance(http, httpx.AsyncClient)
        assert str(http.base_url) == "http://simulator/api/v0/"
        response = await http.get("/apps/101")
        assert response.status_code == 200
        assert response.json()["results"]["app"]["id"] == 101
    assert [r.path for r in sim.requests] == ["/api/v0/apps/101"]
    assert sim.requests[0].auth_mode == "header"


async def test_http_client_passes_arguments_on_and_sets_no_key() -> None:
    sim = ScoutSimulator(now=NOW)
    async with sim.http_client(base_url="http://elsewhere.test/api/v0", timeout=3.0) as http:
        assert str(http.base_url) == "http://elsewhere.test/api/v0/"
        assert http.timeout == httpx.Timeout(3.0)
        assert (await http.get("/apps")).status_code == 403  # no key unless you pass one
    with pytest.raises(TypeError, match="transport"):
        sim.http_client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))


async def test_http_client_serves_a_scout_client() -> None:
    sim = ScoutSimulator(now=NOW)
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http) as client,
    ):
        apps = await client.apps.list()
    assert [app.id for app in apps] == [101, 102, 103, 104, 105]
    assert (sim.completed, sim.cancelled) == (1, 0)
