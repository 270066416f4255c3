"""client.endpoints: both listing shapes, paging, base64 ids on the wire; an endpoint's series
(``client.metrics.get/stream(..., endpoint_id=)``)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import respx

import scout_async
import scout_async.types
from scout_async import Point, ScoutClient
from scout_async._time import parse_time
from scout_async.testing import ScoutSimulator
from scout_async.types import Endpoint
from scout_async.types._convert import structure
from tests.conftest import BASE_URL, SECRET, envelope, fixture_json
from tests.resources.conftest import assert_argument_error

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
# base64 with all three characters that need encoding in a path: "/", "+" and "=".
ODD_NAME = "aa?aa>a"
ODD_ID = "YWE/YWE+YQ=="
ODD_SEGMENT = "YWE%2FYWE%2BYQ%3D%3D"


def endpoint_json(name: str, **extra: Any) -> dict[str, Any]:
    ident = base64.b64encode(name.encode()).decode()
    return {
        "name": name,
        "percentage_of_total": 10.0,
        "response_time": 50.0,
        "throughput": 100.0,
        "max_allocations": 1000,
        "error_rate": 0.01,
        "formatted_method_name": name,
        "link": f"/apps/101/endpoints/{ident}",
        "95th_percentile": 120.0,
        **extra,
    }


def test_odd_name_really_encodes_to_the_odd_id() -> None:
    assert base64.b64encode(ODD_NAME.encode()).decode() == ODD_ID


async def test_list_reads_the_fixture(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/6/endpoints").respond(
            json=fixture_json("endpoints.json")
        )
        endpoints = await client.endpoints.list(6, start=T0, end=T1)
    assert endpoints == [
        Endpoint(
            name="api/metrics/show",
            link="/apps/6/endpoints/YXBpL21ldHJpY3Mvc2hvdw==",
            formatted_method_name="Api::MetricsController#show",
            response_time=92.65,
            p95=396.10,
            throughput=403.26,
            error_rate=0.0,
            percentage_of_total=48.03,
            max_allocations=474271,
        )
    ]
    assert endpoints[0].id == "YXBpL21ldHJpY3Mvc2hvdw=="
    params = route.calls.last.request.url.params
    # The bare list: no paging parameter may be sent, or Scout switches shape.
    assert dict(params) == {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}


async def test_list_also_reads_the_paginated_shape(client: ScoutClient) -> None:
    body = {"endpoints": [endpoint_json("a/b")], "count": 1, "total_count": 1, "has_more": False}
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/endpoints").respond(json=envelope(body))
        endpoints = await client.endpoints.list(101, start=T0, end=T1)
    assert [e.name for e in endpoints] == ["a/b"]


async def test_unknown_fields_and_nulls_are_tolerated(client: ScoutClient) -> None:
    item = endpoint_json("a/b", new_field={"x": 1}, **{"95th_percentile": None})
    del item["link"]
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/endpoints").respond(json=envelope([item]))
        [endpoint] = await client.endpoints.list(101, start=T0, end=T1)
    assert endpoint.p95 is None
    assert endpoint.id == base64.b64encode(b"a/b").decode()  # computed from the name


def test_id_is_everything_after_endpoints_even_with_a_slash_inside() -> None:
    raw = endpoint_json(ODD_NAME)
    assert raw["link"] == f"/apps/101/endpoints/{ODD_ID}"
    assert structure(raw, Endpoint).id == ODD_ID
    encoded = {**raw, "link": f"/apps/101/endpoints/{ODD_SEGMENT}"}
    assert structure(encoded, Endpoint).id == ODD_ID


async def test_malformed_answer_is_a_response_format_error(client: ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/endpoints").respond(json=envelope({"nope": 1}))
        with pytest.raises(scout_async.ResponseFormatError, match="endpoints"):
            await client.endpoints.list(101, start=T0, end=T1)


def page(names: list[str], total: int, has_more: bool) -> httpx.Response:
    body = {
        "endpoints": [endpoint_json(n) for n in names],
        "count": len(names),
        "total_count": total,
        "has_more": has_more,
    }
    return httpx.Response(200, json=envelope(body))


async def test_iter_follows_has_more_to_the_last_page(client: ScoutClient) -> None:
    pages = [page(["a", "b"], 5, True), page(["c", "d"], 5, True), page(["e"], 5, False)]
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").mock(side_effect=pages)
        names = [
            e.name
            async for e in client.endpoints.iter(
                101, start=T0, end=T1, sort_by="throughput", limit=2
            )
        ]
    assert names == ["a", "b", "c", "d", "e"]
    sent = [dict(call.request.url.params) for call in route.calls]
    assert [(p["limit"], p["offset"], p["sort_by"]) for p in sent] == [
        ("2", "0", "throughput"),
        ("2", "2", "throughput"),
        ("2", "4", "throughput"),
    ]
    assert all(p["from"] == "2026-03-01T00:00:00Z" for p in sent)


async def test_iter_stops_on_an_empty_page_even_if_has_more(client: ScoutClient) -> None:
    pages = [page(["a"], 9, True), page([], 9, True), page(["never"], 9, False)]
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").mock(side_effect=pages)
        names = [e.name async for e in client.endpoints.iter(101, start=T0, end=T1, offset=7)]
    assert names == ["a"]
    assert route.call_count == 2
    assert [call.request.url.params["offset"] for call in route.calls] == ["7", "8"]
    assert "sort_by" not in route.calls[0].request.url.params


async def take_names(pages: AsyncIterator[Endpoint], names: list[str]) -> None:
    async for endpoint in pages:
        names.append(endpoint.name)


async def test_iter_stops_when_the_server_ignores_offset(client: ScoutClient) -> None:
    # Every answer is the first page again, with has_more: without a guard, an endless loop.
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").mock(
            side_effect=lambda _: page(["a", "b"], 5, True)
        )
        names: list[str] = []
        pages = client.endpoints.iter(101, start=T0, end=T1, limit=2)
        with pytest.raises(scout_async.ResponseFormatError, match="ignores offset"):
            await take_names(pages, names)
    assert names == ["a", "b"]  # each once
    assert route.call_count == 2


async def test_iter_stops_when_has_more_outlives_total_count(client: ScoutClient) -> None:
    answers = itertools.count()

    def endless(_: httpx.Request) -> httpx.Response:
        return page([f"e{next(answers)}"], 2, True)  # new endpoints, and always "more"

    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").mock(side_effect=endless)
        names: list[str] = []
        pages = client.endpoints.iter(101, start=T0, end=T1, limit=1)
        with pytest.raises(scout_async.ResponseFormatError, match="total_count is 2"):
            await take_names(pages, names)
    assert names == ["e0", "e1"]
    assert route.call_count == 2


async def test_iter_goes_on_without_a_total_count(client: ScoutClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        body = {"endpoints": [endpoint_json(f"e{offset}")], "has_more": offset < 2}
        return httpx.Response(200, json=envelope(body))

    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/endpoints").mock(side_effect=answer)
        names = [e.name async for e in client.endpoints.iter(101, start=T0, end=T1, limit=1)]
    assert names == ["e0", "e1", "e2"]


async def test_iter_fetches_lazily(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").mock(
            side_effect=[page(["a"], 2, True), page(["b"], 2, False)]
        )
        pages = client.endpoints.iter(101, start=T0, end=T1, limit=1)
        assert route.call_count == 0
        first = await pages.__anext__()
        assert (first.name, route.call_count) == ("a", 1)
        await pages.aclose()
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sort_by": "name"}, ValueError, "time_consumed"),
        ({"limit": 0}, ValueError, "limit"),
        ({"limit": "5"}, TypeError, "limit"),
        ({"offset": -1}, ValueError, "offset"),
        ({"start": T0.replace(tzinfo=None)}, ValueError, "naive"),
        ({"end": T0}, ValueError, "before"),
        ({"end": T0 + timedelta(days=14, seconds=1)}, ValueError, "14 days"),
        ({"app_id": 0}, ValueError, "app_id"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, client: ScoutClient
) -> None:
    args: dict[str, Any] = {"app_id": 101, "start": T0, "end": T1} | kwargs
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(error, match=match) as info:
            client.endpoints.iter(**args)
        assert_argument_error(info, error)
        if not {"sort_by", "limit", "offset"} & set(kwargs):
            with pytest.raises(error, match=match) as info:
                await client.endpoints.list(**args)
            assert_argument_error(info, error)
    assert route.call_count == 0


async def test_exactly_14_days_is_one_listing(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/endpoints").respond(json=envelope([]))
        assert await client.endpoints.list(101, start=T0, end=T0 + timedelta(days=14)) == []
    assert route.call_count == 1


# -- metric series -----------------------------------------------------------------------------


# The simulated account's endpoints whose ids a path must percent-encode (between them "/", "+"
# and "="), with the segment each must be sent as; and a plain one.
ODD_ENDPOINTS = [
    ("reports/export?>", "cmVwb3J0cy9leHBvcnQ%2FPg%3D%3D"),
    ("docs/~~~/show", "ZG9jcy9%2Bfn4vc2hvdw%3D%3D"),
]
PLAIN_ID = "YXBpL21ldHJpY3Mvc2hvdw=="  # api/metrics/show


def simulator() -> ScoutSimulator:
    """App 101 with its endpoints; its clock stands after every window here, none forgotten."""
    return ScoutSimulator(
        api_key=SECRET,
        apps=[(101, "App 101")],
        now=T0 + timedelta(days=40),
        retention=timedelta(days=60),
    )


def client_of(sim: ScoutSimulator) -> ScoutClient:
    return ScoutClient(api_key=SECRET, base_url=BASE_URL, http_client=sim.http_client())


def sent_windows(sim: ScoutSimulator) -> list[tuple[datetime, datetime]]:
    return [(parse_time(r.query["from"]), parse_time(r.query["to"])) for r in sim.requests]


@pytest.mark.parametrize(("name", "segment"), ODD_ENDPOINTS, ids=["slash", "plus"])
async def test_endpoint_metric_goes_through_the_planner(name: str, segment: str) -> None:
    endpoint_id = base64.b64encode(name.encode()).decode()
    assert quote(endpoint_id, safe="") == segment  # the guard: these ids are odd
    sim = simulator()
    start, end = T0 + timedelta(minutes=7), T0 + timedelta(days=20)
    async with client_of(sim) as client:
        series = await client.metrics.get(
            101, "response_time", endpoint_id=endpoint_id, start=start, end=end
        )
        streamed = [
            p
            async for p in client.metrics.stream(
                101, "response_time", endpoint_id=endpoint_id, start=start, end=end
            )
        ]
    chunks = scout_async.plan_range(start, end)
    assert len(chunks) == 2  # 20 days: two requests...
    step = timedelta(hours=2)
    assert series.step == step  # ...answered at one step
    assert series.summary is None
    assert all(b.time - a.time == step for a, b in itertools.pairwise(series.points))
    first = chunks[0].owned_start
    [(_, served)] = sim.points(
        101, "response_time", start=first, end=first + step, step=step, endpoint_id=endpoint_id
    )
    assert series.points[0] == Point(first, served)
    assert series.points[-1].time == chunks[-1].owned_end - step
    assert streamed == series.points
    assert {r.path for r in sim.requests} == {
        f"/api/v0/apps/101/endpoints/{segment}/metrics/response_time"
    }
    # Each call sent exactly the planned requests (concurrently, so in any order).
    assert sorted(sent_windows(sim)) == sorted([(c.start, c.end) for c in chunks] * 2)


async def test_endpoint_metric_one_request_has_the_summary() -> None:
    sim = simulator()
    async with client_of(sim) as client:
        series = await client.metrics.get(101, "apdex", endpoint_id=PLAIN_ID, start=T0, end=T1)
    # What the simulator sends for that one request.
    params = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}
    async with sim.http_client(headers={"X-SCOUT-API": SECRET}) as http:
        response = await http.get(
            f"/apps/101/endpoints/{quote(PLAIN_ID, safe='')}/metrics/apdex", params=params
        )
    served = response.json()["results"]["summaries"]["apdex"]
    assert served is not None
    assert series.summary == served
    assert series.step == timedelta(minutes=10)
    assert len(series.points) == 144


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metric": "execution_time"}, ValueError, "response_time"),
        ({"endpoint_id": ""}, ValueError, "endpoint_id"),
        ({"endpoint_id": 5}, TypeError, "endpoint_id"),
        ({"resolution": "3m"}, ValueError, "1m"),
        ({"end": T0 - timedelta(hours=1)}, ValueError, "start"),
    ],
)
async def test_endpoint_metric_checks_arguments_first(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    sim = simulator()
    args: dict[str, Any] = {
        "app_id": 101,
        "endpoint_id": PLAIN_ID,
        "metric": "throughput",
        "start": T0,
        "end": T1,
    } | kwargs
    async with client_of(sim) as client:
        with pytest.raises(error, match=match) as info:
            await client.metrics.get(**args)
        assert_argument_error(info, error)
        with pytest.raises(error, match=match) as info:
            client.metrics.stream(**args)
        assert_argument_error(info, error)
    assert sim.requests == []
