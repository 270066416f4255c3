"""client.jobs, and a job's metric names, series (through the planner, both answer shapes) and
traces: ``client.metrics.list/get/stream(..., job_id=)``, ``client.traces.list(..., job_id=)``."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import respx

import scout_async
from scout_async import Point, ScoutClient
from scout_async._resources.job_series import job_series_results
from scout_async.testing import ScoutSimulator
from scout_async.types import Job, JobTrace
from tests.conftest import BASE_URL, SECRET, VirtualClock, envelope

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)  # one request, answered at 10 min
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
JOB_ID = "ZGVmYXVsdC9NeVdvcmtlcg=="  # default/MyWorker
# A job whose id a path must percent-encode: base64 of its full name with "/", "+" and "=" in it.
ODD_JOB = "critical/Re?fu>ndJob"
ODD_JOB_ID = "Y3JpdGljYWwvUmU/ZnU+bmRKb2I="
ODD_SEGMENT = "Y3JpdGljYWwvUmU%2FZnU%2BbmRKb2I%3D"


@pytest.fixture
def clock() -> VirtualClock:
    """The ``client`` fixture's clock: its wall time is ``NOW``."""
    return VirtualClock(wall=NOW)


JOBS = [
    {
        "full_name": "default/MyWorker",
        "name": "MyWorker",
        "queue": "default",
        "throughput": 120.5,
        "execution_time": 85.25,
        "time_consumed": 0.6,
        "latency": 1.5,
        "job_id": JOB_ID,
        "brand_new_field": [1, 2],
    },
    {"full_name": "mailers/SendWelcomeEmailJob", "throughput": 3.2, "execution_time": 640},
]


async def test_list_reads_the_bare_list(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/jobs").respond(json=envelope(JOBS))
        jobs = await client.jobs.list(6, start=T0, end=T1)
    assert jobs[0] == Job(
        full_name="default/MyWorker",
        name="MyWorker",
        queue="default",
        job_id=JOB_ID,
        throughput=120.5,
        execution_time=85.25,
        time_consumed=0.6,
        latency=1.5,
    )
    assert jobs[0].id == JOB_ID
    # No job_id sent: the id is base64 of queue/JobName, as Scout makes it.
    assert jobs[1].job_id is None
    assert jobs[1].id == "bWFpbGVycy9TZW5kV2VsY29tZUVtYWlsSm9i"
    assert dict(route.calls.last.request.url.params) == {
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-03-02T00:00:00Z",
    }


async def test_metric_names(client: ScoutClient) -> None:
    names = ["throughput", "execution_time", "latency", "errors", "allocations"]
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/jobs/{ODD_SEGMENT}/metrics").respond(
            json=envelope({"availableMetrics": names})
        )
        assert await client.metrics.list(6, job_id=ODD_JOB_ID) == names
    assert route.call_count == 1
    assert tuple(names) == scout_async.JOB_METRICS


# -- series ------------------------------------------------------------------------------------


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


SHAPES = [
    (
        "throughput",
        {
            "summaries": {"throughput": 120.5},
            "series": {"throughput": [[at(0), 100], [at(10), 140]]},
        },
        120.5,
        [100.0, 140.0],
    ),
    (
        "execution_time",
        {
            "summaries": {"execution_time": 85.25},
            "series": {
                "execution_time": {
                    "ActiveRecord": [[at(0), 30], [at(10), 20]],
                    "Ruby": [[at(10), 5], [at(0), 70]],
                }
            },
        },
        85.25,
        [100.0, 25.0],  # no total: summed per bucket
    ),
    (
        "execution_time",
        {
            "summaries": {"execution_time": 110},
            "series": {
                "execution_time": {
                    "ActiveRecord": [[at(0), 30]],
                    "Job": [[at(0), 80]],
                    "total": [[at(0), 110]],
                }
            },
        },
        110.0,
        [110.0],  # Scout's total, not counted twice
    ),
    (
        "latency",
        {
            "summaries": {"latency": 1500},
            "series": {"latency": {"Latency": [[at(0), 1450]], "total": [[at(0), 85]]}},
        },
        1500.0,
        [1450.0],  # latency's "total" is the execution time: set aside
    ),
    (
        "errors",
        {
            "summaries": {"errors": {"Job/default/MyWorker": 0.02}},
            "series": {"errors": {"default/MyWorker": [[at(0), 0.05], [at(10), 0.01]]}},
        },
        0.02,
        [0.05, 0.01],
    ),
    (
        "allocations",
        {
            "summaries": {"allocations": 50000},
            "series": {"allocations": {"Job/MyWorker": [[at(0), 12345]]}},
        },
        50000.0,
        [12345.0],
    ),
    ("execution_time", {"summaries": {"execution_time": None}, "series": {}}, None, []),
]


@pytest.mark.parametrize(("metric", "results", "summary", "values"), SHAPES)
async def test_metric_reads_flat_and_nested_answers(
    metric: str,
    results: dict[str, Any],
    summary: float | None,
    values: list[float],
    client: ScoutClient,
) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/jobs/{JOB_ID}/metrics/{metric}").respond(
            json=envelope(results)
        )
        series = await client.metrics.get(6, metric, job_id=JOB_ID, start=T0, end=T1)
    assert route.call_count == 1
    assert series.summary == summary
    assert series.step == timedelta(minutes=10)
    assert [p.value for p in series.points] == values
    assert [p.time for p in series.points] == [
        T0 + timedelta(minutes=10 * i) for i in range(len(values))
    ]


def test_nested_series_with_a_bad_part_is_a_response_format_error() -> None:
    results = {"series": {"errors": {"a": [[at(0), 1]], "b": "nope"}}}
    with pytest.raises(scout_async.ResponseFormatError, match=r"series\.errors\.b"):
        job_series_results(results, "errors", "/p")


def test_summed_series_keeps_nulls_only_where_every_part_is_null() -> None:
    results = {
        "series": {
            "execution_time": {
                "a": [[at(0), None], [at(10), 2]],
                "b": [[at(0), None], [at(10), None]],
            }
        }
    }
    reshaped = job_series_results(results, "execution_time", "/p")
    assert reshaped["series"]["execution_time"] == [
        [T0, None],
        [T0 + timedelta(minutes=10), 2.0],
    ]


async def test_job_metric_goes_through_the_planner_and_every_chunk_is_reshaped() -> None:
    sim = ScoutSimulator(
        api_key=SECRET,
        apps=[(6, "App 6")],
        now=T0 + timedelta(days=40),  # after the window, which is not yet forgotten
        retention=timedelta(days=60),
    )
    added = sim.add_job(6, ODD_JOB)  # the simulated account gets the odd job...
    assert base64.urlsafe_b64decode(added) == ODD_JOB.encode()
    # ...which a caller may hold in the standard alphabet, as ODD_JOB_ID
    assert base64.b64encode(ODD_JOB.encode()).decode() == ODD_JOB_ID
    assert quote(ODD_JOB_ID, safe="") == ODD_SEGMENT
    start, end = T0, T0 + timedelta(days=20)
    async with ScoutClient(
        api_key=SECRET, base_url=BASE_URL, http_client=sim.http_client()
    ) as client:
        series = await client.metrics.get(
            6, "execution_time", job_id=ODD_JOB_ID, start=start, end=end
        )
        streamed = [
            p
            async for p in client.metrics.stream(
                6, "execution_time", job_id=ODD_JOB_ID, start=start, end=end
            )
        ]
    step = timedelta(hours=2)
    # The job's own figure: what the simulator's nested answers hold as Scout's total.
    served = sim.points(6, "execution_time", start=start, end=end, step=step, job_id=ODD_JOB_ID)
    expected = [Point(t, v) for t, v in served]
    assert [p.time for p in expected] == [start + i * step for i in range(240)]
    assert series.step == step
    assert series.points == expected
    assert streamed == expected
    assert len(sim.requests) == 2 * len(scout_async.plan_range(start, end)) == 4
    assert {r.path for r in sim.requests} == {
        f"/api/v0/apps/6/jobs/{ODD_SEGMENT}/metrics/execution_time"
    }
    # Every chunk came nested, a breakdown beside the total: each one was reshaped.
    async with sim.http_client(headers={"X-SCOUT-API": SECRET}) as http:
        for chunk in scout_async.plan_range(start, end):
            params = {
                "from": chunk.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "to": chunk.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            response = await http.get(
                f"/apps/6/jobs/{ODD_SEGMENT}/metrics/execution_time", params=params
            )
            nested = response.json()["results"]["series"]["execution_time"]
            assert set(nested) == {"ActiveRecord", "Ruby", "total"}


async def test_job_metric_names_are_checked_first(client: ScoutClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(ValueError, match="execution_time"):
            await client.metrics.get(6, "response_time", job_id=JOB_ID, start=T0, end=T1)
        # ``job_id=None`` now means the app's own series: a job id of the wrong type is refused.
        with pytest.raises(TypeError, match="job_id"):
            client.metrics.stream(6, "errors", job_id=5, start=T0, end=T1)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="14 days"):
            await client.jobs.list(6, start=T0, end=T0 + timedelta(days=15))
    assert route.call_count == 0


# -- traces ------------------------------------------------------------------------------------


async def test_traces_within_the_lookback(client: ScoutClient) -> None:
    traces = [
        {
            "id": 501,
            "time": "2026-03-09T11:45:00Z",
            "duration": 2500,
            "name": "MyWorker",
            "queue": "default",
            "metric_name": "Job/default/MyWorker",
            "context": {"host": "web-1"},
        },
        {"id": 502, "time": "2026-03-10T11:46:00Z", "duration": 1200.5, "context": None},
    ]
    start = NOW - timedelta(days=2)
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/jobs/{ODD_SEGMENT}/traces").respond(
            json=envelope({"traces": traces})
        )
        found = await client.traces.list(6, job_id=ODD_JOB_ID, start=start, end=NOW)
    assert [t.id for t in found] == [502, 501]  # newest first
    assert found[1] == JobTrace(
        id=501,
        time=datetime(2026, 3, 9, 11, 45, tzinfo=UTC),
        duration=2500.0,
        name="MyWorker",
        queue="default",
        metric_name="Job/default/MyWorker",
        context={"host": "web-1"},
    )
    assert dict(route.calls.last.request.url.params) == {
        "from": "2026-03-08T12:00:00Z",
        "to": "2026-03-10T12:00:00Z",
    }


async def test_traces_refuse_an_old_start_unless_clamped(client: ScoutClient) -> None:
    old = NOW - timedelta(days=7)
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/jobs/{JOB_ID}/traces").respond(
            json=envelope({"traces": []})
        )
        with pytest.raises(ValueError, match="clamp=True"):
            await client.traces.list(6, job_id=JOB_ID, start=old, end=NOW)
        assert route.call_count == 0
        assert await client.traces.list(6, job_id=JOB_ID, start=old, end=NOW, clamp=True) == []
    assert route.calls.last.request.url.params["from"] == "2026-03-03T12:01:00Z"
