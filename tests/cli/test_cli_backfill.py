"""``scout-async backfill`` through its entry point, against the simulator over localhost HTTP."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console
from rich.progress import Progress

from scout_async import Progress as Snapshot
from scout_async._cli import main
from scout_async._cli.progress import BackfillBars
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-backfill-77aa"  # distinctive: any appearance in the output is a leak
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
# Two days at 5 min: four chunks of 12 h per series, 576 buckets.
START, END = "2026-07-01T00:00:00Z", "2026-07-03T00:00:00Z"
WINDOW = ("--from", START, "--to", END, "--resolution", "5m")
SELECTION = ("--apps", "101,102", "--metrics", "throughput,apdex")
STEP = timedelta(minutes=5)
GRID = [
    (datetime(2026, 7, 1, tzinfo=UTC) + i * STEP).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(576)
]
SERIES = [(app, metric) for app in (101, 102) for metric in ("apdex", "throughput")]
EXPECTED = Counter((app, metric, time) for app, metric in SERIES for time in GRID)
ROOT = Path(__file__).resolve().parents[2]

Row = tuple[int, str, str, float | None]

OUTPUTS = {
    "sqlite": "out.sqlite",
    "jsonl": "out.jsonl",
    "csv": "out.csv",
    "parquet": "out.parquet",
    "directory": "out",
}
STATE_FILES = {
    "sqlite": "out.sqlite.state.json",
    "jsonl": "out.jsonl.state.json",
    "csv": "out.csv.state.json",
    "parquet": "out.parquet.state.json",
    "directory": "out/.scout-backfill.json",
}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=NOW)


@pytest.fixture
def own_server(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"SCOUT_API_KEY": KEY}, catch_exceptions=False)


def one_error_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def read_rows(path: Path) -> list[Row]:
    """Every row of a backfill's output, parsed by its own format."""
    if path.suffix == ".sqlite":
        with contextlib.closing(sqlite3.connect(path)) as db:
            return list(db.execute("SELECT app_id, metric, time, value FROM points"))
    if path.suffix == ".csv":
        lines = list(csv.reader(io.StringIO(path.read_text())))
        assert lines[0] == ["app_id", "metric", "time", "value"]
        return [(int(a), m, t, None if v == "" else float(v)) for a, m, t, v in lines[1:]]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pylist()

        def text(time: object) -> str:  # a timestamp column, or ISO text in older datasets
            return time.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(time, datetime) else str(time)

        return [(r["app_id"], r["metric"], text(r["time"]), r["value"]) for r in table]
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    rows: list[Row] = []
    for file in files:
        for line in file.read_text().splitlines():
            item = json.loads(line)
            assert list(item) == ["app_id", "metric", "time", "value"]
            rows.append((item["app_id"], item["metric"], item["time"], item["value"]))
    return rows


def check_complete(rows: list[Row]) -> None:
    """Every grid bucket of every series exactly once, and nothing else."""
    assert Counter((a, m, t) for a, m, t, _ in rows) == EXPECTED
    assert all(isinstance(v, float) for *_, v in rows)


def resume_args(result: Result) -> list[str]:
    """The command the error line says resumes the job, as arguments after ``scout-async``."""
    line = result.stderr.splitlines()[-1]  # after any -v log lines
    assert line.startswith("error: ")
    assert "Resume with: scout-async " in line
    words = shlex.split(line.split("Resume with: ", 1)[1])
    assert words[0] == "scout-async"
    assert words[-1] == "--resume"
    return words[1:]


# --- help and usage -------------------------------------------------------------------------------


def test_help() -> None:
    result = cli("backfill", "--help")
    assert result.exit_code == 0
    for phrase in ("--apps", "--metrics", "--from", "--resume", "--checkpoint", "Examples:", "30d"):
        assert phrase in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.sqlite"], "Missing option '--from'"),
        (["--from", "1d", "-o", "x.txt"], "cannot tell which sink"),
        (["--from", "1d", "-o", "x.sqlite", "--apps", "101,x"], "'x' is not an app id"),
        (["--from", "1d", "-o", "x.sqlite", "--metrics", "latency"], "unknown 'latency'"),
        (["--from", "1d", "--to", "2d", "-o", "x.sqlite"], "the window is empty"),
        (["--from", "1d", "-o", "x.sqlite", "--resolution", "7m"], "7m is not a step"),
        (["-o", "x.sqlite", "--resume"], "no checkpoint at"),
    ],
)
def test_usage_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("--url", "http://127.0.0.1:9/api/v0", "backfill", *args)
    assert result.exit_code == 2, result.output
    assert message in one_error_line(result)
    assert result.stdout == ""
    assert os.listdir(tmp_path) == []


# --- every output is complete ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTPUTS)
def test_backfill_to_each_output(server: SimulatorServer, tmp_path: Path, kind: str) -> None:
    output = tmp_path / OUTPUTS[kind]
    result = cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", str(output))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no progress bars off a terminal
    check_complete(read_rows(output))
    state = tmp_path / STATE_FILES[kind]
    assert json.loads(state.read_text())["plan"]["start"] == START
    out = result.stdout
    assert "Backfill complete: 4 series, 2026-07-01T00:00:00Z → 2026-07-03T00:00:00Z at 5m" in out
    assert "this run    2,304 points in 16 chunks" in out
    assert f"checkpoint  {state}" in out
    for app, metric in SERIES:
        assert f"app {app} {metric}" in out
    assert out.count(" ok ") == 4


def test_all_apps_and_metrics_by_default(server: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "all.sqlite"
    window = ("--from", "2026-07-05T12:00:00Z", "--to", "2026-07-05T13:00:00Z")
    result = cli("--url", server.url, "backfill", *window, "-o", str(output))
    assert result.exit_code == 0, result.output
    rows = read_rows(output)
    assert len({(a, m) for a, m, _, _ in rows}) == 30  # 5 apps x 6 metrics
    assert len(rows) == 30 * 60  # an hour at 1m (the default)
    assert len(set(rows)) == len(rows)


# --- failures and --resume ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTPUTS)
def test_resume_after_a_failed_series_equals_an_uninterrupted_run(
    sim: ScoutSimulator, own_server: SimulatorServer, tmp_path: Path, kind: str
) -> None:
    # One series fails for good after two of its four chunks; the others complete.
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, skip=2, times=None))
    output = tmp_path / OUTPUTS[kind]
    args = ("--url", own_server.url, "--concurrency", "1", "--max-retries", "0", "backfill")
    failed = cli(*args, *SELECTION, *WINDOW, "-o", str(output))
    assert failed.exit_code == 1
    assert "1 of 4 series failed (see the table)" in failed.stderr
    table = failed.stdout
    assert "Backfill incomplete: 3 of 4 series ok, 1 failed, 0 skipped" in table
    assert "failed" in next(line for line in table.splitlines() if "app 102 apdex" in line)
    again = resume_args(failed)
    assert again[again.index("--from") + 1] == START
    assert again[again.index("--output") + 1] == str(output)
    assert len(read_rows(output)) < len(EXPECTED)

    sim.clear_faults()
    before = len(sim.requests)
    resumed = cli(*again)
    assert resumed.exit_code == 0, resumed.output
    assert "Backfill complete: 4 series" in resumed.stdout
    assert len(sim.requests) - before == 2  # only the two chunks still missing

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    clean = cli(
        "--url", own_server.url, "backfill", *SELECTION, *WINDOW, "-o", str(fresh / OUTPUTS[kind])
    )
    assert clean.exit_code == 0
    resumed_rows = read_rows(output)
    check_complete(resumed_rows)
    assert sorted(resumed_rows, key=repr) == sorted(read_rows(fresh / OUTPUTS[kind]), key=repr)


def test_a_dead_server_stops_the_job_and_resume_finishes_it(
    sim: ScoutSimulator, own_server: SimulatorServer, tmp_path: Path
) -> None:
    sim.add_fault(Fault(path="/apps/*/metrics/*", status=503, times=None))
    output = tmp_path / "out.jsonl"
    stopped = cli(
        "--url", own_server.url, "--max-retries", "0",
        "backfill", *SELECTION, *WINDOW, "-o", str(output),
    )  # fmt: skip
    assert stopped.exit_code == 1
    line = one_error_line(stopped)
    assert "the job stopped: 3 series in a row failed" in line
    assert "skipped" in stopped.stdout
    # It stopped before writing anything: no checkpoint stays to ask for --resume; the same
    # command, run again, does the job.
    assert "nothing was written. Run it again with: scout-async " in line
    assert not (tmp_path / "out.jsonl.state.json").exists()
    words = shlex.split(line.split("Run it again with: ", 1)[1])
    assert "--resume" not in words
    sim.clear_faults()
    again = cli(*words[1:])
    assert again.exit_code == 0, again.output
    check_complete(read_rows(output))


def test_resume_reads_the_plan_from_the_checkpoint(server: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    first = cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", str(output))
    assert first.exit_code == 0
    # Just --output and --resume: apps, metrics, window and step come from the checkpoint; a
    # relative --from would have moved, so it is not compared either.
    again = cli("--url", server.url, "backfill", "-o", str(output), "--resume", "--from", "30d")
    assert again.exit_code == 0, again.output
    assert again.stderr == ""
    assert f"Backfill complete: 4 series, {START} → {END} at 5m" in again.stdout
    assert f"checkpoint  {output}.state.json (resumed from it)" in again.stdout
    assert "this run    0 points in 0 chunks" in again.stdout
    check_complete(read_rows(output))


def test_an_existing_checkpoint_is_not_overwritten(
    sim: ScoutSimulator, own_server: SimulatorServer, tmp_path: Path
) -> None:
    output = tmp_path / "out.sqlite"
    assert (
        cli("--url", own_server.url, "backfill", *SELECTION, *WINDOW, "-o", str(output)).exit_code
        == 0
    )
    state = output.with_name("out.sqlite.state.json").read_bytes()
    before = len(sim.requests)
    again = cli("--url", own_server.url, "backfill", *SELECTION, *WINDOW, "-o", str(output))
    assert again.exit_code == 2
    line = one_error_line(again)
    assert "a checkpoint of an earlier backfill is at" in line
    assert "pass --resume" in line
    assert len(sim.requests) == before
    assert output.with_name("out.sqlite.state.json").read_bytes() == state


def test_a_foreign_checkpoint_is_refused(server: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    assert (
        cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", str(output)).exit_code == 0
    )
    rows = read_rows(output)
    # Other apps than the checkpoint's.
    other_apps = cli(
        "--url", server.url, "backfill", "--apps", "103", "-o", str(output), "--resume"
    )
    assert other_apps.exit_code == 1
    assert "apps was [101, 102], now [103]" in one_error_line(other_apps)
    # Another output with this checkpoint.
    elsewhere = tmp_path / "other.jsonl"
    moved = cli(
        "--url", server.url, "backfill", "-o", str(elsewhere), "--resume",
        "--checkpoint", str(tmp_path / "out.jsonl.state.json"),
    )  # fmt: skip
    assert moved.exit_code == 1
    assert "cannot resume this backfill" in one_error_line(moved)
    # An explicit window other than the checkpoint's.
    shifted = cli(
        "--url", server.url, "backfill", "-o", str(output), "--resume", "--from", "2026-06-30"
    )
    assert shifted.exit_code == 2
    assert "is not the window of the checkpoint" in one_error_line(shifted)
    # Not a checkpoint at all.
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"format": "something else"}')
    refused = cli(
        "--url", server.url, "backfill", "-o", str(output), "--resume", "--checkpoint", str(bogus)
    )
    assert refused.exit_code == 1
    assert "is not a scout_async.backfill/1 checkpoint" in one_error_line(refused)
    assert read_rows(output) == rows  # untouched


def test_ctrl_c_keeps_what_was_written_and_says_how_to_resume(tmp_path: Path) -> None:
    slow = ScoutSimulator(api_key=KEY, now=NOW, latency=0.05)  # 16 requests one by one: 0.8 s
    output = tmp_path / "out.csv"
    with SimulatorServer(slow) as running:
        stop = threading.Event()

        def press_ctrl_c_once_some_series_are_in() -> None:
            # Not on a timer: on a loaded machine the job may not be under way yet after any
            # fixed delay (or may be done). Three answers in, thirteen to go.
            while not stop.is_set():
                if slow.completed >= 3:
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                time.sleep(0.005)

        ctrl_c = threading.Thread(target=press_ctrl_c_once_some_series_are_in)
        ctrl_c.start()
        try:
            interrupted = cli(
                "--url", running.url, "--concurrency", "1",
                "backfill", *SELECTION, *WINDOW, "-o", str(output),
            )  # fmt: skip
        finally:
            stop.set()
            ctrl_c.join()
        assert interrupted.exit_code == 130  # as a shell reports Ctrl-C
        line = one_error_line(interrupted)
        assert line.startswith("error: interrupted (SIGINT); ")
        assert f"{output}.state.json holds what was written" in line
        assert 0 < len(read_rows(output)) < len(EXPECTED)
        resumed = cli(*resume_args(interrupted))
    assert resumed.exit_code == 0, resumed.output
    check_complete(read_rows(output))


def test_ctrl_c_before_the_first_checkpoint_says_to_start_again(tmp_path: Path) -> None:
    slow = ScoutSimulator(api_key=KEY, now=NOW)
    slow.add_fault(Fault(path="/apps", latency=2.0))  # Ctrl-C comes while the apps are listed
    output = tmp_path / "out.csv"
    with SimulatorServer(slow) as running:
        stop = threading.Event()

        def press_ctrl_c_while_the_apps_are_listed() -> None:
            # Not on a timer: on a loaded machine the job may not be under way yet after any
            # fixed delay. The listing is in flight once the simulator holds a request.
            while not stop.is_set():
                if slow.in_flight:
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                time.sleep(0.01)

        ctrl_c = threading.Thread(target=press_ctrl_c_while_the_apps_are_listed)
        ctrl_c.start()
        try:
            interrupted = cli(
                "--url", running.url,
                "backfill", "--apps", "all", "--metrics", "throughput", *WINDOW, "-o", str(output),
            )  # fmt: skip
        finally:
            stop.set()
            ctrl_c.join()
        assert interrupted.exit_code == 130
        line = one_error_line(interrupted)
        assert line.startswith("error: interrupted (SIGINT) before anything was written. ")
        assert "state.json" not in line
        assert not (tmp_path / "out.csv.state.json").exists()
        words = shlex.split(line.split("Start again with: ", 1)[1])
        assert words[0] == "scout-async"
        assert "--resume" not in words
        assert words[words.index("--apps") + 1] == "all"
        again = cli(*words[1:])
    assert again.exit_code == 0, again.output
    rows = read_rows(output)
    assert {app for app, *_ in rows} == {101, 102, 103, 104, 105}
    assert len(rows) == 5 * len(GRID)


@pytest.mark.parametrize("auth", ["header", "query"])
def test_no_key_in_any_output(
    sim: ScoutSimulator, own_server: SimulatorServer, tmp_path: Path, auth: str
) -> None:
    sim.add_fault(Fault(path="/apps/101/metrics/apdex", status=500, times=None))
    output = tmp_path / "out"
    args = ("--url", own_server.url, "--auth", auth, "-vv", "--max-retries", "1", "backfill")
    failed = cli(*args, *SELECTION, *WINDOW, "-o", str(output))
    assert failed.exit_code == 1
    sim.clear_faults()
    resumed = cli("-vv", *resume_args(failed))
    assert resumed.exit_code == 0
    for result in (failed, resumed):
        assert KEY not in result.stdout
        assert KEY not in result.stderr
    for file in output.iterdir():
        assert KEY not in file.read_text()
    assert {r.auth_mode for r in sim.requests} == {auth}


# --- a real process -------------------------------------------------------------------------------


def test_python_dash_m_backfill(server: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "points.sqlite"
    done = subprocess.run(
        [sys.executable, "-m", "scout_async", "backfill", *SELECTION, *WINDOW, "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "SCOUT_API_KEY": KEY, "SCOUT_API_URL": server.url},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Backfill complete: 4 series" in done.stdout
    check_complete(read_rows(output))


# --- the progress display -------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def snapshot(chunks: int, series: int) -> Snapshot:
    return Snapshot(
        chunks_done=chunks,
        chunks_total=40,
        points_written=chunks * 100,
        series_done=series,
        series_failed=0,
        series_total=10,
        retries=0,
        rate_limited=0,
        rate_limit_wait=0.0,
        elapsed=1.0,
    )


def test_backfill_bars_show_at_most_a_few_series() -> None:
    progress = Progress(console=Console(file=_Terminal(), width=100))
    bars = BackfillBars(progress, chunks_per_series=4, rows=2, done_before={(101, "apdex"): 3})
    for app in (101, 102, 103):
        bars.chunk_written(app, "errors")
    bars.update(snapshot(3, 0))
    shown = [task.description.strip() for task in progress.tasks]
    assert shown == ["series", "chunks", "app 102 errors", "app 103 errors"]  # 101 made way
    bars.chunk_written(101, "apdex")  # its fourth chunk: done, no bar
    assert "app 101 apdex" not in [task.description.strip() for task in progress.tasks]
    for _ in range(3):
        bars.chunk_written(102, "errors")
    assert [task.description.strip() for task in progress.tasks][2:] == ["app 103 errors"]
    bars.finish()
    assert [task.description for task in progress.tasks] == ["series", "chunks"]
    assert progress.tasks[1].total == 40
    assert progress.tasks[1].fields["unit"] == "chunks, 300 points"
