"""Names from the server and paths from the user are printed as they are, never read as rich
markup: ``Shop [staging]`` keeps its brackets, and a name holding ``[/x]`` (a closing tag that
matches nothing) neither crashes the command nor loses text.

The simulator names its apps as told; for every other name (endpoints, jobs, traces, errors,
anomalies, insights, usage, and the server's error messages), ``Bracketing`` sits in front of it
and appends ``SUFFIX`` to the names in each answer.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result
from rich.console import Console
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scout_async import ScoutClient
from scout_async._cli import main
from scout_async._cli.progress import make_progress
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-markup-9b9b"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
DAY = ("--from", "2026-07-04T17:20:00Z", "--to", "2026-07-05T17:20:00Z")
WEEK = ("--from", "2026-06-29T00:00:00Z", "--to", "2026-07-05T17:20:00Z")
START, END = datetime(2026, 7, 4, 17, 20, tzinfo=UTC), datetime(2026, 7, 5, 17, 20, tzinfo=UTC)

#: Read as markup: a style tag rich drops, and a closing tag that matches nothing (MarkupError).
TAGS = ("[staging]", "[/x]")
SUFFIX = " [staging] [/x]"
APPS = [(101, "Shop [staging] [/x]"), (102, "Ops :smile: [bold]b[/bold]")]
# The fields of an answer that hold names and other free text.
NAMED = frozenset(
    {
        *("name", "full_name", "queue", "message", "uri", "request_uri", "metric_name"),
        *("location", "hostname", "git_sha", "endpoint", "pricing_style", "app_environment"),
    }
)


def _bracket(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: item + SUFFIX
            if key in NAMED and isinstance(item, str)
            else [line + SUFFIX for line in item]
            if key == "trace" and isinstance(item, list) and all(isinstance(x, str) for x in item)
            else _bracket(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_bracket(item) for item in value]
    return value


class Bracketing:
    """ASGI: the simulator's answers, with ``SUFFIX`` after every name in their results (the
    apps list excepted: the simulator names those) and after the message of an error."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        start: Message = {}
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            document = json.loads(b"".join(body))
            status = document["header"]["status"]
            if status["code"] >= 400:
                status["message"] += SUFFIX
            elif not scope["path"].endswith("/apps"):
                document["results"] = _bracket(document["results"])
            encoded = json.dumps(document).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(encoded)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": encoded})

        await self.inner(scope, receive, rewrite)


class BracketingSimulator(ScoutSimulator):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.app = Bracketing(self.app)  # type: ignore[assignment]


@pytest.fixture
def sim() -> BracketingSimulator:
    return BracketingSimulator(api_key=KEY, now=NOW, apps=APPS)


@pytest.fixture
def server(sim: BracketingSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


def run(server: SimulatorServer, *args: str) -> Result:
    """The command on a clock fixed at ``NOW`` (its lookback limits, its archive lines)."""
    return CliRunner().invoke(
        main,
        ["--url", server.url, *args],
        env={"SCOUT_API_KEY": KEY},
        catch_exceptions=False,
        obj=VirtualClock(wall=NOW),
    )


def shown(server: SimulatorServer, *args: str) -> str:
    """What the command printed as text (stdout, then stderr); it must have succeeded."""
    human = {"trace": "tree", "error": "text"}.get(args[0], "table")
    if args[0] in ("fetch", "backfill", "archive") or "--format" in args:
        result = run(server, *args)
    else:  # off a terminal the default is JSON: ask for the text form
        result = run(server, *args, "--format", human)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout + result.stderr


def listed(server: SimulatorServer, *args: str) -> Any:
    return json.loads(shown(server, *args, "--format", "json"))


def bracketed_path(tmp_path: Path, name: str) -> Path:
    """``tmp_path/[staging] [/x] name``: a closing tag needs a "/", so a directory ends in "["."""
    directory = tmp_path / "[staging] ["
    directory.mkdir()
    return directory / f"x] {name}"


def bracketed(text: str, times: int = 1) -> None:
    """Both tags in ``text``, at least ``times`` times each: rich kept every one."""
    for tag in TAGS:
        assert text.count(tag) >= times, text


def test_app_names(server: SimulatorServer) -> None:
    table = shown(server, "apps")
    for _, name in APPS:
        assert name in table
    assert "😄" not in table


def test_endpoints_jobs_and_traces(server: SimulatorServer) -> None:
    endpoints = listed(server, "endpoints", "101", *DAY)
    table = shown(server, "endpoints", "101", *DAY)
    for endpoint in endpoints:
        assert endpoint["name"].endswith(SUFFIX)
        assert endpoint["name"] in table

    jobs = listed(server, "jobs", "101", *DAY)
    table = shown(server, "jobs", "101", *DAY)
    assert all(job["full_name"] in table for job in jobs)

    traces = listed(server, "traces", "101", endpoints[0]["id"], *DAY)
    table = shown(server, "traces", "101", endpoints[0]["id"], *DAY)
    assert traces
    assert all(trace["uri"] in table for trace in traces)

    job_traces = listed(server, "traces", "101", "--job", jobs[0]["id"], *DAY)
    table = shown(server, "traces", "101", "--job", jobs[0]["id"], *DAY)
    assert job_traces
    bracketed(table, times=2 * len(job_traces))  # queue and job name

    tree = shown(server, "trace", "101", str(traces[0]["id"]))
    one = listed(server, "trace", "101", str(traces[0]["id"]))
    for field in ("metric_name", "uri", "hostname"):
        assert re.search(rf"\s{re.escape(one[field])} *\n", tree), field


def test_errors_anomalies_insights_and_usage(server: SimulatorServer) -> None:
    groups = listed(server, "errors", "101", *WEEK)
    assert groups
    bracketed(shown(server, "errors", "101", *WEEK), times=2 * len(groups))  # error, message
    detail = shown(server, "error", "101", str(groups[0]["id"]))
    group = listed(server, "error", "101", str(groups[0]["id"]))["error_group"]
    for field in ("name", "message", "app_environment"):
        assert re.search(rf"\s{re.escape(group[field])} *\n", detail), field
    bracketed(detail, times=6)  # and the backtrace and the recent errors

    events = listed(server, "anomalies", "102", *WEEK)
    table = shown(server, "anomalies", "102", *WEEK)
    assert all(e["endpoint"] is None or e["endpoint"] in table for e in events)
    assert any(e["endpoint"] is not None for e in events)

    bracketed(shown(server, "insights", "101"))
    bracketed(shown(server, "insights", "101", "--history", *WEEK))

    usage = listed(server, "usage")
    assert usage["pricing_style"] in shown(server, "usage")


def test_fetch_into_a_file_whose_name_has_brackets(server: SimulatorServer, tmp_path: Path) -> None:
    output = bracketed_path(tmp_path, "apdex.csv")
    said = shown(server, "fetch", "101", "apdex", *DAY, "-o", str(output))
    assert output.is_file()
    assert f"to {output}" in said


def test_backfill_summary(
    sim: BracketingSimulator, server: SimulatorServer, tmp_path: Path
) -> None:
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, times=None))
    output = bracketed_path(tmp_path, "points.jsonl")
    args = ("--max-retries", "0", "backfill", "--apps", "all", "--metrics", "apdex", *DAY)
    result = run(server, *args, "-o", str(output))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"output      {output} (jsonl)" in result.stdout
    assert f"checkpoint  {output}.state.json" in result.stdout
    assert "GET /apps/102/metrics/apdex" in result.stdout
    bracketed(result.stdout, times=3)  # the output, the checkpoint and the server's message


def test_archive_lines(sim: BracketingSimulator, server: SimulatorServer, tmp_path: Path) -> None:
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, times=None))
    db = bracketed_path(tmp_path, "archive.sqlite")
    args = ("--max-retries", "0", "archive", "--db", str(db), "--metrics", "apdex")
    result = run(server, *args, "--lookback", "1h", "--once")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    line = next(line for line in result.stdout.splitlines() if "catch-up" in line)
    assert "1 error: app 102 apdex: GET /apps/102/metrics/apdex: " in line
    bracketed(line)
    assert str(db) in result.stderr


def test_progress_bars_show_names_as_they_are() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with make_progress(Console(file=terminal, width=120), transient=False) as progress:
        progress.add_task("app 101 [staging] [/x]", total=3, unit="chunks [/x]")
    bracketed(terminal.getvalue())


def test_the_bracketing_server_sends_what_the_library_reads(server: SimulatorServer) -> None:
    async def names() -> list[str]:
        async with ScoutClient(
            api_key=KEY, base_url=server.url, clock=VirtualClock(wall=NOW)
        ) as client:
            return [e.name for e in await client.endpoints.list(101, start=START, end=END)]

    found = anyio.run(names)
    assert found
    assert all(name.endswith(SUFFIX) for name in found)
    assert timedelta(0) < END - START
