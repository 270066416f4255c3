"""The ``scout-async`` command line, through its entry point, against the simulator over HTTP."""

from __future__ import annotations

import builtins
import csv
import importlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from scout_async import APP_METRICS, App, ArgumentError, plan_range
from scout_async._cli import main
from scout_async._cli.progress import ChunkCounter, make_progress
from scout_async._cli.render import BLOCKS, sparkline
from scout_async._resources.apps import Apps
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-4f1c9e7a2b"  # distinctive: any appearance in the output is a leak
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)  # the simulator's clock
# Two days at 5 min: four requests (the 5 min band ends at 12 h), 576 buckets.
WINDOW = ("--from", "2026-07-01T00:00:00Z", "--to", "2026-07-03T00:00:00Z", "--resolution", "5m")
WINDOW_START = datetime(2026, 7, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
EXPECTED = [WINDOW_START + i * STEP for i in range(576)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    """One simulator for the tests that add no faults."""
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


@pytest.fixture
def sim() -> ScoutSimulator:
    """A fresh simulator for a test that scripts faults."""
    return ScoutSimulator(api_key=KEY, now=NOW)


@pytest.fixture
def own_server(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def against(server: SimulatorServer, *args: str, key: str = KEY) -> Result:
    return cli("--url", server.url, *args, env={"SCOUT_API_KEY": key})


def one_error_line(result: Result) -> str:
    """The single ``error: ...`` line of a failed command; nothing on stdout, no traceback."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return lines[0]


def times_of(text_times: list[str]) -> list[datetime]:
    return [datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for t in text_times]


# --- help -----------------------------------------------------------------------------------------


COMMANDS = [
    *("apps", "metrics", "fetch", "backfill", "archive", "endpoints", "jobs", "traces", "trace"),
    *("errors", "error", "anomalies", "insights", "usage", "demo"),
]


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ((), [*COMMANDS, "SCOUT_API_KEY", "SCOUT_API_URL", "--auth"]),
        (("apps",), ["--format"]),
        (("metrics",), ["APP"]),
        (("fetch",), ["--from", "--to", "30d", "UTC", "--resolution", "jsonl", "--output"]),
        (("demo",), ["--days", "--resolution", "--apps", "--output-dir", "simulator"]),
    ],
)
def test_help(command: tuple[str, ...], phrases: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    for phrase in phrases:
        assert phrase in result.stdout


# --- usage errors ---------------------------------------------------------------------------------

USAGE_ERRORS = [
    (["fetch", "101", "response_time"], "Missing option '--from'"),
    (["fetch", "101", "latency", "--from", "1h"], "'latency' is not a metric of an app"),
    (["fetch", "101", "bogus", "--from", "1h"], "'bogus' is not one of"),
    (["fetch", "abc", "apdex", "--from", "1h"], "'abc' is not a valid integer"),
    (["fetch", "101", "apdex", "--from", "yesterday"], "cannot read 'yesterday' as a time"),
    (["fetch", "101", "apdex", "--from", "1h", "--resolution", "7m"], "7m is not a step"),
    (["fetch", "101", "apdex", "--from", "1h", "--to", "2h"], "the window is empty"),
    (["fetch", "101", "apdex", "--from", "1h", "--format", "xml"], "'xml' is not one of"),
    (["--concurrency", "0", "apps"], "--concurrency"),
    (["--auth", "cookie", "apps"], "'cookie' is not one of"),
    (["--url", "ftp://scout.example", "apps"], "base_url must be an http(s) URL"),
    (["bogus"], "No such command 'bogus'"),
    (["demo", "--days", "31"], "--days"),
    (["demo", "--apps", "101,x"], "'x' is not an app id"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = cli(*args, env={"SCOUT_API_KEY": KEY, "SCOUT_API_URL": "http://127.0.0.1:9/api/v0"})
    assert result.exit_code == 2
    assert message in one_error_line(result)


OUT_OF_RANGE = [
    (["fetch", "101", "apdex", "--from", "99999999999d"], "'99999999999d' is too long"),
    (["archive", "--db", "a.sqlite", "--every", "99999999999d"], "'99999999999d' is too long"),
    (["traces", "101", "--job", "x", "--to", "99999999999w"], "'99999999999w' is too long"),
    (["fetch", "101", "apdex", "--from", "3000000d"], "'3000000d' reaches back before the year 1"),
    (["endpoints", "101", "--from", "3000000d"], "'3000000d' reaches back before the year 1"),
    (
        ["fetch", "101", "apdex", "--from", "0001-01-01T00:00:00+01:00"],
        "'0001-01-01T00:00:00+01:00' is outside the years 1 to 9999 in UTC",
    ),
    # Aligned to its step, the window starts before the year 1: refused, whichever part says so.
    (
        [
            *("fetch", "101", "apdex", "--resolution", "5m"),
            *("--from", "0001-01-01T00:00:00", "--to", "0001-01-01T00:05:00"),
        ],
        "",
    ),
]


@pytest.mark.parametrize(("args", "message"), OUT_OF_RANGE)
def test_times_out_of_range_are_usage_errors(args: list[str], message: str) -> None:
    result = cli(*args, env={"SCOUT_API_KEY": KEY, "SCOUT_API_URL": "http://127.0.0.1:9/api/v0"})
    assert result.exit_code == 2, result.output
    assert message in one_error_line(result)


@pytest.mark.parametrize("grouped", [False, True])
def test_arithmetic_errors_from_the_library_are_usage_errors(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch, grouped: bool
) -> None:
    overflow = OverflowError("date value out of range")
    # On 3.10 anyio's task groups raise the exceptiongroup backport's class.
    group: Callable[[str, list[Exception]], Exception] = (
        getattr(builtins, "ExceptionGroup", None)
        or importlib.import_module("exceptiongroup").ExceptionGroup
    )
    error = group("a task group", [overflow]) if grouped else overflow

    async def fails(self: Apps) -> list[App]:
        raise error

    monkeypatch.setattr(Apps, "list", fails)
    result = against(server, "apps")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("error: a time or duration is out of range (date value out of range)")


def test_an_argument_the_library_refuses_is_a_usage_error(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuses(self: Apps) -> list[App]:
        raise ArgumentError(f"no such argument (the key is {KEY})")

    monkeypatch.setattr(Apps, "list", refuses)
    result = against(server, "apps")
    assert result.exit_code == 2
    assert one_error_line(result) == "error: no such argument (the key is ***)"


def test_any_other_value_error_is_a_bug_not_a_usage_error(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def breaks(self: Apps) -> list[App]:
        raise ValueError("a bug")

    monkeypatch.setattr(Apps, "list", breaks)
    result = against(server, "apps")
    assert result.exit_code == 1  # not 2: the user typed nothing wrong
    line = one_error_line(result)
    assert "unexpected error (ValueError: a bug)" in line
    assert "please report it" in line


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged_with_vv(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def breaks(self: Apps) -> list[App]:
        raise MemoryError

    monkeypatch.setattr(Apps, "list", breaks)
    quiet = against(server, "apps")
    assert quiet.exit_code == 1
    assert one_error_line(quiet) == (
        "error: unexpected error (MemoryError); please report it with the command that caused "
        "it (-vv shows the traceback)"
    )
    loud = against(server, "-vv", "apps")
    assert loud.exit_code == 1
    assert "Traceback" in loud.stderr
    assert KEY not in loud.stderr


@pytest.mark.parametrize(
    "command", [["apps"], ["metrics", "101"], ["fetch", "101", "apdex", "--from", "1h"]]
)
def test_missing_key_names_the_option_and_the_variable(command: list[str]) -> None:
    result = cli(*command, env={"SCOUT_API_KEY": ""})
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--api-key" in line
    assert "SCOUT_API_KEY" in line


# --- apps and metrics -----------------------------------------------------------------------------


def test_apps_table_and_json(server: SimulatorServer) -> None:
    table = against(server, "apps", "--format", "table")
    assert table.exit_code == 0
    assert "Storefront Production" in table.stdout
    listed = json.loads(against(server, "apps", "--format", "json").stdout)
    assert [app["id"] for app in listed] == [101, 102, 103, 104, 105]
    assert all(app["last_reported_at"].endswith("Z") for app in listed)


def test_metrics(server: SimulatorServer) -> None:
    result = against(server, "metrics", "101", "--format", "text")  # JSON off a terminal
    assert result.exit_code == 0
    assert result.stdout.split() == [
        "apdex",
        "response_time",
        "response_time_95th",
        "errors",
        "throughput",
        "queue_time",
    ]
    assert json.loads(against(server, "metrics", "101", "--format", "json").stdout)[0] == "apdex"


# --- fetch: every format --------------------------------------------------------------------------


def check_points(times: list[datetime], values: list[float | None]) -> None:
    """On the 5 min grid, strictly increasing, every bucket of the window exactly once."""
    assert times == EXPECTED
    assert all(isinstance(v, float) for v in values)


def test_fetch_jsonl(server: SimulatorServer) -> None:
    result = against(server, "fetch", "101", "response_time", *WINDOW, "--format", "jsonl")
    assert result.exit_code == 0
    assert result.stderr == ""  # no progress bar without a terminal
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(row) == {"time", "value"} for row in rows)
    check_points(times_of([r["time"] for r in rows]), [r["value"] for r in rows])


def test_fetch_jsonl_is_the_default_off_a_terminal(server: SimulatorServer) -> None:
    default = against(server, "fetch", "101", "response_time", *WINDOW)
    explicit = against(server, "fetch", "101", "response_time", *WINDOW, "--format", "jsonl")
    assert default.stdout == explicit.stdout


def test_fetch_csv(server: SimulatorServer) -> None:
    result = against(server, "fetch", "101", "throughput", *WINDOW, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["time", "value"]
    check_points(times_of([r[0] for r in rows[1:]]), [float(r[1]) for r in rows[1:]])


def test_fetch_json(server: SimulatorServer) -> None:
    result = against(server, "fetch", "101", "apdex", *WINDOW, "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["app_id"] == 101
    assert document["metric"] == "apdex"
    assert document["step"] == "5m"
    assert document["step_seconds"] == 300
    points = document["points"]
    check_points(times_of([p["time"] for p in points]), [p["value"] for p in points])
    assert all(0 <= p["value"] <= 1 for p in points)


def test_fetch_json_of_an_empty_window_is_valid(server: SimulatorServer) -> None:
    # Past the simulator's 30 days of retention: no points, still one valid document.
    old = ("--from", "2026-01-01", "--to", "2026-01-02")
    result = against(server, "fetch", "101", "apdex", *old, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["points"] == []
    assert "no points" in result.stderr


def test_fetch_table(server: SimulatorServer) -> None:
    result = against(server, "fetch", "101", "response_time", *WINDOW, "--format", "table")
    assert result.exit_code == 0
    out = result.stdout
    assert "app 101 · response_time · step 5m" in out
    assert re.search(r"points\s+576\b", out)
    assert re.search(r"first\s+2026-07-01T00:00:00Z", out)
    assert re.search(r"last\s+2026-07-02T23:55:00Z", out)
    assert re.search(r"min/mean/max\s+[\d.]+ / [\d.]+ / [\d.]+", out)
    spark = re.search(r"trend\s+(\S+)", out)
    assert spark is not None
    assert len(spark.group(1)) == 60
    assert set(spark.group(1)) <= set(BLOCKS)
    # Head and tail of the points, not all 576.
    assert "2026-07-01T00:45:00Z" in out
    assert "2026-07-01T00:50:00Z" not in out
    assert "… 556 more" in out
    assert "2026-07-02T23:10:00Z" in out


def test_fetch_relative_times(server: SimulatorServer) -> None:
    # The CLI reads the real clock: the simulator's data is a pure function of time, so a window
    # relative to the real now works, and its bounds are checked against the clock around the run.
    sim = ScoutSimulator(api_key=KEY)  # real clock too
    with SimulatorServer(sim) as live:
        before = datetime.now(UTC)
        result = against(live, "fetch", "101", "throughput", "--from", "2h", "--to", "now")
        after = datetime.now(UTC)
    assert result.exit_code == 0
    times = times_of([json.loads(line)["time"] for line in result.stdout.splitlines()])
    step = timedelta(minutes=2)  # a 2 h window is in the 2 min band
    assert all(b - a == step for a, b in itertools.pairwise(times))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def floor(t: datetime) -> datetime:
        return t - (t - epoch) % step

    assert floor(before - timedelta(hours=2)) <= times[0] <= floor(after - timedelta(hours=2))
    # The last bucket is the last closed one: it ended the lateness (2 min) before the clock.
    lateness = timedelta(minutes=2)
    assert floor(before - lateness) - step <= times[-1] <= floor(after - lateness) - step


def test_fetch_relative_window_in_the_past(server: SimulatorServer) -> None:
    sim = ScoutSimulator(api_key=KEY)
    with SimulatorServer(sim) as live:
        before = datetime.now(UTC)
        result = against(
            live, "fetch", "101", "apdex", "--from", "90m", "--to", "30m", "--resolution", "1m"
        )
    times = times_of([json.loads(line)["time"] for line in result.stdout.splitlines()])
    assert len(times) in (60, 61)  # one hour at 1 min; 61 if the ends are off the minute grid
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))
    assert times[-1] < before - timedelta(minutes=29)


# --- --output -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"), [("out.csv", "csv"), ("out.json", "json"), ("out.txt", "jsonl")]
)
def test_output_file_format_from_its_suffix(
    server: SimulatorServer, tmp_path: Path, name: str, fmt: str
) -> None:
    target = tmp_path / name
    result = against(server, "fetch", "101", "errors", *WINDOW, "--output", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"wrote 576 points (5m step, {fmt}) to {target}" in result.stderr
    text = target.read_text()
    if fmt == "csv":
        assert text.startswith("time,value\n2026-07-01T00:00:00Z,")
        assert len(text.splitlines()) == 577
    elif fmt == "json":
        assert len(json.loads(text)["points"]) == 576
    else:
        assert len(text.splitlines()) == 576
    assert os.listdir(tmp_path) == [name]  # no partial file left over


def test_output_table_to_a_file_has_no_colour_codes(
    server: SimulatorServer, tmp_path: Path
) -> None:
    target = tmp_path / "table.txt"
    result = against(
        server, "fetch", "101", "errors", *WINDOW, "-o", str(target), "--format", "table"
    )
    assert result.exit_code == 0
    assert "step 5m" in target.read_text()
    assert "\x1b[" not in target.read_text()


def test_output_is_not_created_when_the_fetch_fails(
    sim: ScoutSimulator, own_server: SimulatorServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    sim.add_fault(Fault(path="/apps/101/metrics/*", status=500, skip=2, times=None))
    result = cli(
        "--url", own_server.url, "--max-retries", "0",
        "fetch", "101", "errors", *WINDOW, "-o", str(target),
        env={"SCOUT_API_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "500" in one_error_line(result)
    assert os.listdir(tmp_path) == []


def test_output_into_a_missing_directory(server: SimulatorServer, tmp_path: Path) -> None:
    result = against(
        server, "fetch", "101", "errors", *WINDOW, "-o", str(tmp_path / "no" / "x.csv")
    )
    assert result.exit_code == 1
    assert "no such directory" in one_error_line(result)


# --- API errors -----------------------------------------------------------------------------------


def test_wrong_key_is_one_clear_line(server: SimulatorServer) -> None:
    result = against(server, "fetch", "101", "apdex", *WINDOW, key="sk-wrong-0000")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "refused the API key" in line
    assert "403" in line
    assert "--api-key" in line
    assert "sk-wrong-0000" not in line


def test_unknown_app(server: SimulatorServer) -> None:
    result = against(server, "fetch", "999", "apdex", *WINDOW)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "404" in line
    assert "resume" not in line  # nothing was written, so there is nothing to resume


def test_server_errors_after_the_retries(sim: ScoutSimulator, own_server: SimulatorServer) -> None:
    sim.add_fault(Fault(path="/apps", status=503, times=None))
    result = cli("--url", own_server.url, "--max-retries", "1", "apps", env={"SCOUT_API_KEY": KEY})
    assert result.exit_code == 1
    assert "GET /apps: 503" in one_error_line(result)
    assert len(sim.requests) == 2


def test_transient_server_errors_are_retried(
    sim: ScoutSimulator, own_server: SimulatorServer
) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", status=502, skip=1))
    sim.add_fault(Fault(path="/apps/101/metrics/*", drop=True, skip=2))
    result = cli(
        "--url", own_server.url, "-v", "fetch", "101", "apdex", *WINDOW, "--format", "csv",
        env={"SCOUT_API_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    check_points(times_of([r[0] for r in rows]), [float(r[1]) for r in rows])
    assert result.stderr.count("retry 1 of 3") == 2  # -v logs the retries


def test_a_failure_mid_series_says_where_to_resume(
    sim: ScoutSimulator, own_server: SimulatorServer
) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", status=404, skip=2, times=None))
    result = cli(
        "--url", own_server.url, "--concurrency", "1",
        "fetch", "101", "apdex", *WINDOW, "--format", "jsonl",
        env={"SCOUT_API_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "resume there" in result.stderr
    assert len(result.stdout.splitlines()) == 288  # the first two chunks went out


# --- the key never shows --------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["header", "query", "body"])
def test_no_key_in_any_output(sim: ScoutSimulator, own_server: SimulatorServer, auth: str) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/*", status=503, times=1))
    sim.add_fault(Fault(path="/apps/102/metrics/*", status=500, times=None))
    runs = [
        ("--auth", auth, "-vv", "fetch", "101", "apdex", *WINDOW),
        ("--auth", auth, "-vv", "--api-key", KEY, "apps"),
        ("--auth", auth, "-vv", "--max-retries", "1", "fetch", "102", "apdex", *WINDOW),
        ("--auth", auth, "-vv", "fetch", "999", "apdex", *WINDOW),
    ]
    for args in runs:
        result = cli("--url", own_server.url, *args, env={"SCOUT_API_KEY": KEY})
        assert KEY not in result.stdout
        assert KEY not in result.stderr
    # A wrong key is a secret too.
    wrong = "sk-WRONG-9d8c7b6a5f"
    result = cli("--url", own_server.url, "--auth", auth, "-vv", "--api-key", wrong, "apps")
    assert result.exit_code == 1
    assert wrong not in result.output
    assert {r.auth_mode for r in sim.requests} == {auth}


# --- demo -----------------------------------------------------------------------------------------


def test_demo_end_to_end(tmp_path: Path) -> None:
    out_dir = tmp_path / "demo"
    started = datetime.now(UTC)
    result = cli("demo", "--days", "1", "--resolution", "30m", "--output-dir", str(out_dir))
    finished = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    files = sorted(out_dir.iterdir())
    assert [f.name for f in files] == sorted(
        f"{app}-{metric}.jsonl" for app in range(101, 106) for metric in APP_METRICS
    )
    total = 0
    step = timedelta(minutes=30)
    for path in files:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        app, metric = path.stem.split("-", 1)
        assert {(row["app_id"], row["metric"]) for row in rows} == {(int(app), metric)}
        times = times_of([row["time"] for row in rows])
        assert all(b - a == step for a, b in itertools.pairwise(times))  # no gaps
        assert started - timedelta(days=1, minutes=30) <= times[0] <= finished - timedelta(days=1)
        # The last bucket is the last closed one: it ended the lateness (2 min) before the clock.
        lateness = timedelta(minutes=2)
        assert started - lateness - 2 * step <= times[-1] <= finished - lateness - step
        total += len(times)
    summary = result.stdout
    assert f"Done: 30 series, {total:,} points" in summary
    # 1 apps list + 5 metric lists + 30 series of one request + 4 retried faults.
    assert "requests  40 sent, 4 retried (1 after a 429)" in summary
    assert f"{out_dir}/ (30 JSONL files" in summary
    assert "Started the Scout API simulator at http://127.0.0.1:" in result.stderr


def test_demo_of_some_apps_and_metrics(tmp_path: Path) -> None:
    result = cli(
        "--concurrency", "2", "demo", "--days", "1", "--apps", "103", "--metrics", "apdex,errors",
        "--faults", "0", "--output-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["103-apdex.jsonl", "103-errors.jsonl"]
    assert "0 retried" in result.stdout


def test_demo_rejects_an_app_the_simulator_lacks(tmp_path: Path) -> None:
    result = cli("demo", "--days", "1", "--apps", "999", "--output-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "no app 999" in one_error_line(result)


# --- a real process -------------------------------------------------------------------------------


def run_module(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scout_async", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
        check=False,
    )


def test_python_dash_m(server: SimulatorServer) -> None:
    ok = run_module(
        "fetch", "101", "queue_time", *WINDOW, "--format", "csv",
        env={"SCOUT_API_KEY": KEY, "SCOUT_API_URL": server.url},
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""
    rows = list(csv.reader(io.StringIO(ok.stdout)))
    assert len(rows) == 577
    refused = run_module("--url", server.url, "apps", env={"SCOUT_API_KEY": "sk-nope"})
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the server refused the API key")
    assert len(refused.stderr.splitlines()) == 1
    usage = run_module("fetch", "101", env={"SCOUT_API_KEY": KEY})
    assert usage.returncode == 2
    assert usage.stderr.startswith("error: Missing argument 'METRIC'. Choose from: apdex, ")
    assert usage.stderr.endswith(" (see 'scout-async fetch --help')\n")


# --- pieces: sparkline, chunk counting, progress --------------------------------------------------


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ([], ""),
        ([5.0], "▄"),
        ([2.0, 2.0, 2.0], "▄▄▄"),
        ([0.0, 7.0], "▁█"),
        ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], BLOCKS),
        ([1.0, None, 3.0], "▁ █"),
        ([None, None], "  "),
        ([-10.0, 0.0, 10.0], "▁▅█"),
    ],
)
def test_sparkline(values: list[float | None], line: str) -> None:
    assert sparkline(values) == line


def test_chunk_counter() -> None:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    chunks = plan_range(start, start + timedelta(days=2), "5m")  # 4 chunks of 12 h
    counter = ChunkCounter(chunks)
    assert counter.total == 4
    assert counter.passed(start) == 0
    assert counter.passed(start + timedelta(hours=11, minutes=55)) == 0
    assert counter.passed(start + timedelta(hours=12)) == 1
    assert counter.passed(start + timedelta(hours=40)) == 2  # a chunk with no points still counts
    assert counter.finish() == 1
    assert counter.finish() == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", [False, True])
def test_progress_only_on_a_terminal_and_colour_only_without_no_color(
    monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    terminal = _Terminal()
    with make_progress(Console(file=terminal, width=80), transient=False) as progress:
        progress.add_task("series", total=3, unit="series")
    assert "series" in terminal.getvalue()
    colours = re.findall(r"\x1b\[[0-9;]*m", terminal.getvalue())
    assert bool(colours) is not no_color

    pipe = io.StringIO()
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich would call a pipe a terminal: bars stay off
    with make_progress(Console(file=pipe), transient=False) as progress:
        progress.add_task("series", total=3, unit="series")
    assert pipe.getvalue() == ""
