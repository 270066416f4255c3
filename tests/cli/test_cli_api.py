"""The API listing commands (``endpoints``, ``jobs``, ``traces``, ``trace``, ``errors``, ``error``,
``anomalies``, ``insights``, ``usage``) and ``fetch --endpoint/--job``, against the simulator.

The simulator's clock is fixed, and so is the command's: each run gets a clock fixed at ``NOW``
(click's ``obj``), the "now" of its lookback limits; the commands get explicit ISO windows, so
every answer is deterministic.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import anyio
import pytest
from click.testing import CliRunner, Result

from scout_async import ScoutClient
from scout_async.testing import ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-api-0c0c"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
DAY = ("--from", "2026-07-04T17:20:00Z", "--to", "2026-07-05T17:20:00Z")
WEEK = ("--from", "2026-06-29T00:00:00Z", "--to", "2026-07-05T17:20:00Z")
T = TypeVar("T")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


def run(server: SimulatorServer, *args: str) -> Result:
    result = CliRunner().invoke(
        main_command(),
        ["--url", server.url, *args],
        env={"SCOUT_API_KEY": KEY},
        obj=VirtualClock(wall=NOW),
    )
    assert KEY not in result.output
    return result


def main_command() -> Any:
    from scout_async._cli import main

    return main


def ok_json(server: SimulatorServer, *args: str) -> Any:
    result = run(server, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def ok_text(server: SimulatorServer, *args: str, fmt: str = "table") -> str:
    # Off a terminal the default is JSON: ask for the text form.
    result = run(server, *args, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout  # no colour codes off a terminal
    return result.stdout


def with_client(server: SimulatorServer, work: Callable[[ScoutClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with ScoutClient(
            api_key=KEY, base_url=server.url, clock=VirtualClock(wall=NOW)
        ) as client:
            return await work(client)

    return anyio.run(main)


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


START, END = at(DAY[1]), at(DAY[3])
WEEK_START = at(WEEK[1])


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("endpoints", ["--sort-by", "--limit", "--from", "--format", "traces"]),
        ("jobs", ["--from", "--format"]),
        ("traces", ["ENDPOINT_ID", "--job", "JOB_ID", "--clamp", "7 days"]),
        ("trace", ["TRACE_ID", "tree"]),
        ("errors", ["--endpoint", "--clamp", "30 days"]),
        ("error", ["ERROR_ID", "backtrace"]),
        ("anomalies", ["--state", "--metric", "--endpoint", "--clamp"]),
        ("insights", ["--type", "--history", "--limit", "n_plus_one"]),
        ("usage", ["billing period"]),
        ("fetch", ["--endpoint", "--job", "execution_time"]),
    ],
)
def test_help(command: str, phrases: list[str]) -> None:
    result = CliRunner().invoke(main_command(), [command, "--help"])
    assert result.exit_code == 0
    for phrase in phrases:
        assert phrase in result.stdout


# --- endpoints and jobs ---------------------------------------------------------------------------


def test_endpoints(server: SimulatorServer) -> None:
    expected = with_client(server, lambda c: c.endpoints.list(101, start=START, end=END))
    listed = ok_json(server, "endpoints", "101", *DAY)
    assert [e["name"] for e in listed] == [e.name for e in expected]
    assert [e["id"] for e in listed] == [e.id for e in expected]
    assert listed[0]["p95"] == expected[0].p95
    table = ok_text(server, "endpoints", "101", *DAY)
    for endpoint in expected:
        assert re.search(rf"{re.escape(endpoint.name)}\s+│\s+{re.escape(endpoint.id)}\s+│", table)


def test_endpoints_sorted_and_limited(server: SimulatorServer) -> None:
    listed = ok_json(server, "endpoints", "101", *DAY, "--sort-by", "throughput", "--limit", "3")
    assert len(listed) == 3
    throughputs = [e["throughput"] for e in listed]
    assert throughputs == sorted(throughputs, reverse=True)
    everything = ok_json(server, "endpoints", "101", *DAY, "--sort-by", "throughput")
    assert everything[:3] == listed
    assert len(everything) > 3


def test_endpoints_window_over_14_days(server: SimulatorServer) -> None:
    result = run(server, "endpoints", "101", "--from", "2026-06-01", "--to", "2026-07-01")
    assert result.exit_code == 2
    assert "at most 14 days" in result.stderr


def test_jobs(server: SimulatorServer) -> None:
    expected = with_client(server, lambda c: c.jobs.list(101, start=START, end=END))
    listed = ok_json(server, "jobs", "101", *DAY)
    assert [(j["full_name"], j["id"]) for j in listed] == [(j.full_name, j.id) for j in expected]
    table = ok_text(server, "jobs", "101", *DAY)
    assert all(job.full_name in table and job.id in table for job in expected)


# --- traces ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint_id(server: SimulatorServer) -> str:
    endpoints = with_client(server, lambda c: c.endpoints.list(101, start=START, end=END))
    return endpoints[0].id


def test_traces(server: SimulatorServer, endpoint_id: str) -> None:
    expected = with_client(
        server, lambda c: c.traces.list(101, endpoint_id=endpoint_id, start=START, end=END)
    )
    assert expected
    listed = ok_json(server, "traces", "101", endpoint_id, *DAY)
    assert [t["id"] for t in listed] == [t.id for t in expected]
    assert all(t["time"].endswith("Z") for t in listed)
    table = ok_text(server, "traces", "101", endpoint_id, *DAY)
    assert str(expected[0].id) in table
    assert expected[0].uri is not None
    assert expected[0].uri in table


def test_traces_lookback_and_clamp(server: SimulatorServer, endpoint_id: str) -> None:
    old = ("--from", "2026-06-20T00:00:00Z", "--to", DAY[3])
    refused = run(server, "traces", "101", endpoint_id, *old)
    assert refused.exit_code == 2
    line = refused.stderr.strip()
    assert line.startswith("error: start 2026-06-20T00:00:00Z is too old")
    assert "--clamp" in line
    assert "clamp=True" not in line
    clamped = ok_json(server, "traces", "101", endpoint_id, *old, "--clamp")
    assert min(at(t["time"]) for t in clamped) >= NOW - timedelta(days=7)


def test_traces_of_a_job(server: SimulatorServer) -> None:
    jobs = with_client(server, lambda c: c.jobs.list(101, start=START, end=END))
    job_id = jobs[0].id
    expected = with_client(
        server, lambda c: c.traces.list(101, job_id=job_id, start=START, end=END)
    )
    assert expected
    listed = ok_json(server, "traces", "101", "--job", job_id, *DAY)
    assert [t["id"] for t in listed] == [t.id for t in expected]
    assert [t["duration"] for t in listed] == [t.duration for t in expected]
    assert all(t["time"].endswith("Z") for t in listed)
    table = ok_text(server, "traces", "101", "--job", job_id, *DAY)
    assert re.search(r"id\s+.*time\s+.*duration ms\s+.*queue\s+.*job", table)
    first = expected[0]
    assert first.name is not None
    assert first.queue is not None
    row = next(line for line in table.splitlines() if str(first.id) in line)
    assert first.name in row
    assert first.queue in row

    old = ("--from", "2026-06-20T00:00:00Z", "--to", DAY[3])
    refused = run(server, "traces", "101", "--job", job_id, *old)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: start 2026-06-20T00:00:00Z is too old")
    assert "--clamp" in refused.stderr
    clamped = ok_json(server, "traces", "101", "--job", job_id, *old, "--clamp")
    assert min(at(t["time"]) for t in clamped) >= NOW - timedelta(days=7)

    unknown = run(server, "traces", "101", "--job", "bm8vc3VjaC9Kb2I=", *DAY)
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: GET /apps/101/jobs/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["traces", "101"], "Missing argument 'ENDPOINT_ID' (or --job JOB_ID"),
        (["traces", "101", "abc", "--job", "xyz"], "ENDPOINT_ID and --job exclude each other"),
    ],
)
def test_traces_take_an_endpoint_or_a_job(
    server: SimulatorServer, args: list[str], message: str
) -> None:
    before = len(server.simulator.requests)
    result = run(server, *args, *DAY)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert len(server.simulator.requests) == before  # refused before any request


def test_trace_tree_and_json(server: SimulatorServer, endpoint_id: str) -> None:
    summaries = with_client(
        server, lambda c: c.traces.list(101, endpoint_id=endpoint_id, start=START, end=END)
    )
    trace_id = summaries[0].id
    expected = with_client(server, lambda c: c.traces.get(101, trace_id))
    document = ok_json(server, "trace", "101", str(trace_id))
    assert document["id"] == trace_id
    assert [s["id"] for s in document["spans"]] == [s.id for s in expected.spans]
    assert "children" not in document["spans"][0]
    assert "root_spans" not in document

    tree = ok_text(server, "trace", "101", str(trace_id), fmt="tree")
    assert re.search(rf"trace\s+{trace_id}", tree)
    lines = tree.splitlines()

    def indent(operation: str) -> int:
        line = next(line for line in lines if re.search(rf"[└├]── {re.escape(operation)}  ", line))
        return line.index(operation)

    def walk(span: Any, depth: int) -> None:
        assert span.operation is not None
        assert indent(span.operation) == 4 * (depth + 1)  # one level of the tree: 4 columns
        for child in span.children:
            walk(child, depth + 1)

    for root in expected.root_spans:
        walk(root, 0)
    assert f"{len(expected.spans)} spans" in tree


def test_trace_not_found(server: SimulatorServer) -> None:
    result = run(server, "trace", "101", "999")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: GET /apps/101/traces/999: ")
    assert "404" in result.stderr


# --- errors and anomalies -------------------------------------------------------------------------


def test_errors_and_one_error(server: SimulatorServer) -> None:
    expected = with_client(server, lambda c: c.errors.list(101, start=WEEK_START, end=END))
    assert expected
    listed = ok_json(server, "errors", "101", *WEEK)
    assert [g["id"] for g in listed] == [g.id for g in expected]
    table = ok_text(server, "errors", "101", *WEEK)
    assert all(str(g.id) in table and (g.name or "") in table for g in expected)

    group_id = expected[0].id
    detail = with_client(server, lambda c: c.errors.get(101, group_id))
    recent = with_client(server, lambda c: c.errors.list_errors(101, group_id))
    document = ok_json(server, "error", "101", str(group_id))
    assert document["error_group"]["id"] == group_id
    assert [e["id"] for e in document["errors"]] == [e.id for e in recent]
    text = ok_text(server, "error", "101", str(group_id), fmt="text")
    assert detail.latest_error is not None
    assert detail.latest_error.trace
    assert detail.latest_error.trace[0] in text  # the backtrace
    assert "most recent errors" in text


def test_errors_of_one_endpoint(server: SimulatorServer) -> None:
    every = {g["id"] for g in ok_json(server, "errors", "101", *WEEK)}
    endpoints = with_client(server, lambda c: c.endpoints.list(101, start=START, end=END))
    for endpoint in endpoints[:3]:
        some = {g["id"] for g in ok_json(server, "errors", "101", *WEEK, "--endpoint", endpoint.id)}
        assert some <= every


def test_anomalies(server: SimulatorServer) -> None:
    expected = with_client(server, lambda c: c.anomalies.list(101, start=WEEK_START, end=END))
    assert expected
    listed = ok_json(server, "anomalies", "101", *WEEK)
    assert [e["id"] for e in listed] == [e.id for e in expected]
    table = ok_text(server, "anomalies", "101", *WEEK)
    assert all(str(e.id) in table for e in expected)
    opened = ok_json(server, "anomalies", "101", *WEEK, "--state", "open")
    assert all(e["ended_at"] is None for e in opened)
    assert {e["id"] for e in opened} <= {e["id"] for e in listed}


# --- insights and usage ---------------------------------------------------------------------------


def test_insights_current(server: SimulatorServer) -> None:
    overview = with_client(server, lambda c: c.insights.list(101, limit=3))
    document = ok_json(server, "insights", "101", "--limit", "3")
    assert set(document["groups"]) == set(overview.groups)
    text = ok_text(server, "insights", "101", "--limit", "3")
    for kind, group in overview.groups.items():
        assert f"{kind}: {group.count}" in text
        assert all((item.name or item.metric_name or "") in text for item in group.items)
    one = ok_json(server, "insights", "101", "--type", "slow_query", "--limit", "2")
    assert one["insight_type"] == "slow_query"
    assert len(one["items"]) <= 2


def test_insights_history(server: SimulatorServer) -> None:
    listed = ok_json(server, "insights", "101", "--history", *WEEK, "--limit", "5")
    assert 0 < len(listed) <= 5
    times = [at(i["first_seen_at"]) for i in listed]
    assert times == sorted(times, reverse=True)
    assert all(WEEK_START <= t < END for t in times)
    table = ok_text(server, "insights", "101", "--history", *WEEK, "--limit", "5")
    assert all(str(i["trace"]["id"]) in table for i in listed if i["trace"])
    refused = run(server, "insights", "101", "--from", "7d")
    assert refused.exit_code == 2
    assert "add --history" in refused.stderr


def test_usage(server: SimulatorServer) -> None:
    expected = with_client(server, lambda c: c.usage.get())
    document = ok_json(server, "usage")
    assert document.get("pricing_style") == expected.pricing_style
    assert "raw" not in document
    text = ok_text(server, "usage")
    assert "pricing" in text
    if expected.billing_period is not None and expected.billing_period.start is not None:
        assert expected.billing_period.start.strftime("%Y-%m-%dT%H:%M:%SZ") in text
    if expected.apm is not None and expected.apm.total_transactions is not None:
        assert f"{expected.apm.total_transactions:,}" in text


# --- fetch of an endpoint's or a job's series -----------------------------------------------------


def test_fetch_an_endpoint_series(server: SimulatorServer, endpoint_id: str) -> None:
    window = ("--from", "2026-07-05T12:00:00Z", "--to", "2026-07-05T14:00:00Z")
    result = run(
        server,
        "fetch",
        "101",
        "response_time",
        "--endpoint",
        endpoint_id,
        *window,
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    times = [at(r[0]) for r in rows]
    assert len(times) == 60  # two hours in the 2 min band
    assert all(b - a == timedelta(minutes=2) for a, b in itertools.pairwise(times))
    expected = with_client(
        server,
        lambda c: c.metrics.get(
            101, "response_time", start=at(window[1]), end=at(window[3]), endpoint_id=endpoint_id
        ),
    )
    assert [float(r[1]) for r in rows] == [p.value for p in expected.points]
    document = json.loads(
        run(
            server,
            "fetch",
            "101",
            "throughput",
            "--endpoint",
            endpoint_id,
            *window,
            "--format",
            "json",
        ).stdout
    )
    assert document["endpoint_id"] == endpoint_id
    table = run(
        server, "fetch", "101", "apdex", "--endpoint", endpoint_id, *window, "--format", "table"
    )
    assert f"app 101 · endpoint {endpoint_id} · apdex · step 2m" in table.stdout


def test_fetch_a_job_series(server: SimulatorServer) -> None:
    jobs = with_client(server, lambda c: c.jobs.list(101, start=START, end=END))
    job_id = jobs[0].id
    document = json.loads(
        run(
            server,
            "fetch",
            "101",
            "execution_time",
            "--job",
            job_id,
            *DAY,
            "--resolution",
            "1h",
            "--format",
            "json",
        ).stdout
    )
    assert document["job_id"] == job_id
    assert document["metric"] == "execution_time"
    assert document["step"] == "1h"
    expected = with_client(
        server,
        lambda c: c.metrics.get(
            101, "execution_time", start=START, end=END, resolution="1h", job_id=job_id
        ),
    )
    assert [p["value"] for p in document["points"]] == [p.value for p in expected.points]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fetch", "101", "latency", "--from", "1h"],
            "'latency' is not a metric of an app or endpoint",
        ),
        (
            ["fetch", "101", "apdex", "--job", "x", "--from", "1h"],
            "'apdex' is not a metric of a job",
        ),
        (
            ["fetch", "101", "apdex", "--job", "x", "--endpoint", "y", "--from", "1h"],
            "exclude each other",
        ),
    ],
)
def test_fetch_scope_usage_errors(server: SimulatorServer, args: list[str], message: str) -> None:
    result = run(server, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
