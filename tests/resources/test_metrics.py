"""client.metrics: one verb scheme for every series, the app's, an endpoint's (``endpoint_id=``)
or a job's (``job_id=``): the path each scope reads, the metric names each offers, and the checks
of every argument before any request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

import scout_async
from scout_async import APP_METRICS, JOB_METRICS, Point, ScoutClient
from tests.conftest import envelope
from tests.resources.conftest import assert_argument_error

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)  # one request, answered at 10 min
STEP = timedelta(minutes=10)
# base64 ids with "/", "+" and "=": each must reach the server as one encoded path segment.
ENDPOINT_ID = "YWE/YWE+YQ=="
ENDPOINT_SEGMENT = "YWE%2FYWE%2BYQ%3D%3D"
JOB_ID = "ZGVmYXVsdC9NeVdvcmtlcg=="  # default/MyWorker
JOB_SEGMENT = "ZGVmYXVsdC9NeVdvcmtlcg%3D%3D"

APP_ONLY = tuple(name for name in APP_METRICS if name not in JOB_METRICS)
JOB_ONLY = tuple(name for name in JOB_METRICS if name not in APP_METRICS)

#: (the scope's keyword arguments, the path prefix of its series, the metric names it offers)
SCOPES = [
    pytest.param({}, "/apps/101", APP_METRICS, id="app"),
    pytest.param(
        {"endpoint_id": ENDPOINT_ID},
        f"/apps/101/endpoints/{ENDPOINT_SEGMENT}",
        APP_METRICS,
        id="endpoint",
    ),
    pytest.param({"job_id": JOB_ID}, f"/apps/101/jobs/{JOB_SEGMENT}", JOB_METRICS, id="job"),
]


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(request: httpx.Request) -> httpx.Response:
    metric = request.url.path.rsplit("/", 1)[-1]
    results = {"summaries": {metric: 2.0}, "series": {metric: [[at(0), 1.0], [at(10), 3.0]]}}
    return httpx.Response(200, json=envelope(results))


def paths(route: respx.Route) -> list[str]:
    """The raw (still encoded) paths of the route's requests, without the base URL's."""
    return [
        call.request.url.raw_path.decode().split("?")[0].removeprefix("/api/v0")
        for call in route.calls
    ]


async def collect(points: AsyncIterator[Point]) -> list[Point]:
    return [point async for point in points]


EXPECTED = [Point(T0, 1.0), Point(T0 + STEP, 3.0)]


@pytest.mark.parametrize(("scope", "prefix", "names"), SCOPES)
async def test_get_and_stream_read_every_metric_of_the_scope_at_its_path(
    scope: dict[str, Any], prefix: str, names: tuple[str, ...], client: ScoutClient
) -> None:
    with respx.mock() as router:
        route = router.route().mock(side_effect=answer)
        for metric in names:
            series = await client.metrics.get(101, metric, start=T0, end=T1, **scope)
            assert (series.app_id, series.metric, series.step) == (101, metric, STEP)
            assert (list(series.points), series.summary) == (EXPECTED, 2.0)
            streamed = await collect(client.metrics.stream(101, metric, start=T0, end=T1, **scope))
            assert streamed == EXPECTED
    assert paths(route) == [
        f"{prefix}/metrics/{metric}" for metric in names for _ in ("get", "stream")
    ]
    assert all(
        dict(call.request.url.params) == {"from": at(0), "to": "2026-03-02T00:00:00Z"}
        for call in route.calls
    )


async def test_list_reads_the_apps_or_a_jobs_metric_names(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.route().respond(json=envelope({"availableMetrics": ["a", "b"]}))
        assert await client.metrics.list(101) == ["a", "b"]
        assert await client.metrics.list(101, job_id=JOB_ID) == ["a", "b"]
    assert paths(route) == ["/apps/101/metrics", f"/apps/101/jobs/{JOB_SEGMENT}/metrics"]


# -- metric names are the scope's -------------------------------------------------------------

REFUSED = [
    *[
        pytest.param({"job_id": JOB_ID}, name, "execution_time", id=f"job-{name}")
        for name in APP_ONLY
    ],
    *[
        pytest.param({"endpoint_id": ENDPOINT_ID}, name, "response_time", id=f"endpoint-{name}")
        for name in JOB_ONLY
    ],
    *[pytest.param({}, name, "response_time", id=f"app-{name}") for name in JOB_ONLY],
    pytest.param({}, "nope", "apdex", id="app-unknown"),
]


@pytest.mark.parametrize(("scope", "metric", "listed"), REFUSED)
async def test_a_metric_the_scope_does_not_offer_is_refused_before_any_request(
    scope: dict[str, Any], metric: str, listed: str, client: ScoutClient
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(side_effect=answer)
        with pytest.raises(scout_async.ArgumentError, match=f"unknown metric '{metric}'") as info:
            await client.metrics.get(101, metric, start=T0, end=T1, **scope)
        assert listed in str(info.value)  # the message lists the scope's names
        assert isinstance(info.value, ValueError)
        with pytest.raises(scout_async.ArgumentError, match=f"unknown metric '{metric}'"):
            client.metrics.stream(101, metric, start=T0, end=T1, **scope)
    assert route.call_count == 0


def test_the_scopes_really_differ() -> None:
    # Otherwise the table above would test nothing.
    assert APP_ONLY
    assert JOB_ONLY
    assert "throughput" in APP_METRICS
    assert "throughput" in JOB_METRICS


async def test_endpoint_id_and_job_id_together_are_refused_before_any_request(
    client: ScoutClient,
) -> None:
    both: dict[str, Any] = {"endpoint_id": ENDPOINT_ID, "job_id": JOB_ID}
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(side_effect=answer)
        with pytest.raises(scout_async.ArgumentError, match="not both") as info:
            await client.metrics.get(101, "throughput", start=T0, end=T1, **both)
        assert isinstance(info.value, ValueError)
        with pytest.raises(scout_async.ArgumentError, match="not both"):
            client.metrics.stream(101, "throughput", start=T0, end=T1, **both)
    assert route.call_count == 0


# -- every argument is checked before any request ---------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"app_id": "101"}, TypeError, "app_id"),
        ({"app_id": True}, TypeError, "app_id"),
        ({"app_id": 0}, ValueError, "app_id"),
        ({"endpoint_id": 5}, TypeError, "endpoint_id"),
        ({"endpoint_id": ""}, ValueError, "endpoint_id"),
        ({"endpoint_id": " YQ=="}, ValueError, "endpoint_id"),
        ({"job_id": b"YQ=="}, TypeError, "job_id"),
        ({"job_id": ""}, ValueError, "job_id"),
        ({"start": "2026-03-01T00:00:00Z"}, TypeError, "start"),
        ({"start": T0.replace(tzinfo=None)}, ValueError, "naive"),
        ({"end": T0}, ValueError, "start"),
        ({"resolution": "3m"}, ValueError, "1m"),
        ({"resolution": 60}, TypeError, "resolution"),
    ],
)
async def test_bad_arguments_are_typed_errors_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, client: ScoutClient
) -> None:
    args: dict[str, Any] = {"app_id": 101, "metric": "throughput", "start": T0, "end": T1} | kwargs
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(side_effect=answer)
        with pytest.raises(error, match=match) as info:
            await client.metrics.get(**args)
        assert_argument_error(info, error)
        with pytest.raises(error, match=match) as info:
            client.metrics.stream(**args)  # checked at the call, not on the first point
        assert_argument_error(info, error)
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"app_id": "101"}, TypeError, "app_id"),
        ({"app_id": -1}, ValueError, "app_id"),
        ({"job_id": 5}, TypeError, "job_id"),
        ({"job_id": ""}, ValueError, "job_id"),
    ],
)
async def test_list_checks_its_arguments_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, client: ScoutClient
) -> None:
    args: dict[str, Any] = {"app_id": 101} | kwargs
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(json=envelope({"availableMetrics": []}))
        with pytest.raises(error, match=match) as info:
            await client.metrics.list(**args)
        assert_argument_error(info, error)
    assert route.call_count == 0
