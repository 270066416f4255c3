"""The bundled Scout API simulator: protocol, data, faults, recording, server, CLI and plugin."""

from __future__ import annotations

import base64
import importlib.metadata
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import anyio
import httpx
import pytest

import scout_async.testing
from scout_async.testing import (
    DEFAULT_API_KEY,
    Fault,
    RecordedRequest,
    ScoutSimulator,
    SimulatorServer,
)

pytest_plugins = ["pytester"]

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
# On the grid of every step (2 h divides it), and well inside retention.
GRID_END = datetime(2026, 7, 5, 16, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Band(NamedTuple):
    """Window lengths in ``(lower, upper]`` are answered at ``step``."""

    step: timedelta
    lower: timedelta
    upper: timedelta


_MIN = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
# The step table as Scout's docs state it (shared/scout-api/README.md, "Time windows and steps"),
# written out here: neither the client's copy nor the simulator's is checked against itself.
BANDS = (
    Band(step=1 * _MIN, lower=timedelta(0), upper=60 * _MIN),
    Band(step=2 * _MIN, lower=1 * _HOUR, upper=3 * _HOUR),
    Band(step=5 * _MIN, lower=3 * _HOUR, upper=12 * _HOUR),
    Band(step=10 * _MIN, lower=12 * _HOUR, upper=1 * DAY),
    Band(step=30 * _MIN, lower=1 * DAY, upper=3 * DAY),
    Band(step=1 * _HOUR, lower=3 * DAY, upper=7 * DAY),
    Band(step=2 * _HOUR, lower=7 * DAY, upper=14 * DAY),
)


def floor_to_grid(moment: datetime, step: timedelta) -> datetime:
    return moment - (moment - EPOCH) % step


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": iso(start), "to": iso(end)}


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def client(sim: ScoutSimulator, *, key: str | None = DEFAULT_API_KEY) -> httpx.AsyncClient:
    headers = {} if key is None else {"X-SCOUT-API": key}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app),
        base_url="http://simulator/api/v0",
        headers=headers,
    )


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(now=NOW)


@pytest.fixture
async def http(sim: ScoutSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client(sim) as http:
        yield http


async def results(http: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["header"] == {"status": {"code": 200, "message": "OK"}, "apiVersion": "0.1"}
    return body["results"]


async def series(
    http: httpx.AsyncClient, start: datetime, end: datetime, metric: str = "response_time"
) -> list[tuple[datetime, float]]:
    found = await results(http, f"/apps/101/metrics/{metric}", **window(start, end))
    assert set(found) == {"summaries", "series"}
    return [(parse(t), v) for t, v in found["series"][metric]]


def assert_error(response: httpx.Response, code: int, message: str) -> None:
    assert response.status_code == code
    assert response.json() == {
        "header": {"status": {"code": code, "message": message}, "apiVersion": "0.1"},
        "results": {},
    }


# -- the public surface ------------------------------------------------------------------------


def test_exports_match_all() -> None:
    public = {name for name in dir(scout_async.testing) if not name.startswith("_")}
    assert set(scout_async.testing.__all__) == {
        "DEFAULT_API_KEY",
        "Fault",
        "RecordedRequest",
        "ScoutSimulator",
        "SimulatorServer",
    }
    assert set(scout_async.testing.__all__) <= public
    assert DEFAULT_API_KEY == "sim-key"


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, scout_async.testing._plugin; "
        "print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- series: steps, grid, ends, retention ------------------------------------------------------


def _band_cases() -> Iterator[Any]:
    for band in BANDS:
        name = f"{int(band.step.total_seconds() // 60)}m"
        yield pytest.param(band, band.lower + band.step, id=f"{name}-lower+1step")
        yield pytest.param(band, band.upper, id=f"{name}-upper")


@pytest.mark.parametrize("inclusive_end", [True, False], ids=["inclusive", "exclusive"])
@pytest.mark.parametrize(("band", "length"), list(_band_cases()))
async def test_series_step_follows_window_band(
    band: Band, length: timedelta, inclusive_end: bool
) -> None:
    sim = ScoutSimulator(now=NOW, inclusive_end=inclusive_end)
    async with client(sim) as http:
        points = await series(http, GRID_END - length, GRID_END)
    times = [t for t, _ in points]
    assert len(times) == length // band.step + (1 if inclusive_end else 0)
    assert times[0] == GRID_END - length
    assert times[-1] == (GRID_END if inclusive_end else GRID_END - band.step)
    assert all(b - a == band.step for a, b in itertools.pairwise(times))
    assert all((t - EPOCH) % band.step == timedelta(0) for t in times)


async def test_series_shape_matches_live_api(http: httpx.AsyncClient) -> None:
    found = await results(
        http, "/apps/101/metrics/apdex", **window(GRID_END - timedelta(hours=1), GRID_END)
    )
    point = found["series"]["apdex"][0]
    assert isinstance(point, list)
    assert len(point) == 2
    assert isinstance(point[0], str)
    assert point[0].endswith("Z")
    assert isinstance(found["summaries"]["apdex"], float)


async def test_series_starts_at_bucket_holding_from(http: httpx.AsyncClient) -> None:
    start = datetime(2026, 7, 5, 15, 0, 30, tzinfo=timezone.utc)
    points = await series(http, start, start + timedelta(minutes=30))
    assert points[0][0] == datetime(2026, 7, 5, 15, 0, tzinfo=timezone.utc)
    assert points[-1][0] == datetime(2026, 7, 5, 15, 30, tzinfo=timezone.utc)


async def test_series_stops_at_now_and_keeps_the_filling_bucket(http: httpx.AsyncClient) -> None:
    points = await series(http, NOW - timedelta(minutes=30), NOW + timedelta(minutes=30))
    assert points[-1][0] == floor_to_grid(NOW, timedelta(minutes=1))
    assert len(points) == 31


async def test_series_has_no_points_past_retention(http: httpx.AsyncClient) -> None:
    old = await results(http, "/apps/101/metrics/errors", **window(NOW - 40 * DAY, NOW - 35 * DAY))
    assert old == {"summaries": {"errors": 0}, "series": {"errors": []}}
    edge = await series(http, NOW - 31 * DAY, NOW - 29 * DAY)
    assert edge[0][0] >= NOW - 30 * DAY
    assert edge[0][0] - (NOW - 30 * DAY) < timedelta(minutes=30)


async def test_series_values_are_realistic(http: httpx.AsyncClient) -> None:
    start, end = NOW - 14 * DAY, NOW
    checks = {
        "apdex": (0.0, 1.0),
        "response_time": (20.0, 2000.0),
        "response_time_95th": (40.0, 6000.0),
        "throughput": (50.0, 10_000.0),
        "queue_time": (0.0, 200.0),
        "errors": (0, 100_000),
    }
    for metric, (low, high) in checks.items():
        found = await results(http, f"/apps/101/metrics/{metric}", **window(start, end))
        # The last bucket holds "now": it reads 0, as the live API's does (quirk 14).
        *values, filling = [v for _, v in found["series"][metric]]
        assert filling == 0, metric
        assert all(low <= v <= high for v in values), metric
        summary = found["summaries"][metric]
        if metric == "errors":
            assert summary == sum(values)
            assert all(isinstance(v, int) for v in values)
        else:
            # The summary covers every bucket sent, the one still filling too.
            assert summary == pytest.approx(sum(values) / (len(values) + 1), abs=1e-3)
    # A daily cycle: the busiest hour carries clearly more traffic than the quietest (the
    # bucket holding "now", still filling, left out).
    day = (await series(http, NOW - DAY, NOW, "throughput"))[:-1]
    assert max(v for _, v in day) > 1.5 * min(v for _, v in day)


async def test_series_agree_where_requests_overlap(http: httpx.AsyncClient) -> None:
    for metric in ("response_time", "errors", "apdex"):
        first = dict(await series(http, GRID_END - timedelta(minutes=60), GRID_END, metric))
        earlier = (GRID_END - timedelta(minutes=90), GRID_END - timedelta(minutes=30))
        second = dict(await series(http, *earlier, metric))
        shared = first.keys() & second.keys()
        assert len(shared) == 31
        assert all(first[t] == second[t] for t in shared)
    # Two 14-day windows at 2 h overlap by 7 days and agree too.
    a = dict(await series(http, NOW - 14 * DAY, NOW))
    b = dict(await series(http, NOW - 21 * DAY, NOW - 7 * DAY))
    assert len(a.keys() & b.keys()) == 85
    assert all(a[t] == b[t] for t in a.keys() & b.keys())


async def test_seed_changes_the_data() -> None:
    values = []
    for seed in (0, 1):
        async with client(ScoutSimulator(now=NOW, seed=seed)) as http:
            values.append(await series(http, GRID_END - timedelta(hours=1), GRID_END))
    assert values[0] != values[1]


# -- time windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(window(NOW - 14 * DAY - timedelta(seconds=1), NOW), id="14d+1s"),
        pytest.param(window(NOW, NOW), id="from==to"),
        pytest.param(window(NOW, NOW - DAY), id="from>to"),
        pytest.param({"to": iso(NOW)}, id="missing-from"),
        pytest.param({"from": iso(NOW - DAY)}, id="missing-to"),
        pytest.param({"from": "yesterday", "to": iso(NOW)}, id="unparseable"),
        pytest.param({"from": "2026-07-04", "to": iso(NOW)}, id="date-only"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/apps/101/metrics/throughput", "/apps/101/endpoints", "/apps/101/jobs"]
)
async def test_bad_windows_are_422(
    http: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    assert_error(await http.get(path, params=params), 422, "Invalid timeframe parameters")


async def test_window_of_exactly_14_days_and_offsets_are_accepted(http: httpx.AsyncClient) -> None:
    points = await series(http, NOW - 14 * DAY, NOW)
    assert points[1][0] - points[0][0] == timedelta(hours=2)
    offsets = await results(
        http,
        "/apps/101/metrics/response_time",
        **{"from": "2026-07-05T15:00:00+00:00", "to": "2026-07-05T18:00:00+02:00"},
    )
    stamps = [t for t, _ in offsets["series"]["response_time"]]
    assert stamps[0] == "2026-07-05T15:00:00Z"
    assert stamps[-1] == "2026-07-05T16:00:00Z"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-07-05T15:00:00.5Z", "2026-07-05T16:00:00.1234567Z"),  # fractions of 1 and 7 digits
        ("2026-07-05T15:00:00+0000", "2026-07-05T18:00:00+0200"),  # offsets without a colon
        ("2026-07-05T17:00:00+02", "2026-07-05 16:00:00"),  # hours only; no zone is UTC
    ],
)
async def test_times_are_read_alike_on_every_python(
    http: httpx.AsyncClient, start: str, end: str
) -> None:
    # The simulator's own parser: Python 3.10's fromisoformat refuses each of these forms.
    found = await results(http, "/apps/101/metrics/throughput", **{"from": start, "to": end})
    stamps = [t for t, _ in found["series"]["throughput"]]
    assert (stamps[0], stamps[-1]) == ("2026-07-05T15:00:00Z", "2026-07-05T16:00:00Z")


# -- errors and auth ---------------------------------------------------------------------------

_NOT_FOUND = [
    "/apps/999",
    "/apps/abc",
    "/apps/999/metrics",
    "/apps/101/metrics/latency",
    "/apps/101/endpoints/bm9wZQ==/metrics/apdex",
    "/apps/101/endpoints/not-base64!/metrics/apdex",
    "/apps/101/jobs/ZGVmYXVsdC9NYWlsZXJKb2I=/metrics/apdex",
    "/apps/101/traces/12345",
    "/apps/101/error_groups/5",
    "/apps/101/error_groups/5/errors",
    "/apps/101/anomaly_events/77",
    "/apps/101/insights/cpu_hogs",
    "/apps/101/insights/history/cpu_hogs",
    "/nope",
    "/apps/101/nope",
]


@pytest.mark.parametrize("path", _NOT_FOUND)
async def test_unknown_records_are_404(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, params=window(NOW - DAY, NOW))
    assert_error(response, 404, "Record Not Found")


# A job id must be base64 of "queue/JobName": "bm9wZQ==" is "nope", "TWFpbGVySm9i" "MailerJob"
# (a class name without its queue), "not-base64!" nothing at all.
_NO_QUEUE = ["bm9wZQ==", "TWFpbGVySm9i", "not-base64!"]


@pytest.mark.parametrize("job_id", _NO_QUEUE)
@pytest.mark.parametrize("suffix", ["/metrics", "/metrics/throughput"])
async def test_a_job_id_naming_no_queue_and_job_is_a_bare_500(
    http: httpx.AsyncClient, job_id: str, suffix: str
) -> None:
    # Scout's Go CLI, cmd/jobs.go: the server "answers an unrecognized id with a bare 500".
    path = f"/apps/101/jobs/{quote(job_id, safe='')}{suffix}"
    response = await http.get(path, params=window(NOW - DAY, NOW))
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")  # no envelope at all


async def test_a_well_formed_id_of_no_job(http: httpx.AsyncClient) -> None:
    nope = quote(base64.urlsafe_b64encode(b"default/NoSuchJob").decode(), safe="")
    params = window(NOW - DAY, NOW)
    # Its metric: an empty series (Scout's Go CLI, internal/api/jobs_test.go, "unknown job
    # empty flat series").
    found = await results(http, f"/apps/101/jobs/{nope}/metrics/throughput", **params)
    assert found == {"summaries": {"throughput": 0.0}, "series": {"throughput": []}}
    # Its traces, and those of any id of no job: 404 "Job not found" (TestListJobTracesNotFound).
    for job_id in (nope, "bm9wZQ=="):
        response = await http.get(f"/apps/101/jobs/{job_id}/traces", params=params)
        assert_error(response, 404, "Job not found")


async def test_paths_outside_the_api_are_404(sim: ScoutSimulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), headers={"X-SCOUT-API": DEFAULT_API_KEY}
    ) as http:
        assert_error(await http.get("http://simulator/apps"), 404, "Record Not Found")


@pytest.mark.parametrize("mode", ["header", "query", "body"])
@pytest.mark.parametrize("key", [DEFAULT_API_KEY, "wrong-key", "sim-key "])
async def test_auth_modes(sim: ScoutSimulator, mode: str, key: str) -> None:
    async with client(sim, key=None) as http:
        if mode == "header":
            response = await http.get("/apps", headers={"X-SCOUT-API": key})
        elif mode == "query":
            response = await http.get("/apps", params={"key": key})
        else:
            response = await http.request("GET", "/apps", json={"key": key})
    if key == DEFAULT_API_KEY:
        assert response.status_code == 200
        assert [a["id"] for a in response.json()["results"]["apps"]] == [101, 102, 103, 104, 105]
    else:
        assert_error(response, 403, "Forbidden, check your API key")
    assert sim.requests[-1].auth_mode == mode


async def test_missing_key_is_403(sim: ScoutSimulator) -> None:
    async with client(sim, key=None) as http:
        assert_error(await http.get("/apps/101"), 403, "Forbidden, check your API key")
    assert sim.requests[-1].auth_mode is None


async def test_custom_key_and_apps() -> None:
    sim = ScoutSimulator(api_key="k-123", apps=[(7, "Solo")], now=NOW)
    async with client(sim, key="k-123") as http:
        apps = (await results(http, "/apps"))["apps"]
        assert [(a["id"], a["name"]) for a in apps] == [(7, "Solo")]
        assert NOW - parse(apps[0]["last_reported_at"]) < timedelta(minutes=5)
        assert (await results(http, "/apps/7"))["app"]["name"] == "Solo"
    async with client(sim) as http:
        assert (await http.get("/apps")).status_code == 403


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ScoutSimulator(now=datetime(2026, 7, 5))


async def test_callable_clock_moves() -> None:
    clock = [NOW]
    sim = ScoutSimulator(now=lambda: clock[0])
    async with client(sim) as http:
        before = await series(http, NOW - timedelta(minutes=10), NOW + timedelta(minutes=10))
        clock[0] = NOW + timedelta(minutes=5)
        after = await series(http, NOW - timedelta(minutes=10), NOW + timedelta(minutes=10))
    assert len(after) == len(before) + 5
    # The bucket that held "now" read 0 while it filled (quirk 14); it has its value since.
    assert before[-1] == (NOW.replace(second=0), 0.0)
    assert after[len(before) - 1][1] > 0
    assert after[: len(before) - 1] == before[:-1]


# -- endpoints, jobs, traces -------------------------------------------------------------------


async def test_endpoints_bare_and_paginated(http: httpx.AsyncClient) -> None:
    params = window(NOW - DAY, NOW)
    bare = await results(http, "/apps/101/endpoints", **params)
    assert isinstance(bare, list)
    assert len(bare) >= 5
    assert set(bare[0]) == {
        "name",
        "percentage_of_total",
        "response_time",
        "throughput",
        "max_allocations",
        "error_rate",
        "formatted_method_name",
        "link",
        "95th_percentile",
    }
    assert sum(e["percentage_of_total"] for e in bare) == pytest.approx(100, abs=0.1)
    # A number with a fraction (Scout's Go CLI reads it as a float; issue 10 saw 1.7).
    assert all(isinstance(e["max_allocations"], float) for e in bare)
    assert any(e["max_allocations"] != int(e["max_allocations"]) for e in bare)
    fixture_like = next(e for e in bare if e["name"] == "api/metrics/show")
    assert fixture_like["formatted_method_name"] == "Api::MetricsController#show"
    assert fixture_like["link"] == "/apps/101/endpoints/YXBpL21ldHJpY3Mvc2hvdw=="

    for extra in ({"sort_by": "throughput"}, {"limit": "3"}, {"offset": "0"}):
        page = await results(http, "/apps/101/endpoints", **params, **extra)
        assert set(page) == {"endpoints", "count", "total_count", "has_more"}
        assert page["total_count"] == len(bare)

    first = await results(http, "/apps/101/endpoints", **params, sort_by="throughput", limit="3")
    assert first["count"] == 3
    assert first["has_more"] is True
    throughputs = [e["throughput"] for e in first["endpoints"]]
    assert throughputs == sorted((e["throughput"] for e in bare), reverse=True)[:3]
    rest = await results(http, "/apps/101/endpoints", **params, sort_by="throughput", offset="3")
    assert rest["count"] == len(bare) - 3
    assert rest["has_more"] is False
    bad = await http.get("/apps/101/endpoints", params={**params, "sort_by": "name"})
    assert bad.status_code == 422


async def test_endpoint_ids_are_padded_base64_with_plus_and_slash(
    http: httpx.AsyncClient,
) -> None:
    params = window(NOW - timedelta(hours=1), NOW)
    endpoints = await results(http, "/apps/101/endpoints", **params)
    # The id is everything after "/endpoints/": it may itself contain "/".
    ids = [e["link"].removeprefix("/apps/101/endpoints/") for e in endpoints]
    assert any("+" in i for i in ids)
    assert any("/" in i for i in ids)
    assert any(i.endswith("=") for i in ids)
    for endpoint, endpoint_id in zip(endpoints, ids, strict=True):
        assert base64.b64decode(endpoint_id).decode() == endpoint["name"]
        found = await results(
            http, f"/apps/101/endpoints/{quote(endpoint_id, safe='')}/metrics/throughput", **params
        )
        assert len(found["series"]["throughput"]) == 61
    # Unencoded, the "/" of an id splits the path: no such route.
    slashed = next(i for i in ids if "/" in i)
    assert (
        await http.get(f"/apps/101/endpoints/{slashed}/metrics/apdex", params=params)
    ).status_code == 404


async def test_endpoint_series_differ_from_app_series(http: httpx.AsyncClient) -> None:
    params = window(GRID_END - timedelta(hours=1), GRID_END)
    endpoint_id = quote(base64.b64encode(b"api/metrics/show").decode(), safe="")
    app = await results(http, "/apps/101/metrics/throughput", **params)
    one = await results(http, f"/apps/101/endpoints/{endpoint_id}/metrics/throughput", **params)
    assert one["summaries"]["throughput"] < app["summaries"]["throughput"]


async def test_traces_lookback_and_detail(http: httpx.AsyncClient) -> None:
    endpoint_id = quote(base64.b64encode(b"api/metrics/show").decode(), safe="")
    path = f"/apps/101/endpoints/{endpoint_id}/traces"
    refused = await http.get(path, params=window(NOW - 7 * DAY, NOW))
    assert_error(refused, 422, "Invalid timeframe parameters")
    traces = (await results(http, path, **window(NOW - 7 * DAY + timedelta(seconds=1), NOW)))[
        "traces"
    ]
    assert 10 < len(traces) <= 100
    times = [parse(t["time"]) for t in traces]
    assert times == sorted(times, reverse=True)
    assert times[0] <= NOW
    assert set(traces[0]) == {
        "id",
        "time",
        "total_call_time",
        "mem_delta",
        "metric_name",
        "uri",
        "context",
    }
    detail = (await results(http, f"/apps/101/traces/{traces[0]['id']}"))["trace"]
    assert detail["id"] == traces[0]["id"]
    assert detail["time"] == traces[0]["time"]
    assert detail["limited"] is False
    assert {"transaction_id", "hostname", "git_sha", "allocations_count"} <= set(detail)
    assert detail["duration_in_seconds"] == pytest.approx(detail["total_call_time"] / 1000)


def walk(spans: list[dict[str, Any]], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    for span in spans:
        yield depth, span
        yield from walk(span["children"], depth + 1)


async def test_trace_spans_are_a_nested_tree(http: httpx.AsyncClient) -> None:
    # The shape Scout's CLI reads: nested `children`, string ids, `operation`/`description`.
    endpoint_id = quote(base64.b64encode(b"users/show").decode(), safe="")
    path = f"/apps/101/endpoints/{endpoint_id}/traces"
    listed = (await results(http, path, **window(NOW - DAY, NOW)))["traces"]
    detail = (await results(http, f"/apps/101/traces/{listed[0]['id']}"))["trace"]
    spans = list(walk(detail["spans"]))
    assert max(depth for depth, _ in spans) >= 3
    for _, span in spans:
        assert set(span) == {
            "id",
            "parent_id",
            "operation",
            "type",
            "description",
            "duration_ms",
            "exclusive_duration_ms",
            "allocations",
            "children",
        }
        assert isinstance(span["id"], str)
        assert isinstance(span["allocations"], int)
        inner = sum(child["duration_ms"] for child in span["children"])
        assert span["duration_ms"] >= inner
        assert span["exclusive_duration_ms"] == pytest.approx(span["duration_ms"] - inner, abs=2e-6)
        for child in span["children"]:
            assert child["parent_id"] == span["id"]
    assert len({span["id"] for _, span in spans}) == len(spans)
    (root,) = detail["spans"]
    assert root["parent_id"] is None
    # Seconds under the key duration_ms, as the live API sends them (Scout's Go CLI,
    # changelog.d/26.md): the root lasts the whole trace, total_call_time (ms) / 1000.
    assert root["duration_ms"] == detail["duration_in_seconds"]
    assert root["duration_ms"] == pytest.approx(detail["total_call_time"] / 1000, abs=1e-6)
    assert detail["total_call_time"] > 10 * root["duration_ms"]
    assert detail["legacy_format"] is False
    assert root["allocations"] == detail["allocations_count"]
    operations = [span["operation"] for _, span in spans]
    assert "Controller/users/show" in operations
    assert any(span["type"] == "SQL" and span["description"] for _, span in spans)


async def test_jobs(http: httpx.AsyncClient) -> None:
    params = window(NOW - DAY, NOW)
    jobs = await results(http, "/apps/101/jobs", **params)
    assert isinstance(jobs, list)
    assert jobs
    for job in jobs:
        # URL-safe base64, padding kept (Scout's Go CLI, cmd/jobs.go, resolveJobID).
        full_name = f"{job['queue']}/{job['name']}"
        assert job["job_id"] == base64.urlsafe_b64encode(full_name.encode()).decode()
        assert job["full_name"] == full_name
    job_id = quote(jobs[0]["job_id"], safe="")
    metrics = (await results(http, f"/apps/101/jobs/{job_id}/metrics"))["availableMetrics"]
    assert metrics == ["throughput", "execution_time", "latency", "errors", "allocations"]
    for metric in metrics:
        found = await results(http, f"/apps/101/jobs/{job_id}/metrics/{metric}", **params)
        series = found["series"][metric]
        parts = series if isinstance(series, dict) else {"": series}
        assert all(len(part) == 24 * 6 + 1 for part in parts.values())
    traces = (await results(http, f"/apps/101/jobs/{job_id}/traces", **params))["traces"]
    assert traces
    assert set(traces[0]) == {
        "id",
        "time",
        "duration",
        "name",
        "queue",
        "metric_name",
        "context",
    }
    assert traces[0]["metric_name"] == f"Job/{jobs[0]['full_name']}"
    # Scout has no detail for a job's trace.
    assert (await http.get(f"/apps/101/traces/{traces[0]['id']}")).status_code == 404
    refused = await http.get(f"/apps/101/jobs/{job_id}/traces", params=window(NOW - 8 * DAY, NOW))
    assert refused.status_code == 422


async def test_job_ids_are_url_safe_and_read_in_either_alphabet(sim: ScoutSimulator) -> None:
    made = sim.add_job(101, "q/???>Jo")
    assert made == "cS8_Pz8-Sm8="  # standard: cS8/Pz8+Sm8=
    params = window(NOW - DAY, NOW)
    async with client(sim) as http:
        listed = await results(http, "/apps/101/jobs", **params)
        assert made in [job["job_id"] for job in listed]
        for sent in (made, "cS8/Pz8+Sm8=", "cS8_Pz8-Sm8"):  # URL-safe, standard, unpadded
            path = f"/apps/101/jobs/{quote(sent, safe='')}/metrics/throughput"
            assert len((await results(http, path, **params))["series"]["throughput"]) == 145


async def test_job_metric_shapes(http: httpx.AsyncClient) -> None:
    """Job metrics other than throughput send named sub-series, as Scout's CLI tests show."""
    params = window(GRID_END - timedelta(hours=1), GRID_END)
    job_id = quote(base64.b64encode(b"default/MailerJob").decode(), safe="")

    async def job(metric: str) -> tuple[Any, Any]:
        found = await results(http, f"/apps/101/jobs/{job_id}/metrics/{metric}", **params)
        return found["summaries"][metric], found["series"][metric]

    summary, throughput = await job("throughput")
    assert isinstance(summary, float)
    assert isinstance(throughput, list)
    assert len(throughput) == 61
    summary, execution = await job("execution_time")
    assert set(execution) == {"ActiveRecord", "Ruby", "total"}
    for (t, total), (t1, database), (t2, ruby) in zip(
        execution["total"], execution["ActiveRecord"], execution["Ruby"], strict=True
    ):
        assert t == t1 == t2
        assert database + ruby == pytest.approx(total, abs=0.011)
        assert 0 < database < total
    assert summary == pytest.approx(
        sum(v for _, v in execution["total"]) / len(execution["total"]), abs=0.001
    )
    _, latency = await job("latency")
    assert set(latency) == {"Latency", "total"}
    assert latency["total"] == execution["total"]  # the execution time, not the latency
    assert max(v for _, v in latency["Latency"]) < min(v for _, v in latency["total"])
    summary, errors = await job("errors")
    assert summary == {"Job/default/MailerJob": sum(v for _, v in errors["default/MailerJob"])}
    assert set(errors) == {"default/MailerJob"}
    summary, allocations = await job("allocations")
    assert isinstance(summary, int)
    assert set(allocations) == {"Job/MailerJob"}


# -- errors, anomalies, insights, usage --------------------------------------------------------


async def test_error_groups(http: httpx.AsyncClient) -> None:
    params = window(NOW - 14 * DAY, NOW)
    groups = (await results(http, "/apps/101/error_groups", **params))["error_groups"]
    assert groups
    assert len(groups) <= 100
    group = groups[0]
    assert {"id", "name", "message", "status", "errors_count", "last_error_at"} <= set(group)
    detail = (await results(http, f"/apps/101/error_groups/{group['id']}"))["error_group"]
    assert detail["latest_error"]["created_at"] == group["last_error_at"]
    # The detail says 0 for every group, as the live API does (Scout's Go CLI CHANGELOG).
    assert group["errors_count"] > 0
    assert detail["errors_count"] == 0
    errors = (await results(http, f"/apps/101/error_groups/{group['id']}/errors"))["errors"]
    assert len(errors) == min(group["errors_count"], 100)
    assert errors[0] == detail["latest_error"]
    assert {e["name"] for e in errors} == {group["name"]}

    # The filter takes a base64 endpoint (or job) name; each group belongs to one endpoint.
    for group in groups:
        controller, action = group["request_components"]
        if not controller.endswith("Controller"):
            continue  # a job's group
        name = controller.removesuffix("Controller").replace("::", "/").lower() + "/" + action
        encoded = base64.b64encode(name.encode()).decode()
        only = await results(http, "/apps/101/error_groups", **params, endpoint=encoded)
        assert group["id"] in [g["id"] for g in only["error_groups"]]
        assert all(g["request_components"] == [controller, action] for g in only["error_groups"])
    nothing = await results(http, "/apps/101/error_groups", **params, endpoint="bm9wZQ==")
    assert nothing == {"error_groups": []}
    too_old = await http.get(
        "/apps/101/error_groups", params=window(NOW - 30 * DAY, NOW - 20 * DAY)
    )
    assert too_old.status_code == 422


async def test_anomaly_events(http: httpx.AsyncClient) -> None:
    params = window(NOW - 14 * DAY, NOW)
    events = (await results(http, "/apps/101/anomaly_events", **params))["anomaly_events"]
    assert len(events) >= 3
    assert {e["open"] for e in events} == {True, False}
    opened = (await results(http, "/apps/101/anomaly_events", **params, state="open"))[
        "anomaly_events"
    ]
    assert opened
    assert all(e["open"] and e["ended_at"] is None for e in opened)
    closed = (await results(http, "/apps/101/anomaly_events", **params, state="closed"))[
        "anomaly_events"
    ]
    assert len(opened) + len(closed) == len(events)
    by_metric = (await results(http, "/apps/101/anomaly_events", **params, metric="response_time"))[
        "anomaly_events"
    ]
    assert by_metric
    assert all(e["metric"] == "response_time" for e in by_metric)
    named = next(e["endpoint"] for e in events if e["endpoint"])
    # Scoped names, and the filter matches only those (Scout's Go CLI, cmd/anomalies.go).
    assert named.startswith("Controller/")
    on_endpoint = (await results(http, "/apps/101/anomaly_events", **params, endpoint=named))[
        "anomaly_events"
    ]
    assert on_endpoint
    assert all(e["endpoint"] == named for e in on_endpoint)
    plain = named.removeprefix("Controller/")
    unscoped = await results(http, "/apps/101/anomaly_events", **params, endpoint=plain)
    assert unscoped == {"anomaly_events": []}
    detail = (await results(http, f"/apps/101/anomaly_events/{events[-1]['id']}"))["anomaly_event"]
    assert {"baseline_std_dev", "duration_minutes", "smart_monitor", "deploy"} <= set(detail)
    bad = await http.get("/apps/101/anomaly_events", params={**params, "state": "maybe"})
    assert bad.status_code == 422


async def test_anomalies_match_incidents_in_the_series(http: httpx.AsyncClient) -> None:
    params = window(NOW - 14 * DAY, NOW)
    events = (await results(http, "/apps/101/anomaly_events", **params, metric="response_time"))[
        "anomaly_events"
    ]
    event = next(e for e in events if not e["open"])
    start, end = parse(event["started_at"]), parse(event["ended_at"])
    around = await series(http, start - timedelta(hours=3), end + timedelta(hours=3))
    inside = [v for t, v in around if start <= t < end - timedelta(minutes=5)]
    outside = [v for t, v in around if t < start - timedelta(minutes=5) or t > end]
    assert min(inside) > max(outside)


async def test_insights(http: httpx.AsyncClient) -> None:
    everything = await results(http, "/apps/101/insights", limit="2")
    assert set(everything["timeframe"]) == {"start_time", "end_time", "duration_minutes"}
    assert set(everything["insights"]) == {"n_plus_one", "memory_bloat", "slow_query"}
    for summary in everything["insights"].values():
        assert len(summary["items"]) == min(2, summary["count"])
        assert summary["new_count"] <= summary["count"]
    slow = await results(http, "/apps/101/insights/slow_query")
    assert slow["insight_type"] == "slow_query"
    assert len(slow["items"]) == min(20, slow["total_count"])
    assert slow["total_count"] == everything["insights"]["slow_query"]["count"]
    # The item shape Scout's CLI reads: id, name and a `fields` object.
    for item in slow["items"]:
        assert set(item) == {"id", "name", "metric_name", "first_seen_at", "new", "fields"}
        assert item["name"].endswith(tuple(f"#{a}" for a in ("show", "index", "create", "update")))
        assert {"sql", "duration_ms", "call_count"} == set(item["fields"])


@pytest.mark.parametrize("kind", [None, "n_plus_one"])
async def test_insights_history_pages_to_the_end(http: httpx.AsyncClient, kind: str | None) -> None:
    path = "/apps/101/insights/history" + (f"/{kind}" if kind else "")
    params = {**window(NOW - 14 * DAY, NOW), "limit": "7"}
    seen: list[int] = []
    pages = []
    cursor: int | None = None
    page_number = 1
    while True:
        extra = {} if cursor is None else {"pagination_cursor": str(cursor)}
        found = await results(http, path, **params, **extra, pagination_page=str(page_number))
        pages.append(found)
        seen += [i["id"] for i in found["insights"]]
        pagination = found["pagination"]
        if not pagination["has_more"]:
            assert pagination["pagination_cursor"] is None
            assert pagination["next_pagination_page"] is None
            break
        cursor = pagination["pagination_cursor"]
        page_number = pagination["next_pagination_page"]
        assert page_number == len(pages) + 1
    assert len(pages) >= 2
    assert len(seen) == len(set(seen)) == pages[0]["total_count"]
    assert seen == sorted(seen, reverse=True)
    if kind is not None:
        assert all(i["insight_type"] == kind for p in pages for i in p["insights"])
    first = pages[0]["insights"][0]
    assert {"id", "insight_type", "first_seen_at", "metric_name", "trace", "fields"} <= set(first)
    # Backward from the second page's first id gives the first page again.
    back = await results(
        http,
        path,
        **params,
        pagination_cursor=str(pages[1]["insights"][0]["id"]),
        pagination_direction="backward",
    )
    assert [i["id"] for i in back["insights"]] == [i["id"] for i in pages[0]["insights"]]
    assert back["pagination"]["has_more"] is False


async def test_usage(http: httpx.AsyncClient) -> None:
    # Undocumented in the spec: the shape Scout's own CLI reads, bare in `results`.
    usage = await results(http, "/usage")
    assert set(usage) == {"billing_period", "pricing_style", "apm", "nodes", "errors", "logs"}
    assert usage["billing_period"] == {
        "start": "2026-07-01T00:00:00+00:00",
        "end": "2026-08-01T00:00:00+00:00",
    }
    assert usage["pricing_style"] == "per node"
    assert 0 < usage["apm"]["total_transactions"] < usage["apm"]["limit"]
    assert usage["nodes"]["active_count"] >= 5
    assert 0 < usage["errors"]["count"] < usage["apm"]["total_transactions"] / 100
    assert usage["errors"]["count"] < usage["errors"]["limit"]
    assert 0 < usage["logs"]["bytes_used"] < usage["logs"]["limit_bytes"]
    # Usage grows through the period.
    later = ScoutSimulator(now=NOW + 3 * DAY)
    async with client(later) as other:
        grown = await results(other, "/usage")
    assert grown["apm"]["total_transactions"] > usage["apm"]["total_transactions"]
    assert grown["billing_period"] == usage["billing_period"]


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["3", "Wed, 21 Oct 2026 07:28:00 GMT", None])
async def test_fault_status_with_retry_after(
    sim: ScoutSimulator, http: httpx.AsyncClient, retry_after: str | None
) -> None:
    sim.add_fault(Fault(status=429, retry_after=retry_after))
    limited = await http.get("/apps")
    assert_error(limited, 429, "Too Many Requests")
    assert limited.headers.get("retry-after") == retry_after
    assert (await http.get("/apps")).status_code == 200


async def test_fault_skip_times_path_and_order(
    sim: ScoutSimulator, http: httpx.AsyncClient
) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", status=503, times=2, skip=1))
    params = window(NOW - timedelta(hours=1), NOW)
    statuses = [
        (await http.get("/apps/101/metrics/apdex", params=params)).status_code for _ in range(4)
    ]
    assert statuses == [200, 503, 503, 200]
    assert (await http.get("/apps")).status_code == 200

    sim.clear_faults()
    sim.add_fault(Fault(status=503))
    sim.add_fault(Fault(status=429))
    assert [(await http.get("/apps")).status_code for _ in range(3)] == [503, 429, 200]

    sim.add_fault(Fault(path="/usage", status=500, times=None))
    assert [(await http.get("/usage")).status_code for _ in range(3)] == [500] * 3
    assert (await http.get("/apps")).status_code == 200
    sim.clear_faults()
    assert (await http.get("/usage")).status_code == 200


async def test_fault_body_status(sim: ScoutSimulator, http: httpx.AsyncClient) -> None:
    sim.add_fault(Fault(body_status=403))
    response = await http.get("/apps")
    assert response.status_code == 200
    assert response.json()["header"]["status"] == {
        "code": 403,
        "message": "Forbidden, check your API key",
    }


async def test_fault_latency(sim: ScoutSimulator, http: httpx.AsyncClient) -> None:
    sim.add_fault(Fault(latency=0.2))
    started = time.monotonic()
    assert (await http.get("/apps")).status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_fault_drop_in_process(sim: ScoutSimulator, http: httpx.AsyncClient) -> None:
    sim.add_fault(Fault(drop=True))
    with pytest.raises(httpx.TransportError):
        await http.get("/apps")
    assert (await http.get("/apps")).status_code == 200


async def test_fault_drop_over_real_server(sim: ScoutSimulator) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", drop=True))
    async with (
        SimulatorServer(sim) as server,
        httpx.AsyncClient(base_url=server.url, headers={"X-SCOUT-API": DEFAULT_API_KEY}) as http,
    ):
        params = window(NOW - DAY, NOW)
        with pytest.raises(httpx.TransportError):
            await http.get("/apps/101/metrics/throughput", params=params)
        again = await http.get("/apps/101/metrics/throughput", params=params)
        assert again.status_code == 200
    assert [r.status for r in sim.requests] == [200, 200]
    assert sim.requests[0].fault is not None
    assert sim.requests[0].fault.drop


@pytest.mark.parametrize("kind", ["not-json", "truncated", "no-envelope", "wrong-shape"])
async def test_fault_malformed(sim: ScoutSimulator, http: httpx.AsyncClient, kind: Any) -> None:
    sim.add_fault(Fault(malformed=kind, times=2))
    params = window(NOW - timedelta(hours=1), NOW)
    series_response = await http.get("/apps/101/metrics/apdex", params=params)
    apps_response = await http.get("/apps")
    assert series_response.status_code == apps_response.status_code == 200
    if kind in ("not-json", "truncated"):
        with pytest.raises(json.JSONDecodeError):
            series_response.json()
        if kind == "not-json":
            assert series_response.headers["content-type"].startswith("text/html")
    elif kind == "no-envelope":
        assert "header" not in series_response.json()
        assert set(series_response.json()) == {"summaries", "series"}
        assert set(apps_response.json()) == {"apps"}
    else:
        point = series_response.json()["results"]["series"]["apdex"][0]
        assert set(point) == {"timestamp", "value"}
        assert isinstance(apps_response.json()["results"], str)
    assert (await http.get("/apps")).json()["results"]["apps"]


async def test_fault_wrong_shape_on_job_sub_series(
    sim: ScoutSimulator, http: httpx.AsyncClient
) -> None:
    sim.add_fault(Fault(malformed="wrong-shape"))
    job_id = quote(base64.b64encode(b"default/MailerJob").decode(), safe="")
    response = await http.get(
        f"/apps/101/jobs/{job_id}/metrics/execution_time",
        params=window(NOW - timedelta(hours=1), NOW),
    )
    parts = response.json()["results"]["series"]["execution_time"]
    assert set(parts) == {"ActiveRecord", "Ruby", "total"}
    assert set(parts["total"][0]) == {"timestamp", "value"}


async def test_fault_step(sim: ScoutSimulator, http: httpx.AsyncClient) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", step=timedelta(minutes=5)))
    start = GRID_END - timedelta(hours=1)
    forced = await series(http, start, GRID_END)
    assert [b - a for (a, _), (b, _) in itertools.pairwise(forced)] == [timedelta(minutes=5)] * 12
    normal = await series(http, start, GRID_END)
    assert normal[1][0] - normal[0][0] == timedelta(minutes=1)


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"status": 500, "drop": True},
        {"retry_after": "1", "latency": 1.0},
        {"status": 42},
        {"status": 500, "times": 0},
        {"status": 500, "skip": -1},
        {"latency": -1.0},
        {"malformed": "garbled"},
        {"step": timedelta(0)},
    ],
)
def test_fault_needs_one_valid_effect(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by argument
        Fault(**arguments)


# -- recording and concurrency -----------------------------------------------------------------


async def test_requests_are_recorded_with_key_redacted(sim: ScoutSimulator) -> None:
    async with client(sim, key=None) as http:
        await http.get(
            "/apps/101/metrics/apdex", params={"key": DEFAULT_API_KEY, **window(NOW - DAY, NOW)}
        )
        await http.get(
            "/apps/101/endpoints/cmVwb3J0cy9leHBvcnQ%2FPg%3D%3D/metrics/apdex",
            headers={"X-SCOUT-API": "bad"},
        )
    first, second = sim.requests
    assert isinstance(first, RecordedRequest)
    assert first.method == "GET"
    assert first.path == "/api/v0/apps/101/metrics/apdex"
    assert first.query == {"key": "***", **window(NOW - DAY, NOW)}
    assert (first.auth_mode, first.status, first.fault) == ("query", 200, None)
    assert second.path == "/api/v0/apps/101/endpoints/cmVwb3J0cy9leHBvcnQ%2FPg%3D%3D/metrics/apdex"
    assert (second.auth_mode, second.status) == ("header", 403)
    assert first.time <= second.time
    assert DEFAULT_API_KEY not in repr(sim.requests)


async def test_max_in_flight_counts_concurrent_requests() -> None:
    sim = ScoutSimulator(now=NOW, latency=0.05)
    async with client(sim) as http:

        async def fetch(limit: anyio.Semaphore | None) -> None:
            if limit is None:
                assert (await http.get("/apps")).status_code == 200
                return
            async with limit:
                assert (await http.get("/apps")).status_code == 200

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(fetch, None)
        assert sim.max_in_flight == 8
        assert sim.in_flight == 0

        sim.reset_in_flight_peak()
        limit = anyio.Semaphore(3)
        async with anyio.create_task_group() as tg:
            for _ in range(9):
                tg.start_soon(fetch, limit)
        assert sim.max_in_flight == 3
    assert len(sim.requests) == 17


# -- servers, CLI, plugin ----------------------------------------------------------------------


def test_sync_server_serves_and_stops(sim: ScoutSimulator) -> None:
    with SimulatorServer(sim) as server:
        assert server.url == f"http://127.0.0.1:{server.port}/api/v0"
        response = httpx.get(server.url + "/apps", headers={"X-SCOUT-API": DEFAULT_API_KEY})
        assert response.status_code == 200
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/v0/apps")
    assert not [t for t in threading.enumerate() if t.name == f"scout-simulator:{port}"]


async def test_async_server_with_latency_runs_requests_concurrently() -> None:
    sim = ScoutSimulator(now=NOW, latency=0.1)
    async with (
        SimulatorServer(sim) as server,
        httpx.AsyncClient(base_url=server.url, headers={"X-SCOUT-API": DEFAULT_API_KEY}) as http,
    ):
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(http.get, "/apps")
        assert time.monotonic() - started < 0.4
    assert sim.max_in_flight == 5


def test_works_under_trio() -> None:
    import trio  # a test dependency: never skipped

    async def main() -> None:
        sim = ScoutSimulator(now=NOW, latency=0.01)
        async with client(sim) as http:
            assert len(await series(http, GRID_END - timedelta(hours=1), GRID_END)) == 61
        async with (
            SimulatorServer(sim) as server,
            httpx.AsyncClient(
                base_url=server.url, headers={"X-SCOUT-API": DEFAULT_API_KEY}
            ) as http,
        ):
            assert (await http.get("/apps")).status_code == 200

    trio.run(main)


def _env() -> dict[str, str]:
    root = str(Path(next(iter(scout_async.testing.__path__))).parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root if not path else f"{root}{os.pathsep}{path}"}


def test_cli_prints_a_url_that_answers() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scout_async.testing", "--port", "0", "--api-key", "cli-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    watchdog = threading.Timer(20, process.kill)  # never hang the suite on a stuck child
    watchdog.start()
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/api/v0")
        response = httpx.get(url + "/apps/101", headers={"X-SCOUT-API": "cli-key"})
        assert response.status_code == 200
        assert response.json()["results"]["app"]["id"] == 101
    finally:
        process.terminate()
        rest, _ = process.communicate(timeout=10)
        watchdog.cancel()
    assert rest == ""  # exactly one line on stdout


def _plugin_installed() -> bool:
    return any(ep.name == "scout_async" for ep in importlib.metadata.entry_points(group="pytest11"))


def test_pytest_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        from datetime import datetime, timedelta, timezone

        import pytest

        def test_fixtures_run_on_the_real_time(scout_simulator, scout_simulator_server):
            assert scout_simulator_server.simulator is scout_simulator
            before = datetime.now(timezone.utc)
            assert before - timedelta(seconds=5) <= scout_simulator.now() <= before + timedelta(
                seconds=5
            )
            assert abs(scout_simulator.clock.now() - scout_simulator.now()) < timedelta(seconds=5)

        class TestPinned:
            @pytest.fixture
            def scout_simulator_now(self):
                return datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)

            def test_fixtures(self, scout_simulator, scout_simulator_server):
                assert scout_simulator_server.simulator is scout_simulator
                assert scout_simulator.now().isoformat() == "2026-07-05T17:20:11+00:00"
                assert scout_simulator.clock.now() == scout_simulator.now()
                r = httpx.get(
                    scout_simulator_server.url + "/apps/101/metrics/apdex",
                    params={"from": "2026-07-05T16:00:00Z", "to": "2026-07-05T17:00:00Z"},
                    headers={"X-SCOUT-API": "sim-key"},
                )
                assert len(r.json()["results"]["series"]["apdex"]) == 61
                assert scout_simulator.requests[0].auth_mode == "header"
        """
    )
    # The inner test is sync; keep pytest-asyncio (if present) out of the inner run.
    arguments = ["-p", "no:asyncio"]
    if not _plugin_installed():
        arguments += ["-p", "scout_async.testing._plugin"]
    outcome = pytester.runpytest_inprocess(*arguments)
    outcome.assert_outcomes(passed=2)
