"""What the simulator offers a test for its data: gaps (left out or null) as a variant, an account a
test shapes (metric listings per app, apps and jobs added later), ``points`` for a test's
expectations, and when a recorded request was answered."""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import anyio
import pytest

from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
GRID_END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
M = timedelta(minutes=1)
KEY = {"X-SCOUT-API": DEFAULT_API_KEY}
APP_METRICS = ["apdex", "response_time", "response_time_95th", "errors", "throughput", "queue_time"]
MAILER_JOB = "default/MailerJob"
MAILER_JOB_ID = base64.urlsafe_b64encode(MAILER_JOB.encode()).decode()
ODD_ENDPOINT_ID = base64.b64encode(b"docs/~~~/show").decode()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": iso(start), "to": iso(end)}


def job_segment(full_name: str) -> str:
    return quote(base64.urlsafe_b64encode(full_name.encode()).decode(), safe="")


async def results(sim: ScoutSimulator, path: str, **params: str) -> Any:
    async with sim.http_client(headers=KEY) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def series(
    sim: ScoutSimulator, path: str, metric: str, start: datetime, end: datetime
) -> list[list[Any]]:
    found = await results(sim, path, **window(start, end))
    points: list[list[Any]] = found["series"][metric]
    return points


def as_served(points: list[tuple[datetime, float | None]]) -> list[list[Any]]:
    return [[iso(t), v] for t, v in points]


# -- gaps --------------------------------------------------------------------------------------


async def test_no_gaps_unless_asked_for() -> None:
    sim = ScoutSimulator(now=NOW)
    assert (sim.missing, sim.nulls) == (0.0, 0.0)
    day = await series(sim, "/apps/101/metrics/apdex", "apdex", GRID_END - 24 * HOUR, GRID_END)
    assert len(day) == 24 * 6 + 1  # every 10-minute bucket, the one at `to` included
    assert all(value is not None for _, value in day)


async def test_gaps_leave_buckets_out_and_send_others_as_null() -> None:
    sim = ScoutSimulator(now=NOW, missing=0.1, nulls=0.1)
    assert (sim.missing, sim.nulls) == (0.1, 0.1)
    points: list[list[Any]] = []
    for hours in range(12):
        end = GRID_END - hours * HOUR
        points += await series(sim, "/apps/101/metrics/throughput", "throughput", end - HOUR, end)
    stamps = {t for t, _ in points}
    buckets = 12 * 61  # each hour's 60 buckets and the one at its `to`, counted once per request
    left_out = buckets - len(points)
    nulls = sum(1 for _, value in points if value is None)
    assert 0.05 * buckets < left_out < 0.15 * buckets
    assert 0.05 * buckets < nulls < 0.15 * buckets
    assert len(stamps) < 12 * 60 + 1  # some buckets are in no answer at all


async def test_gaps_agree_however_a_window_is_split() -> None:
    sim = ScoutSimulator(now=NOW, missing=0.2, nulls=0.2, inclusive_end=False)
    start, middle, end = GRID_END - HOUR, GRID_END - HOUR / 2, GRID_END
    path = "/apps/102/metrics/errors"
    whole = await series(sim, path, "errors", start, end)
    halves = await series(sim, path, "errors", start, middle)
    halves += await series(sim, path, "errors", middle, end)
    assert whole == halves
    assert any(value is None for _, value in whole)
    assert len(whole) < 60


async def test_a_gap_is_a_gap_in_every_metric_of_the_bucket() -> None:
    sim = ScoutSimulator(now=NOW, missing=0.15, nulls=0.15)
    start = GRID_END - HOUR
    shapes = []
    for metric in ("apdex", "throughput", "errors"):
        points = await series(sim, f"/apps/101/metrics/{metric}", metric, start, GRID_END)
        shapes.append([(t, value is None) for t, value in points])
    assert shapes[0] == shapes[1] == shapes[2]


async def test_a_summary_leaves_nulls_out() -> None:
    sim = ScoutSimulator(now=NOW, nulls=0.3)
    start = GRID_END - HOUR
    for metric in ("apdex", "errors"):
        found = await results(sim, f"/apps/101/metrics/{metric}", **window(start, GRID_END))
        values = [v for _, v in found["series"][metric] if v is not None]
        assert len(values) < 61
        summary = found["summaries"][metric]
        if metric == "errors":  # a count: the total
            assert summary == sum(values)
        else:
            assert summary == round(sum(values) / len(values), 3)


async def test_a_jobs_sub_series_share_its_gaps() -> None:
    sim = ScoutSimulator(now=NOW, missing=0.15, nulls=0.15)
    base = f"/apps/101/jobs/{job_segment(MAILER_JOB)}/metrics"
    params = window(GRID_END - HOUR, GRID_END)
    execution = (await results(sim, f"{base}/execution_time", **params))["series"]
    parts = execution["execution_time"]
    total = parts["total"]
    assert any(v is None for _, v in total)
    for name in ("ActiveRecord", "Ruby"):
        assert [(t, v is None) for t, v in parts[name]] == [(t, v is None) for t, v in total]
    latency = (await results(sim, f"{base}/latency", **params))["series"]["latency"]
    assert latency["total"] == total  # the job's execution time, gaps and all
    assert [t for t, _ in latency["Latency"]] == [t for t, _ in total]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"missing": -0.1}, ValueError, "missing"),
        ({"nulls": 1.5}, ValueError, "nulls"),
        ({"missing": 0.6, "nulls": 0.5}, ValueError, "exceed 1"),
        ({"missing": "0.1"}, TypeError, "missing"),
        ({"nulls": True}, TypeError, "nulls"),
    ],
)
def test_gap_fractions_are_checked(
    arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        ScoutSimulator(now=NOW, **arguments)


# -- the account -------------------------------------------------------------------------------


async def test_metric_listings_per_app() -> None:
    sim = ScoutSimulator(now=NOW, metrics={101: ["apdex", "errors"], 106: ["throughput"]})
    listed = await results(sim, "/apps/101/metrics")
    assert listed == {"availableMetrics": ["apdex", "errors"]}
    assert (await results(sim, "/apps/102/metrics"))["availableMetrics"] == APP_METRICS
    # The listing only: every documented series is still served.
    await series(sim, "/apps/101/metrics/throughput", "throughput", GRID_END - HOUR, GRID_END)
    sim.add_app(106, "Checkout Canary")  # an app added later gets its listing too
    assert (await results(sim, "/apps/106/metrics"))["availableMetrics"] == ["throughput"]


async def test_an_app_added_later_is_listed_and_served_as_if_it_had_been_there() -> None:
    sim = ScoutSimulator(now=NOW, apps=[(101, "Storefront")])
    assert [a["id"] for a in (await results(sim, "/apps"))["apps"]] == [101]
    sim.add_app(7, "Canary")
    listed = (await results(sim, "/apps"))["apps"]
    assert [(a["id"], a["name"]) for a in listed] == [(101, "Storefront"), (7, "Canary")]
    born_with_it = ScoutSimulator(now=NOW, apps=[(7, "Canary")])
    for source in (sim, born_with_it):
        assert (await results(source, "/apps/7"))["app"]["name"] == "Canary"
    path = "/apps/7/metrics/apdex"
    got = await series(sim, path, "apdex", GRID_END - HOUR, GRID_END)
    assert got == await series(born_with_it, path, "apdex", GRID_END - HOUR, GRID_END)
    with pytest.raises(ValueError, match="already exists"):
        sim.add_app(7, "Again")
    with pytest.raises(TypeError, match="app_id"):
        sim.add_app("8", "Text")  # type: ignore[arg-type]


async def test_a_job_added_later_is_listed_and_served() -> None:
    sim = ScoutSimulator(now=NOW)
    params = window(GRID_END - 24 * HOUR, GRID_END)
    before = await results(sim, "/apps/101/jobs", **params)
    name = "critical/Re?fu>ndJob"
    job_id = sim.add_job(101, name)
    assert base64.urlsafe_b64decode(job_id) == name.encode()
    after = await results(sim, "/apps/101/jobs", **params)
    assert after[:-1] == before  # the others keep their figures
    assert (after[-1]["full_name"], after[-1]["job_id"]) == (name, job_id)
    assert (after[-1]["queue"], after[-1]["name"]) == ("critical", "Re?fu>ndJob")
    for sent in (job_id, base64.b64encode(name.encode()).decode()):  # either alphabet
        found = await results(
            sim,
            f"/apps/101/jobs/{quote(sent, safe='')}/metrics/throughput",
            **window(GRID_END - HOUR, GRID_END),
        )
        assert len(found["series"]["throughput"]) == 61


def test_adding_a_job_is_checked() -> None:
    sim = ScoutSimulator(now=NOW)
    with pytest.raises(ValueError, match="queue/ClassName"):
        sim.add_job(101, "NoQueueJob")
    with pytest.raises(ValueError, match="already has"):
        sim.add_job(101, MAILER_JOB)
    with pytest.raises(LookupError, match="no app 999"):
        sim.add_job(999, "default/NewJob")


# -- points: what a series holds ---------------------------------------------------------------


@pytest.mark.parametrize("gaps", [0.0, 0.2], ids=["whole", "gappy"])
@pytest.mark.parametrize(
    ("length", "step"),
    [(HOUR, M), (5 * HOUR, 5 * M), (2 * 24 * HOUR, 30 * M)],
    ids=["1h", "5h", "2d"],
)
async def test_points_are_what_a_request_is_answered_with(
    gaps: float, length: timedelta, step: timedelta
) -> None:
    sim = ScoutSimulator(now=NOW, inclusive_end=False, missing=gaps, nulls=gaps)
    start = GRID_END - length
    endpoint = quote(ODD_ENDPOINT_ID, safe="")
    job = job_segment(MAILER_JOB)
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("/apps/101/metrics/apdex", "apdex", {}),
        ("/apps/103/metrics/errors", "errors", {}),
        (
            f"/apps/101/endpoints/{endpoint}/metrics/throughput",
            "throughput",
            {"endpoint_id": ODD_ENDPOINT_ID},
        ),
        (f"/apps/101/jobs/{job}/metrics/throughput", "throughput", {"job_id": MAILER_JOB_ID}),
    ]
    for path, metric, scope in cases:
        served = await series(sim, path, metric, start, GRID_END)
        app_id = int(path.split("/")[2])
        points = sim.points(app_id, metric, start=start, end=GRID_END, step=step, **scope)
        assert as_served(points) == served, path
    # A job's own figure: the total of its nested execution time.
    nested = await results(
        sim, f"/apps/101/jobs/{job}/metrics/execution_time", **window(start, GRID_END)
    )
    total = nested["series"]["execution_time"]["total"]
    points = sim.points(
        101, "execution_time", start=start, end=GRID_END, step=step, job_id=MAILER_JOB_ID
    )
    assert as_served(points) == total


async def test_points_cover_the_buckets_overlapping_the_window() -> None:
    sim = ScoutSimulator(now=NOW)
    start, end = GRID_END - 2 * M + timedelta(seconds=5), GRID_END + timedelta(seconds=1)
    points = sim.points(101, "apdex", start=start, end=end, step=M)
    assert [t for t, _ in points] == [GRID_END - 2 * M, GRID_END - M, GRID_END]


async def test_points_make_no_request_and_leave_faults_armed() -> None:
    sim = ScoutSimulator(now=NOW)
    sim.add_fault(Fault(status=503))
    sim.points(101, "apdex", start=GRID_END - HOUR, end=GRID_END, step=M)
    assert (sim.requests, sim.completed) == ([], 0)
    async with sim.http_client(headers=KEY) as http:
        assert (await http.get("/apps")).status_code == 503


def test_points_keep_to_the_clock_and_retention() -> None:
    sim = ScoutSimulator(now=NOW, retention=timedelta(days=2))
    future = sim.points(101, "apdex", start=NOW - 2 * M, end=NOW + HOUR, step=M)
    assert future[-1][0] == NOW.replace(second=0)  # the bucket holding now, nothing after
    old = sim.points(101, "apdex", start=NOW - timedelta(days=3), end=NOW, step=HOUR)
    assert old[0][0] == (NOW - timedelta(days=2)).replace(minute=0, second=0) + HOUR


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"app_id": 999}, LookupError, "no app 999"),
        ({"endpoint_id": base64.b64encode(b"no/such").decode()}, LookupError, "no endpoint"),
        ({"job_id": base64.b64encode(b"default/NoSuchJob").decode()}, LookupError, "no job"),
        ({"metric": "execution_time"}, ValueError, "no 'execution_time' series"),
        ({"metric": "apdex", "job_id": MAILER_JOB_ID}, ValueError, "no 'apdex' series"),
        ({"endpoint_id": "YQ==", "job_id": MAILER_JOB_ID}, ValueError, "not both"),
        ({"step": timedelta(0)}, ValueError, "step"),
        ({"step": timedelta(seconds=1.5)}, ValueError, "step"),
    ],
)
def test_points_refuse_what_is_not_a_series(
    arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    sim = ScoutSimulator(now=NOW)
    call: dict[str, Any] = {
        "app_id": 101,
        "metric": "throughput",
        "start": GRID_END - HOUR,
        "end": GRID_END,
        "step": M,
    } | arguments
    app_id = call.pop("app_id")
    metric = call.pop("metric")
    with pytest.raises(error, match=match):
        sim.points(app_id, metric, **call)


# -- when a request was answered ---------------------------------------------------------------


async def test_a_recorded_request_says_when_it_was_answered() -> None:
    sim = ScoutSimulator(now=NOW, latency=0.05)
    sim.add_fault(Fault(path="/usage", latency=10.0))
    async with sim.http_client(headers=KEY) as http:
        assert (await http.get("/apps")).status_code == 200
        with anyio.move_on_after(0.1):
            await http.get("/usage")  # given up on: answered (found gone) when cancelled
    answered, abandoned = sim.requests
    assert answered.answered - answered.time >= 0.05
    assert abandoned.cancelled
    # Given up on 0.1 s after the client started it, which is a little before the simulator
    # recorded it: ended by the cancel, long before its 10 s.
    assert 0.0 < abandoned.answered - abandoned.time < 5.0
    assert math.isfinite(abandoned.answered)
