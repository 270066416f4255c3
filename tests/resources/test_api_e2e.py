"""Every resource call of the client against the bundled simulator, over real localhost HTTP.

One simulator and server for the module (a background thread, fixed ``now``); the client's clock
(``ScoutClient(clock=...)``) reads the same instant, so the lookback limits are exact.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import pytest

import scout_async
import scout_async.types
from scout_async import ScoutClient
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer
from scout_async.types import AnomalyEvent, Endpoint, ErrorGroup, Insight, Job, Span, Trace
from tests.conftest import VirtualClock

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
APP = 101
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
NOPE = base64.b64encode(b"nope/missing").decode()


@pytest.fixture(scope="module")
def sim() -> ScoutSimulator:
    return ScoutSimulator(now=NOW)


@pytest.fixture(scope="module")
def server(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sim: ScoutSimulator) -> None:
    sim.clear_faults()
    sim.requests.clear()


@pytest.fixture
async def client(server: SimulatorServer) -> AsyncIterator[ScoutClient]:
    async with ScoutClient(
        api_key=DEFAULT_API_KEY, base_url=server.url, clock=VirtualClock(wall=NOW)
    ) as running:
        yield running


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(name: str) -> str:
    return base64.b64encode(name.encode()).decode()


def requests_to(sim: ScoutSimulator, suffix: str) -> list[dict[str, str]]:
    """The queries of the recorded requests whose path ends with ``suffix``."""
    return [r.query for r in sim.requests if r.path.endswith(suffix)]


def unset(obj: Any, *, may_be_none: Iterable[str] = ()) -> list[str]:
    """The model's declared fields that are still ``None`` (other than ``may_be_none``)."""
    allowed = set(may_be_none)
    return [
        a.name
        for a in attrs.fields(type(obj))
        if a.init and a.name not in allowed and getattr(obj, a.name) is None
    ]


async def endpoints_of(client: ScoutClient) -> list[Endpoint]:
    return await client.endpoints.list(APP, start=NOW - DAY, end=NOW)


async def endpoint_named(client: ScoutClient, name: str) -> Endpoint:
    return next(e for e in await endpoints_of(client) if e.name == name)


# -- endpoints ---------------------------------------------------------------------------------


async def test_endpoints_list(client: ScoutClient, sim: ScoutSimulator) -> None:
    endpoints = await endpoints_of(client)
    assert len(endpoints) >= 5
    assert len(requests_to(sim, "/endpoints")) == 1
    for endpoint in endpoints:
        assert unset(endpoint) == []
        assert endpoint.id == b64(endpoint.name)
        assert endpoint.link == f"/apps/{APP}/endpoints/{endpoint.id}"
        assert endpoint.p95 is not None
        assert endpoint.response_time is not None
        assert endpoint.p95 > endpoint.response_time > 0
        assert endpoint.error_rate is not None
        assert 0 <= endpoint.error_rate < 1
    assert sum(e.percentage_of_total or 0 for e in endpoints) == pytest.approx(100, abs=0.1)


async def test_endpoints_iter_through_every_page(client: ScoutClient, sim: ScoutSimulator) -> None:
    listed = await endpoints_of(client)
    sim.requests.clear()
    paged = [
        e
        async for e in client.endpoints.iter(
            APP, start=NOW - DAY, end=NOW, sort_by="throughput", limit=3
        )
    ]
    assert sorted(e.name for e in paged) == sorted(e.name for e in listed)
    throughputs = [e.throughput or 0.0 for e in paged]
    assert throughputs == sorted(throughputs, reverse=True)
    pages = requests_to(sim, "/endpoints")
    assert [q["offset"] for q in pages] == [str(n) for n in range(0, len(listed), 3)]
    assert all(q["limit"] == "3" and q["sort_by"] == "throughput" for q in pages)

    # In Scout's order, a page size that divides the total exactly: no request past the end.
    sim.requests.clear()
    whole = [e async for e in client.endpoints.iter(APP, start=NOW - DAY, end=NOW, limit=100)]
    assert whole == listed
    assert len(requests_to(sim, "/endpoints")) == 1
    tail = [
        e
        async for e in client.endpoints.iter(APP, start=NOW - DAY, end=NOW, offset=len(listed) - 2)
    ]
    assert tail == listed[-2:]


async def test_endpoints_iter_past_the_end_is_one_empty_page(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    listed = await endpoints_of(client)
    sim.requests.clear()
    for offset in (len(listed), len(listed) + 10):
        assert [
            e async for e in client.endpoints.iter(APP, start=NOW - DAY, end=NOW, offset=offset)
        ] == []
    assert [q["offset"] for q in requests_to(sim, "/endpoints")] == [
        str(len(listed)),
        str(len(listed) + 10),
    ]


async def test_endpoint_ids_with_plus_slash_and_padding_round_trip(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    odd = [e for e in await endpoints_of(client) if set(e.id) & set("+/=")]
    assert {c for e in odd for c in "+/=" if c in e.id} == {"+", "/", "="}
    for endpoint in odd:
        sim.requests.clear()
        series = await client.metrics.get(
            APP, "throughput", endpoint_id=endpoint.id, start=NOW - timedelta(hours=1), end=NOW
        )
        assert_uniform(series.points, series.step, NOW - timedelta(hours=1))
        assert all(p.value is not None and p.value >= 0 for p in series.points)
        traces = await client.traces.list(APP, endpoint_id=endpoint.id, start=NOW - DAY, end=NOW)
        assert traces
        assert {t.metric_name for t in traces} == {f"Controller/{endpoint.name}"}
        segment = quote(endpoint.id, safe="")
        assert [r.path for r in sim.requests] == [
            f"/api/v0/apps/{APP}/endpoints/{segment}/metrics/throughput",
            f"/api/v0/apps/{APP}/endpoints/{segment}/traces",
        ]
        assert all(r.status == 200 for r in sim.requests)


def assert_uniform(points: Sequence[scout_async.Point], step: timedelta, start: datetime) -> None:
    times = [p.time for p in points]
    assert times[0] <= start < times[0] + step
    assert all(b - a == step for a, b in itertools.pairwise(times))  # one step, no gap, no repeat
    # The last bucket is the last closed one: it ended the lateness (2 min) before now.
    lateness = timedelta(minutes=2)
    assert times[-1] + step <= NOW - lateness < times[-1] + 2 * step


async def test_endpoint_metric_and_stream_over_20_days(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    endpoint = await endpoint_named(client, "docs/~~~/show")
    start = NOW - 20 * DAY
    series = await client.metrics.get(
        APP, "response_time", endpoint_id=endpoint.id, start=start, end=NOW
    )
    assert series.step == timedelta(hours=2)
    assert_uniform(series.points, series.step, start)
    # Every closed bucket: those that ended the lateness (2 min) before now.
    closed = NOW - timedelta(minutes=2)
    assert len(series.points) == (closed - series.points[0].time) // series.step
    assert all(p.value is not None and p.value > 0 for p in series.points)
    windows = requests_to(sim, "/metrics/response_time")
    assert len(windows) >= 2  # more than 14 days: several requests, one step
    streamed = [
        p
        async for p in client.metrics.stream(
            APP, "response_time", endpoint_id=endpoint.id, start=start, end=NOW
        )
    ]
    assert streamed == series.points


async def test_job_metric_over_20_days(client: ScoutClient) -> None:
    job = next(j for j in await client.jobs.list(APP, start=NOW - DAY, end=NOW))
    start = NOW - 20 * DAY
    execution = await client.metrics.get(APP, "execution_time", job_id=job.id, start=start, end=NOW)
    latency = await client.metrics.get(APP, "latency", job_id=job.id, start=start, end=NOW)
    for series in (execution, latency):
        assert series.step == timedelta(hours=2)
        assert_uniform(series.points, series.step, start)
    assert [p.time for p in execution.points] == [p.time for p in latency.points]
    # Each reduced to the job's own figure: execution time is the `total` sub-series (ms);
    # latency is the `Latency` one (seconds), not the `total` beside it.
    assert min(p.value or 0 for p in execution.points) > 10
    assert max(p.value or 0 for p in latency.points) < 10
    streamed = [
        p
        async for p in client.metrics.stream(
            APP, "execution_time", job_id=job.id, start=start, end=NOW
        )
    ]
    assert streamed == execution.points


# -- jobs --------------------------------------------------------------------------------------


async def test_jobs_list_metrics_and_traces(client: ScoutClient) -> None:
    jobs = await client.jobs.list(APP, start=NOW - DAY, end=NOW)
    assert len(jobs) >= 3
    for job in jobs:
        assert unset(job) == []
        assert job.id == job.job_id == b64(job.full_name)
        assert job.full_name == f"{job.queue}/{job.name}"
    job = jobs[0]
    metrics = await client.metrics.list(APP, job_id=job.id)
    assert metrics == list(scout_async.JOB_METRICS)

    # One request's worth (6 h): Scout's summary comes through, reduced like the series (which
    # holds every bucket Scout sent, those not closed yet too, as the summary covers them).
    start = NOW - timedelta(hours=6)
    for metric in metrics:
        series = await client.metrics.get(
            APP, metric, job_id=job.id, start=start, end=NOW, partial=True
        )
        assert series.step == timedelta(minutes=5)
        assert series.summary is not None
        values = [p.value for p in series.points if p.value is not None]
        assert len(values) == len(series.points) > 0
        if metric == "errors":
            assert series.summary == sum(values)
        else:
            # A mean (allocations: a whole number).
            tolerance = 1 if metric == "allocations" else 0.01
            assert series.summary == pytest.approx(sum(values) / len(values), abs=tolerance)

    traces = await client.traces.list(APP, job_id=job.id, start=NOW - DAY, end=NOW)
    assert traces
    times = [t.time for t in traces]
    assert times == sorted(times, key=lambda t: t or NOW, reverse=True)
    for trace in traces:
        assert unset(trace) == []
        assert (trace.name, trace.queue) == (job.name, job.queue)
        assert trace.metric_name == f"Job/{job.full_name}"
        assert trace.time is not None
        assert NOW - DAY <= trace.time <= NOW
    # Scout has no detail for a job's trace.
    with pytest.raises(scout_async.NotFoundError):
        await client.traces.get(APP, traces[0].id)


# -- traces ------------------------------------------------------------------------------------


def walk(spans: list[Span], depth: int = 0) -> Iterator[tuple[int, Span]]:
    for span in spans:
        yield depth, span
        yield from walk(span.children, depth + 1)


async def test_endpoint_traces_and_a_span_tree(client: ScoutClient) -> None:
    endpoint = await endpoint_named(client, "api/metrics/show")
    listed = await client.traces.list(APP, endpoint_id=endpoint.id, start=NOW - 2 * DAY, end=NOW)
    assert 0 < len(listed) <= 100
    assert [t.time for t in listed] == sorted((t.time for t in listed), reverse=True)  # type: ignore[type-var]
    for summary in listed:
        assert unset(summary, may_be_none={"mem_delta"}) == []  # Scout sends a null at times
    summary = next(t for t in listed if t.mem_delta is not None)

    trace = await client.traces.get(APP, summary.id)
    assert unset(trace) == []
    assert isinstance(trace, Trace)
    assert (trace.id, trace.time, trace.total_call_time, trace.mem_delta, trace.uri) == (
        summary.id,
        summary.time,
        summary.total_call_time,
        summary.mem_delta,
        summary.uri,
    )
    assert trace.metric_name == f"Controller/{endpoint.name}"
    assert trace.duration_in_seconds == pytest.approx((trace.total_call_time or 0) / 1000)
    assert trace.limited is False

    # Sent nested; read as a flat list (depth first) and rebuilt as the same tree.
    assert len(trace.root_spans) == 1
    tree = list(walk(trace.root_spans))
    assert [span for _, span in tree] == trace.spans
    assert max(depth for depth, _ in tree) == 4
    assert [span.operation for depth, span in tree if depth <= 1] == [
        "Middleware/Summary",
        f"Controller/{endpoint.name}",
    ]
    root = trace.root_spans[0]
    assert root.parent_id is None
    # Span durations are seconds (sent under duration_ms): the root lasts the whole trace.
    assert root.duration_s == trace.duration_in_seconds
    assert root.duration_s == pytest.approx((trace.total_call_time or 0) / 1000, abs=1e-6)
    assert root.allocations == trace.allocations_count
    assert trace.legacy_format is False
    assert len({span.id for span in trace.spans}) == len(trace.spans)
    for depth, span in tree:
        # Sent: a description where the span has one (SQL text, a cache key), a parent below
        # the root, and everything else.
        quiet = {"description"} | ({"parent_id"} if depth == 0 else set())
        assert unset(span, may_be_none=quiet) == []
        if span.type in ("SQL", "Redis"):
            assert span.description
        inner = sum(child.duration_s or 0 for child in span.children)
        assert (span.duration_s or 0) >= inner
        assert span.exclusive_duration_s == pytest.approx((span.duration_s or 0) - inner, abs=2e-6)
        for child in span.children:
            assert child.parent_id == span.id
    deepest = next(span for depth, span in tree if depth == 4)
    assert (deepest.type, deepest.operation) == ("SQL", "SQL/LineItem/select")


# -- errors ------------------------------------------------------------------------------------


async def test_error_groups_group_and_errors(client: ScoutClient) -> None:
    groups = await client.errors.list(APP, start=NOW - 14 * DAY, end=NOW)
    assert groups
    last = [g.last_error_at for g in groups]
    assert last == sorted(last, reverse=True)  # type: ignore[type-var]
    for group in groups:
        # A job's group has no request URI.
        assert unset(group, may_be_none={"latest_error", "request_uri"}) == []
        assert isinstance(group.request_components, list)
        assert group.latest_error is None

    group = groups[0]
    detail = await client.errors.get(APP, group.id)
    # The detail's errors_count is 0 on the live API for every group: unknown, not 0.
    assert detail.errors_count is None
    assert group.errors_count
    assert attrs.evolve(detail, latest_error=None, errors_count=group.errors_count) == group
    latest = detail.latest_error
    assert latest is not None
    assert unset(latest, may_be_none={"request_uri"}) == []
    assert latest.created_at == group.last_error_at
    assert latest.name == group.name
    assert latest.message == group.message

    errors = await client.errors.list_errors(APP, group.id)
    assert len(errors) == min(group.errors_count or 0, 100)
    assert errors[0] == latest
    assert {e.name for e in errors} == {group.name}
    created = [e.created_at for e in errors]
    assert created == sorted(created, reverse=True)  # type: ignore[type-var]
    assert all(e.trace and e.trace[0] == e.location for e in errors)


async def test_error_groups_filtered_by_endpoint_or_job(client: ScoutClient) -> None:
    start = NOW - 29 * DAY
    everything = await client.errors.list(APP, start=start, end=NOW)
    endpoints = await endpoints_of(client)
    jobs = await client.jobs.list(APP, start=NOW - DAY, end=NOW)
    found: list[ErrorGroup] = []
    wheres: list[Endpoint | Job] = [*endpoints, *jobs]
    for where in wheres:
        only = await client.errors.list(APP, start=start, end=NOW, endpoint=where.id)
        if isinstance(where, Endpoint):
            controller, action = (where.formatted_method_name or "").split("#")
            assert all(g.request_components == [controller, action] for g in only)
        else:
            assert all(g.request_components == [where.name, "perform"] for g in only)
        found += only
    assert any(g.request_uri is None for g in found)  # a job's group came through its Job.id
    odd = [e for e in endpoints if e.name in ("docs/~~~/show", "reports/export?>")]
    assert {c for e in odd for c in "+/=" if c in e.id} == {"+", "/", "="}
    for endpoint in odd:  # "+", "/" and "=" reach the simulator intact
        only = await client.errors.list(APP, start=start, end=NOW, endpoint=endpoint.id)
        assert [g.request_uri for g in only] == ["/" + endpoint.name.rsplit("/", 1)[0]]
    assert sorted(g.id for g in found) == sorted(g.id for g in everything)  # each in one place
    assert await client.errors.list(APP, start=start, end=NOW, endpoint=NOPE) == []


async def test_error_groups_over_14_days_are_split_and_merged(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    start = NOW - 29 * DAY
    merged = await client.errors.list(APP, start=start, end=NOW)
    windows = [(q["from"], q["to"]) for q in requests_to(sim, "/error_groups")]
    assert windows == [
        (iso(start), iso(NOW - 15 * DAY)),
        (iso(NOW - DAY), iso(NOW)),
        (iso(NOW - 15 * DAY), iso(NOW - DAY)),
    ]  # the oldest first (it is closest to the lookback limit), then newest first; each at most
    # 14 days, sharing their boundaries
    ids = [g.id for g in merged]
    assert len(ids) == len(set(ids))
    per_window: list[ErrorGroup] = []
    for window_start, window_end in ((start, NOW - 15 * DAY), (NOW - 15 * DAY, NOW - DAY)):
        per_window += await client.errors.list(APP, start=window_start, end=window_end)
    per_window += await client.errors.list(APP, start=NOW - DAY, end=NOW)
    assert set(ids) == {g.id for g in per_window}
    assert len(per_window) > len(merged)  # a group active in two windows was kept once
    last = [g.last_error_at for g in merged]
    assert last == sorted(last, reverse=True)  # type: ignore[type-var]


# -- anomalies ---------------------------------------------------------------------------------


async def test_anomalies_with_filters_and_detail(client: ScoutClient) -> None:
    start = NOW - 14 * DAY
    events = await client.anomalies.list(APP, start=start, end=NOW)
    assert len(events) >= 3
    started = [e.started_at for e in events]
    assert started == sorted(started, reverse=True)  # type: ignore[type-var]
    detail_only = {"baseline_std_dev", "duration_minutes", "smart_monitor", "deploy"}
    for event in events:
        quiet = detail_only | {"endpoint", "deploy_id"} | ({"ended_at"} if event.open else set())
        assert unset(event, may_be_none=quiet) == []
        assert all(getattr(event, name) is None for name in detail_only)
        assert event.direction in ("high", "low")
        assert event.severity in ("warning", "critical")
        assert (event.ended_at is None) == event.open

    opened = await client.anomalies.list(APP, start=start, end=NOW, state="open")
    closed = await client.anomalies.list(APP, start=start, end=NOW, state="closed")
    assert opened
    assert closed
    assert all(e.open for e in opened)
    assert not any(e.open for e in closed)
    assert sorted(e.id for e in opened + closed) == sorted(e.id for e in events)
    slow = await client.anomalies.list(APP, start=start, end=NOW, metric="response_time")
    assert slow
    assert {e.metric for e in slow} == {"response_time"}
    named = next(e.endpoint for e in events if e.endpoint)
    on_endpoint = await client.anomalies.list(APP, start=start, end=NOW, endpoint=named)
    assert on_endpoint
    assert {e.endpoint for e in on_endpoint} == {named}
    both = await client.anomalies.list(
        APP, start=start, end=NOW, state="closed", metric="error_rate", endpoint=named
    )
    assert both == [e for e in on_endpoint if not e.open and e.metric == "error_rate"]

    month = await client.anomalies.list(APP, start=NOW - 29 * DAY, end=NOW)
    with_deploy = next(e for e in month if e.deploy_id is not None)
    detail = await client.anomalies.get(APP, with_deploy.id)
    assert isinstance(detail, AnomalyEvent)
    quiet = {"endpoint"} | ({"ended_at"} if detail.open else set())
    assert unset(detail, may_be_none=quiet) == []
    listed = attrs.evolve(
        detail, baseline_std_dev=None, duration_minutes=None, smart_monitor=None, deploy=None
    )
    assert listed == with_deploy
    assert detail.smart_monitor is not None
    assert unset(detail.smart_monitor) == []
    assert detail.smart_monitor.id == detail.smart_monitor_id
    assert detail.deploy is not None
    assert unset(detail.deploy) == []
    assert detail.deploy.id == detail.deploy_id


async def test_anomalies_over_14_days_have_no_duplicates(client: ScoutClient) -> None:
    events = await client.anomalies.list(APP, start=NOW - 29 * DAY, end=NOW)
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    recent = await client.anomalies.list(APP, start=NOW - 14 * DAY, end=NOW)
    assert {e.id for e in recent} <= set(ids)


# -- insights ----------------------------------------------------------------------------------


def assert_current(item: Insight, kind: str) -> None:
    assert unset(item, may_be_none={"trace"}) == []
    assert item.insight_type == kind
    assert item.fields
    assert "sql" in item.fields or "allocations" in item.fields
    assert item.trace is None


async def test_current_insights(client: ScoutClient) -> None:
    overview = await client.insights.list(APP, limit=2)
    assert overview.timeframe is not None
    assert unset(overview.timeframe) == []
    assert set(overview.groups) == set(scout_async.INSIGHT_TYPES)
    for kind, group in overview.groups.items():
        assert unset(group) == []
        assert group.insight_type == kind
        assert group.count is not None
        assert group.new_count is not None
        assert group.new_count <= group.count
        assert len(group.items) == min(2, group.count)
        for item in group.items:
            assert_current(item, kind)

    slow = await client.insights.get(APP, "slow_query", limit=5)
    assert unset(slow) == []
    assert slow.count == overview.groups["slow_query"].count
    assert len(slow.items) == min(5, slow.count or 0)
    assert slow.items[:2] == overview.groups["slow_query"].items
    for item in slow.items:
        assert_current(item, "slow_query")


@pytest.mark.parametrize("kind", [None, "n_plus_one"])
async def test_insights_history_through_every_page(
    client: ScoutClient, sim: ScoutSimulator, kind: str | None
) -> None:
    start = NOW - 14 * DAY
    paged = [
        i async for i in client.insights.history(APP, start=start, end=NOW, type=kind, limit=7)
    ]
    pages = requests_to(sim, "/insights/history" + (f"/{kind}" if kind else ""))
    assert len(pages) >= 2
    assert "pagination_cursor" not in pages[0]
    assert all(q["pagination_direction"] == "forward" for q in pages[1:])
    assert [q.get("pagination_page", "1") for q in pages] == [
        str(n) for n in range(1, len(pages) + 1)
    ]
    whole = [
        i async for i in client.insights.history(APP, start=start, end=NOW, type=kind, limit=500)
    ]
    assert paged == whole
    ids = [i.id for i in paged]
    assert len(ids) == len(set(ids)) > 7
    assert ids == sorted(ids, reverse=True)  # type: ignore[type-var]
    for item in paged:
        assert unset(item, may_be_none={"name", "new"}) == []  # not in a history item
        assert kind is None or item.insight_type == kind
        assert item.first_seen_at is not None
        assert start <= item.first_seen_at < NOW
        assert item.trace is not None
        assert item.trace.root_spans
        assert item.trace.metric_name == item.metric_name
    # A longer window is read as 14-day windows, newest first, without duplicates.
    longer = [
        i
        async for i in client.insights.history(
            APP, start=NOW - 20 * DAY, end=NOW, type=kind, limit=50
        )
    ]
    assert longer[: len(paged)] == paged
    assert len({i.id for i in longer}) == len(longer) > len(paged)


# -- usage -------------------------------------------------------------------------------------


async def test_usage(client: ScoutClient) -> None:
    usage = await client.usage.get()
    assert unset(usage) == []
    for part in (usage.billing_period, usage.apm, usage.nodes, usage.errors, usage.logs):
        assert unset(part) == []
    assert usage.billing_period == scout_async.types.BillingPeriod(
        start=datetime(2026, 7, 1, tzinfo=timezone.utc),
        end=datetime(2026, 8, 1, tzinfo=timezone.utc),
    )
    assert usage.pricing_style == "per node"
    assert usage.apm is not None
    assert 0 < (usage.apm.total_transactions or 0) < (usage.apm.limit or 0)
    assert usage.raw["apm"]["total_transactions"] == usage.apm.total_transactions
    assert set(usage.raw) == {"billing_period", "pricing_style", "apm", "nodes", "errors", "logs"}


# -- lookback limits: the client's agree with the simulator's ----------------------------------

Lister = Callable[[ScoutClient, datetime, bool], Awaitable[list[Any]]]


async def _endpoint_traces(client: ScoutClient, start: datetime, clamp: bool) -> list[Any]:
    return await client.traces.list(
        APP, endpoint_id=b64("users/show"), start=start, end=NOW, clamp=clamp
    )


async def _job_traces(client: ScoutClient, start: datetime, clamp: bool) -> list[Any]:
    job_id = b64("default/MailerJob")
    return await client.traces.list(APP, job_id=job_id, start=start, end=NOW, clamp=clamp)


async def _error_groups(client: ScoutClient, start: datetime, clamp: bool) -> list[Any]:
    return await client.errors.list(APP, start=start, end=NOW, clamp=clamp)


async def _anomalies(client: ScoutClient, start: datetime, clamp: bool) -> list[Any]:
    return await client.anomalies.list(APP, start=start, end=NOW, clamp=clamp)


LOOKBACKS = [
    pytest.param(_endpoint_traces, timedelta(days=7), "/traces", id="endpoint-traces"),
    pytest.param(_job_traces, timedelta(days=7), "/traces", id="job-traces"),
    pytest.param(_error_groups, timedelta(days=30), "/error_groups", id="error-groups"),
    pytest.param(_anomalies, timedelta(days=30), "/anomaly_events", id="anomalies"),
]


@pytest.mark.parametrize(("call", "lookback", "suffix"), LOOKBACKS)
async def test_lookback_at_the_limit_and_one_second_past(
    client: ScoutClient, sim: ScoutSimulator, call: Lister, lookback: timedelta, suffix: str
) -> None:
    earliest = NOW - lookback + MINUTE  # the client's limit (exactly `lookback` was refused)

    # At the limit: accepted by the client and by the simulator.
    await call(client, earliest, False)
    sent = requests_to(sim, suffix)
    assert sent
    assert min(q["from"] for q in sent) == iso(earliest)
    assert {r.status for r in sim.requests} == {200}

    # One second past it: refused before any request, or clamped to the limit.
    sim.requests.clear()
    with pytest.raises(ValueError, match="too old"):
        await call(client, earliest - SECOND, False)
    assert sim.requests == []
    clamped = await call(client, earliest - SECOND, True)
    assert clamped == await call(client, earliest, False)
    assert min(q["from"] for q in requests_to(sim, suffix)) == iso(earliest)
    assert {r.status for r in sim.requests} == {200}


async def test_windows_are_judged_in_whole_seconds_as_sent(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    """Times go out in whole seconds: a window the client takes must not reach Scout empty."""
    second = NOW - timedelta(hours=1)
    inside = (second + timedelta(milliseconds=200), second + timedelta(milliseconds=700))
    with pytest.raises(ValueError, match="same second"):
        await client.anomalies.list(APP, start=inside[0], end=inside[1])
    with pytest.raises(ValueError, match="same second"):
        client.insights.history(APP, start=inside[0], end=inside[1])
    # Clamped up to the limit, a window ending within the limit's second is empty too.
    earliest = NOW - 30 * DAY + MINUTE
    with pytest.raises(ValueError, match="too old, even clamped"):
        await client.errors.list(
            APP, start=NOW - 40 * DAY, end=earliest + timedelta(milliseconds=500), clamp=True
        )
    assert sim.requests == []
    # 14 days and half a second is sent as 14 days: one request, not one and an empty one.
    start = NOW - 20 * DAY
    await client.errors.list(APP, start=start, end=start + 14 * DAY + timedelta(milliseconds=500))
    assert [(q["from"], q["to"]) for q in requests_to(sim, "/error_groups")] == [
        (iso(start), iso(start + 14 * DAY))
    ]
    assert {r.status for r in sim.requests} == {200}


@pytest.mark.parametrize(
    ("path", "lookback"),
    [
        (f"/apps/{APP}/endpoints/{quote(b64('users/show'), safe='')}/traces", timedelta(days=7)),
        (f"/apps/{APP}/error_groups", timedelta(days=30)),
        (f"/apps/{APP}/anomaly_events", timedelta(days=30)),
    ],
)
async def test_the_simulators_own_limit_is_looser_than_the_clients(
    server: SimulatorServer, path: str, lookback: timedelta
) -> None:
    """The simulator refuses a `from` at exactly now - lookback, as Scout did, and takes a
    second later: every window the client sends (a minute inside) is one it accepts."""
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-SCOUT-API": DEFAULT_API_KEY}
    ) as http:
        codes = []
        for start in (NOW - lookback, NOW - lookback + SECOND):
            end = min(NOW, start + 14 * DAY)
            response = await http.get(path, params={"from": iso(start), "to": iso(end)})
            codes.append(response.status_code)
    assert codes == [422, 200]


# -- errors: unknown ids, a body-only 403 ------------------------------------------------------

START, END = NOW - DAY, NOW
Call = Callable[[ScoutClient], Awaitable[Any]]


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


NOT_FOUND: list[tuple[str, Call]] = [
    ("endpoints.list", lambda c: c.endpoints.list(999, start=START, end=END)),
    ("endpoints.iter", lambda c: _collect(c.endpoints.iter(999, start=START, end=END))),
    (
        "metrics.get(endpoint_id)",
        lambda c: c.metrics.get(APP, "apdex", endpoint_id=NOPE, start=START, end=END),
    ),
    (
        "metrics.stream(endpoint_id)",
        lambda c: _collect(c.metrics.stream(APP, "apdex", endpoint_id=NOPE, start=START, end=END)),
    ),
    (
        "traces.list(endpoint_id)",
        lambda c: c.traces.list(APP, endpoint_id=NOPE, start=START, end=END),
    ),
    ("traces.get", lambda c: c.traces.get(APP, 1)),
    ("jobs.list", lambda c: c.jobs.list(999, start=START, end=END)),
    ("metrics.list(job_id)", lambda c: c.metrics.list(999, job_id=NOPE)),
    (
        "metrics.get(job_id)",
        lambda c: c.metrics.get(999, "latency", job_id=NOPE, start=START, end=END),
    ),
    # A job id that names no job: "Job not found" (its metrics: an empty series, as on the
    # live API; tests/resources/test_live_quirks.py).
    ("traces.list(job_id)", lambda c: c.traces.list(APP, job_id=NOPE, start=START, end=END)),
    ("errors.list", lambda c: c.errors.list(999, start=START, end=END)),
    ("errors.get", lambda c: c.errors.get(APP, 1)),
    ("errors.list_errors", lambda c: c.errors.list_errors(APP, 1)),
    ("anomalies.list", lambda c: c.anomalies.list(999, start=START, end=END)),
    ("anomalies.get", lambda c: c.anomalies.get(APP, 1)),
    ("insights.list", lambda c: c.insights.list(999)),
    ("insights.get", lambda c: c.insights.get(999, "n_plus_one")),
    ("insights.history", lambda c: _collect(c.insights.history(999, start=START, end=END))),
]


@pytest.mark.parametrize(("name", "call"), NOT_FOUND, ids=[name for name, _ in NOT_FOUND])
async def test_unknown_ids_are_not_found(
    client: ScoutClient, sim: ScoutSimulator, name: str, call: Call
) -> None:
    with pytest.raises(scout_async.NotFoundError, match="404"):
        await call(client)
    assert {r.status for r in sim.requests} == {404}
    assert len(sim.requests) == 1  # a 404 is not retried


BODY_403: list[tuple[str, str, Call]] = [
    ("usage.get", "/usage", lambda c: c.usage.get()),
    ("endpoints.list", "/apps/*/endpoints", lambda c: c.endpoints.list(APP, start=START, end=END)),
    ("errors.get", "/apps/*/error_groups/*", lambda c: c.errors.get(APP, 1)),
    ("insights.list", "/apps/*/insights", lambda c: c.insights.list(APP)),
]


@pytest.mark.parametrize(("name", "path", "call"), BODY_403, ids=[n for n, _, _ in BODY_403])
async def test_a_403_in_the_body_only_is_an_authentication_error(
    client: ScoutClient, sim: ScoutSimulator, name: str, path: str, call: Call
) -> None:
    sim.add_fault(Fault(path=path, body_status=403))
    with pytest.raises(scout_async.AuthenticationError, match="403"):
        await call(client)
    assert [r.status for r in sim.requests] == [200]  # HTTP said OK; not retried
