"""client.traces: an endpoint's traces (``traces.list(..., endpoint_id=)``) within the 7-day
lookback, and one trace as a span tree."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import respx

import scout_async
import scout_async.types
from scout_async import ScoutClient
from scout_async.types import JobTrace, Span, Trace, TraceSummary
from scout_async.types._convert import structure
from tests.conftest import BASE_URL, VirtualClock, envelope
from tests.resources.conftest import assert_argument_error

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
# The earliest start Scout accepts for traces, as the client computes it.
EARLIEST = NOW - timedelta(days=7) + timedelta(minutes=1)
ODD_ID = "YWE/YWE+YQ=="
TRACES_PATH = f"{BASE_URL}/apps/101/endpoints/YWE%2FYWE%2BYQ%3D%3D/traces"
JOB_ID = "ZGVmYXVsdC9NeVdvcmtlcg=="  # default/MyWorker
JOB_SEGMENT = "ZGVmYXVsdC9NeVdvcmtlcg%3D%3D"


@pytest.fixture
def clock() -> VirtualClock:
    """The ``client`` fixture's clock: its wall time is ``NOW``."""
    return VirtualClock(wall=NOW)


def summary(ident: int, time: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "time": time,
        "total_call_time": 83.48,
        "mem_delta": 2.9296875,
        "metric_name": "Controller/api/metrics/show",
        "uri": "/x",
        "context": {},
        **extra,
    }


async def test_list_reads_an_endpoints_traces(client: ScoutClient) -> None:
    traces = [
        summary(1, "2026-03-09T17:15:00.000-07:00"),
        summary(2, "2026-03-10T01:00:00Z", mem_delta=None, uri=None, surprise=True),
    ]
    with respx.mock() as router:
        route = router.get(TRACES_PATH).respond(json=envelope({"traces": traces}))
        found = await client.traces.list(
            101, endpoint_id=ODD_ID, start=NOW - timedelta(days=1), end=NOW
        )
    assert found == [
        TraceSummary(
            id=2,
            time=datetime(2026, 3, 10, 1, tzinfo=UTC),
            total_call_time=83.48,
            mem_delta=None,
            metric_name="Controller/api/metrics/show",
            uri=None,
            context={},
        ),
        TraceSummary(
            id=1,
            time=datetime(2026, 3, 10, 0, 15, tzinfo=UTC),
            total_call_time=83.48,
            mem_delta=2.9296875,
            metric_name="Controller/api/metrics/show",
            uri="/x",
            context={},
        ),
    ]
    assert route.call_count == 1


# -- the lookback ------------------------------------------------------------------------------


async def test_start_at_the_limit_is_sent_as_is(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(TRACES_PATH).respond(json=envelope({"traces": []}))
        await client.traces.list(101, endpoint_id=ODD_ID, start=EARLIEST, end=NOW)
    assert dict(route.calls.last.request.url.params) == {
        "from": "2026-03-03T12:01:00Z",
        "to": "2026-03-10T12:00:00Z",
    }


async def test_one_second_past_the_limit_is_refused_before_sending(client: ScoutClient) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(ValueError, match="7 days") as info:
            await client.traces.list(
                101, endpoint_id=ODD_ID, start=EARLIEST - timedelta(seconds=1), end=NOW
            )
    assert route.call_count == 0
    message = str(info.value)
    assert "2026-03-03T12:01:00Z" in message  # the earliest allowed start
    assert "clamp=True" in message


async def test_clamp_moves_the_start_up_to_the_limit(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(TRACES_PATH).respond(json=envelope({"traces": []}))
        await client.traces.list(
            101, endpoint_id=ODD_ID, start=EARLIEST - timedelta(seconds=1), end=NOW, clamp=True
        )
        await client.traces.list(
            101, endpoint_id=ODD_ID, start=NOW - timedelta(days=90), end=NOW, clamp=True
        )
    assert [call.request.url.params["from"] for call in route.calls] == ["2026-03-03T12:01:00Z"] * 2


@pytest.mark.parametrize("end", [EARLIEST, EARLIEST - timedelta(days=1)])
async def test_a_window_wholly_too_old_is_refused_even_clamped(
    end: datetime, client: ScoutClient
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(ValueError, match="whole window"):
            await client.traces.list(
                101, endpoint_id=ODD_ID, start=end - timedelta(hours=1), end=end, clamp=True
            )
    assert route.call_count == 0


async def test_sub_second_now_rounds_the_limit_up(client: ScoutClient, clock: VirtualClock) -> None:
    clock.now_s += 0.25  # the client's clock now reads NOW + 0.25 s
    with respx.mock() as router:
        route = router.get(TRACES_PATH).respond(json=envelope({"traces": []}))
        with pytest.raises(ValueError, match="7 days"):
            # Sent as 12:01:00, which would be 0.25 s before the limit.
            await client.traces.list(101, endpoint_id=ODD_ID, start=EARLIEST, end=NOW)
        await client.traces.list(
            101, endpoint_id=ODD_ID, start=EARLIEST + timedelta(seconds=1), end=NOW
        )
        await client.traces.list(101, endpoint_id=ODD_ID, start=EARLIEST, end=NOW, clamp=True)
    assert [call.request.url.params["from"] for call in route.calls] == ["2026-03-03T12:01:01Z"] * 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"endpoint_id": ""}, ValueError, "endpoint_id"),
        ({"endpoint_id": b"YQ=="}, TypeError, "endpoint_id"),
        ({"start": NOW.replace(tzinfo=None)}, ValueError, "naive"),
        ({"start": NOW}, ValueError, "before"),
        ({"clamp": "yes"}, TypeError, "clamp"),
        ({"app_id": True}, TypeError, "app_id"),
        ({"endpoint_id": None, "job_id": ""}, ValueError, "job_id"),
        ({"endpoint_id": None, "job_id": 5}, TypeError, "job_id"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, client: ScoutClient
) -> None:
    args: dict[str, Any] = {
        "app_id": 101,
        "endpoint_id": ODD_ID,
        "start": NOW - timedelta(hours=1),
        "end": NOW,
    } | kwargs
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(error, match=match) as info:
            await client.traces.list(**args)
    assert route.call_count == 0
    assert_argument_error(info, error)


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"endpoint_id": None, "job_id": None},
        {"endpoint_id": ODD_ID, "job_id": JOB_ID},
    ],
    ids=["neither", "both-none", "both"],
)
async def test_list_needs_exactly_one_of_endpoint_id_or_job_id(
    scope: dict[str, Any], client: ScoutClient
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(scout_async.ArgumentError, match="exactly one of endpoint_id") as info:
            await client.traces.list(101, start=NOW - timedelta(hours=1), end=NOW, **scope)
    assert route.call_count == 0
    assert isinstance(info.value, ValueError)


async def test_list_reads_a_jobs_traces_at_the_jobs_path(client: ScoutClient) -> None:
    path = f"{BASE_URL}/apps/101/jobs/{JOB_SEGMENT}/traces"
    body = {"traces": [{"id": 7, "time": "2026-03-10T11:00:00Z", "duration": 12.5}]}
    with respx.mock(assert_all_called=False) as router:
        jobs = router.get(path).respond(json=envelope(body))
        endpoints = router.get(TRACES_PATH).respond(json=envelope({"traces": []}))
        found = await client.traces.list(
            101, job_id=JOB_ID, start=NOW - timedelta(hours=2), end=NOW
        )
    assert [(type(t), t.id, t.duration) for t in found] == [(JobTrace, 7, 12.5)]
    assert (jobs.call_count, endpoints.call_count) == (1, 0)


# -- one trace ---------------------------------------------------------------------------------


def span(ident: Any, parent: Any, operation: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "parent_id": parent, "operation": operation, "duration_ms": 1.0, **extra}


TRACE = {
    "id": 1827043988,
    "time": "2026-03-09T17:15:00Z",
    "total_call_time": 83483.85,
    "mem_delta": 2.9296875,
    "metric_name": "Controller/api/metrics/show",
    "uri": "/x",
    "context": {"user": 1},
    "transaction_id": "abc",
    "hostname": "web-1",
    "git_sha": "deadbeef",
    "duration_in_seconds": 83.483853,
    "allocations_count": 15467,
    "limited": False,
    "future_field": {"a": 1},
    "spans": [
        span("1", None, "Controller/show"),
        span("2", "1", "SQL/find", description="SELECT 1", type="SQL"),
        span("3", "1", "View/render"),
        span("4", "3", "Partial/row"),
        span("5", None, "Middleware/After"),
    ],
}


async def test_get_builds_the_span_tree(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/traces/1827043988").respond(
            json=envelope({"trace": TRACE})
        )
        trace = await client.traces.get(101, 1827043988)
    assert route.call_count == 1
    assert (trace.id, trace.hostname, trace.allocations_count) == (1827043988, "web-1", 15467)
    assert trace.time == datetime(2026, 3, 9, 17, 15, tzinfo=UTC)
    assert [s.id for s in trace.spans] == ["1", "2", "3", "4", "5"]  # flat, as sent
    assert [s.id for s in trace.root_spans] == ["1", "5"]
    root = trace.root_spans[0]
    assert [c.operation for c in root.children] == ["SQL/find", "View/render"]
    assert [c.id for c in root.children[1].children] == ["4"]
    assert root.children[0].description == "SELECT 1"
    assert root.children[0].type == "SQL"
    assert trace.spans[3].children == []


def test_nested_spans_are_flattened_depth_first() -> None:
    raw = {
        "id": 1,
        "spans": [
            {
                "id": "a",
                "parent_id": None,
                "operation": "Middleware/Summary",
                "children": [
                    {"id": "b", "parent_id": "a", "operation": "SQL", "children": []},
                    {"id": "c", "operation": "View", "children": [{"id": "d"}]},
                ],
            },
            {"id": "e", "parent_id": None, "operation": "Other"},
        ],
    }
    trace = structure(raw, Trace)
    assert [(s.id, s.parent_id) for s in trace.spans] == [
        ("a", None),
        ("b", "a"),
        ("c", "a"),
        ("d", "c"),
        ("e", None),
    ]
    assert [s.id for s in trace.root_spans] == ["a", "e"]
    assert [c.id for c in trace.root_spans[0].children] == ["b", "c"]


def test_integer_ids_and_alternative_names_are_read() -> None:
    raw = {
        "id": 1,
        "spans": [
            {"id": 1, "parent_id": None, "name": "Controller/x", "desc": None},
            # start_offset_ms is in no source: an unknown key, ignored like any other.
            {"id": 2, "parent_id": 1, "name": "SQL/y", "desc": "SELECT 2", "start_offset_ms": 0.5},
        ],
    }
    trace = structure(raw, Trace)
    assert trace.spans[1] == Span(id="2", parent_id="1", operation="SQL/y", description="SELECT 2")
    assert not hasattr(trace.spans[1], "start_offset_ms")
    assert trace.root_spans[0].children == [trace.spans[1]]


def test_orphans_and_cycles_become_roots() -> None:
    raw = {
        "id": 1,
        "spans": [
            span("a", "missing", "orphan"),
            span("b", "c", "cycle-1"),
            span("c", "b", "cycle-2"),
            span("d", "c", "child of a cycle member"),
            span("e", "e", "its own parent"),
        ],
    }
    trace = structure(raw, Trace)
    assert [s.id for s in trace.root_spans] == ["a", "b", "c", "e"]
    assert [c.id for c in trace.spans[2].children] == ["d"]
    assert trace.spans[1].children == []


def test_trace_without_spans() -> None:
    trace = structure({"id": 7, "spans": None}, Trace)
    assert (trace.spans, trace.root_spans) == ([], [])


async def test_get_checks_ids(client: ScoutClient) -> None:
    with pytest.raises(TypeError, match="trace_id"):
        await client.traces.get(101, "123")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="trace_id"):
        await client.traces.get(101, -1)


async def test_get_of_a_malformed_trace(client: ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/traces/5").respond(
            json=envelope({"trace": {"id": 5, "spans": "many"}})
        )
        with pytest.raises(scout_async.ResponseFormatError, match="Trace"):
            await client.traces.get(101, 5)
