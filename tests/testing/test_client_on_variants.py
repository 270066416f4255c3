"""The client's series against every variant of what is unknown about the live API.

Scout has not said whether a series includes the bucket at ``to`` (``inclusive_end``), whether a
window of exactly a band's upper edge gets that band's step (``band_edges``), or whether a bucket
without data is left out or sent as a null (``missing``/``nulls``). The simulator serves each
variant; a correct client returns the same series under all of them, which is what the
simulator itself says it holds (``ScoutSimulator.points``): every bucket of the step grid that
overlaps the window, at one step, in order, a gap as the server showed it.

Where a plan sends a window of exactly a band's upper edge and the edge is exclusive, Scout
answers at the next step: the client splits that request inside the band and still returns the
series at the planned step (self-healing steps). A series ends at the last closed bucket: the
ones that end less than ``DEFAULT_LATENESS`` before the clock are not handed out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

import scout_async
from scout_async import Point, ScoutClient
from scout_async._constants import DEFAULT_LATENESS
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)  # on every step's grid
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
APP = 101

VARIANTS: dict[str, dict[str, Any]] = {
    "documented": {},  # inclusive `to`, inclusive band edges, no gaps
    "to-exclusive": {"inclusive_end": False},
    "edges-exclusive": {"band_edges": "exclusive"},
    "gaps-missing": {"missing": 0.1},
    "gaps-null": {"nulls": 0.1},
    "all-unknowns-other-way": {
        "inclusive_end": False,
        "band_edges": "exclusive",
        "missing": 0.05,
        "nulls": 0.05,
    },
}

# The band edges a window can sit exactly on (14 days has no band above it).
UPPER_EDGES = frozenset({60 * MINUTE, 3 * HOUR, 12 * HOUR, DAY, 3 * DAY, 7 * DAY})


@attrs.frozen
class Case:
    """One series to read: its window, resolution and scope, and the step it must come at."""

    metric: str
    start: datetime
    end: datetime
    resolution: str | None
    step: timedelta
    scope: str = "app"  # "app", "endpoint" or "job"


CASES = {
    "2 days at 1m": Case("throughput", END - 2 * DAY, END, "1m", MINUTE),
    "one day as one request": Case("response_time", END - DAY, END, None, 10 * MINUTE),
    "20 days, two requests at 2h": Case("apdex", END - 20 * DAY, END, None, 2 * HOUR),
    "ends off the grid at 5m": Case(
        "errors",
        END - 7 * HOUR + timedelta(seconds=17),
        END - 13 * MINUTE + timedelta(seconds=5),
        "5m",
        5 * MINUTE,
    ),
    "an endpoint at 2m": Case(
        "response_time_95th", END - 5 * HOUR, END, "2m", 2 * MINUTE, "endpoint"
    ),
    "a job's sub-series at 10m": Case(
        "execution_time", END - 36 * HOUR, END, "10m", 10 * MINUTE, "job"
    ),
    "up to now at 1m": Case("throughput", NOW - 3 * HOUR, NOW, "1m", MINUTE),
}


def _touches_an_edge(case: Case) -> bool:
    plan = scout_async.plan_range(case.start, case.end, case.resolution)
    return any(chunk.end - chunk.start in UPPER_EDGES for chunk in plan)


@pytest.fixture(params=list(VARIANTS), ids=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[str(request.param)]


def test_some_cases_send_a_window_exactly_on_a_band_edge() -> None:
    # So the exclusive-edge variants exercise the self-healing steps.
    assert sum(_touches_an_edge(case) for case in CASES.values()) >= 2


@pytest.fixture
def sim(variant: str) -> ScoutSimulator:
    return ScoutSimulator(now=NOW, **VARIANTS[variant])


@pytest.fixture
async def client(sim: ScoutSimulator) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=sim.clock) as running,
    ):
        yield running


async def _scope(client: ScoutClient, case: Case) -> dict[str, Any]:
    if case.scope == "endpoint":
        endpoints = await client.endpoints.list(APP, start=END - DAY, end=END)
        return {"endpoint_id": next(e.id for e in endpoints if e.name == "users/show")}
    if case.scope == "job":
        jobs = await client.jobs.list(APP, start=END - DAY, end=END)
        return {"job_id": next(j.id for j in jobs if j.full_name == "default/MailerJob")}
    return {}


def _expected(sim: ScoutSimulator, case: Case, scope: dict[str, str]) -> list[Point]:
    served = sim.points(APP, case.metric, start=case.start, end=case.end, step=case.step, **scope)
    closed = NOW - DEFAULT_LATENESS  # a bucket ending later has not closed: not handed out
    return [Point(t, None if v is None else float(v)) for t, v in served if t + case.step <= closed]


async def test_get_is_the_series_the_simulator_holds(
    client: ScoutClient, sim: ScoutSimulator, case: Case
) -> None:
    scope = await _scope(client, case)
    series = await client.metrics.get(
        APP, case.metric, start=case.start, end=case.end, resolution=case.resolution, **scope
    )
    assert series.step == case.step
    expected = _expected(sim, case, scope)
    assert series.points == expected
    assert expected  # the window has data at all
    times = [p.time for p in series.points]
    assert times == sorted(set(times))  # strictly increasing, each bucket once
    assert all(
        (t - datetime(1970, 1, 1, tzinfo=timezone.utc)) % case.step == timedelta(0) for t in times
    )
    assert times[0] > case.start - case.step
    assert times[-1] < case.end


async def test_stream_yields_the_same_points(
    client: ScoutClient, sim: ScoutSimulator, case: Case
) -> None:
    scope = await _scope(client, case)
    streamed = [
        p
        async for p in client.metrics.stream(
            APP, case.metric, start=case.start, end=case.end, resolution=case.resolution, **scope
        )
    ]
    assert streamed == _expected(sim, case, scope)


def test_every_variant_is_one_the_simulator_serves() -> None:
    for arguments in VARIANTS.values():
        sim = ScoutSimulator(now=NOW, **arguments)
        assert sim.inclusive_end is arguments.get("inclusive_end", True)
        assert sim.band_edges == arguments.get("band_edges", "inclusive")
        assert (sim.missing, sim.nulls) == (arguments.get("missing", 0), arguments.get("nulls", 0))
    # Each unknown is varied at least once on its own, against the documented defaults.
    varied = {key for arguments in VARIANTS.values() if len(arguments) == 1 for key in arguments}
    assert varied == {"inclusive_end", "band_edges", "missing", "nulls"}
