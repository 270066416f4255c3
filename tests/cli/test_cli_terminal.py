"""The command line on a real terminal (a pseudo-terminal of 80 and of 200 columns): tables fit,
no number is cut, long ids are shortened in the middle (and whole in --json), the chart has its
units, and progress never lands inside data lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scout_async.testing import ScoutSimulator, SimulatorServer

from .terminal import ROOT, on_terminal, plain

KEY = "sk-cli-S3CR3T-terminal-4d4d"
# A fixed window (the day before yesterday, UTC) on the real clock: the listing through a pipe and
# through the terminal get the same figures.
_TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = ("--from", f"{_TODAY - timedelta(days=2):%Y-%m-%dT%H:%M:%SZ}",
       "--to", f"{_TODAY - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}")  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    # The real clock, as the command's: relative windows and lookbacks agree with the server.
    with SimulatorServer(ScoutSimulator(api_key=KEY)) as running:
        yield running


def env(server: SimulatorServer) -> dict[str, str]:
    return {"SCOUT_API_KEY": KEY, "SCOUT_API_URL": server.url, "NO_COLOR": "1"}


def as_json(server: SimulatorServer, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "scout_async", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env(server)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # off a terminal: JSON without asking


def shown(server: SimulatorServer, columns: int, *args: str) -> str:
    code, text = on_terminal(list(args), columns=columns, env=env(server))
    assert code == 0, text
    screen = plain(text)
    for line in screen.splitlines():
        assert len(line) <= columns, line
    return screen


def numbers_of(record: dict[str, Any], fields: dict[str, int]) -> list[str]:
    """The figures of ``record`` as the table writes them (commas, ``digits`` decimals)."""
    return [
        f"{record[name]:,.{digits}f}" for name, digits in fields.items() if record[name] is not None
    ]


@pytest.mark.parametrize("columns", [80, 200])
def test_jobs_fit_and_keep_every_number(server: SimulatorServer, columns: int) -> None:
    listed = as_json(server, "jobs", "101", *DAY)
    assert listed
    screen = shown(server, columns, "jobs", "101", *DAY)
    words = set(re.findall(r"\S+", screen))
    for job in listed:
        for figure in numbers_of(job, {"throughput": 1, "execution_time": 1, "latency": 2}):
            assert figure in words, (figure, screen)  # whole: never cut or wrapped
        assert job["units"] == {
            "throughput": "jobs/min",
            "execution_time": "ms",
            "latency": "s",
            "time_consumed": "fraction",
        }
        if columns == 200:
            assert job["id"] in words
        else:  # shortened in the middle: both ends kept
            assert job["id"] not in words
            assert any(
                "…" in w
                and len(w) <= 13
                and job["id"].startswith(w.split("…")[0])
                and job["id"].endswith(w.split("…")[1])
                for w in words
            )


@pytest.mark.parametrize("columns", [80, 200])
def test_anomalies_fit_and_keep_every_number(server: SimulatorServer, columns: int) -> None:
    listed = as_json(server, "anomalies", "101", "--from", "30d")
    assert listed
    screen = shown(server, columns, "anomalies", "101", "--from", "30d")
    words = set(re.findall(r"\S+", screen))
    for event in listed:
        assert str(event["id"]) in words
        assert "units" in event
        if event["metric"] == "response_time":
            assert event["units"]["current_value"] == "ms"
            assert f"{event['current_value']:,.1f}" in words
    assert "ms" in words


@pytest.mark.parametrize("columns", [80, 200])
def test_endpoints_fit(server: SimulatorServer, columns: int) -> None:
    listed = as_json(server, "endpoints", "101", *DAY)
    screen = shown(server, columns, "endpoints", "101", *DAY)
    words = set(re.findall(r"\S+", screen))
    for endpoint in listed:
        for figure in numbers_of(endpoint, {"response_time": 1, "p95": 1, "throughput": 1}):
            assert figure in words, (figure, screen)
    assert listed[0]["units"]["response_time"] == "ms"


def test_fetch_chart_at_80_columns(server: SimulatorServer) -> None:
    screen = shown(server, 80, "fetch", "101", "response_time", "--from", "2d")
    assert "unit          ms (milliseconds)" in screen
    assert "response_time (ms)" in screen
    chart = [line for line in screen.splitlines() if re.search(r"[┤┼]", line)]
    assert 8 <= len(chart) <= 10  # an 8-line chart (asciichartpy may add a row for the range)
    assert re.search(r"avg [\d,.]+ ms  min [\d,.]+ ms  max [\d,.]+ ms  last [\d,.]+ ms", screen)


def test_fetch_lines_on_a_terminal_are_never_mixed_with_progress(server: SimulatorServer) -> None:
    code, text = on_terminal(
        ["fetch", "101", "throughput", "--from", "3d", "--resolution", "5m", "--format", "csv"],
        columns=80,
        env=env(server),
    )
    assert code == 0
    lines = plain(text).splitlines()
    assert lines[0] == "time,value"
    assert len(lines) > 800
    for line in lines[1:]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,[\d.]+", line), line


def test_progress_bar_has_counts_rate_and_eta(tmp_path: Path) -> None:
    slow = ScoutSimulator(api_key=KEY, latency=0.2)
    with SimulatorServer(slow) as running:
        code, text = on_terminal(
            ["--concurrency", "1", "fetch", "101", "apdex", "--from", "7d", "--resolution", "1h",
             "-o", str(tmp_path / "apdex.csv")],
            columns=80,
            env={**env(running)},
        )  # fmt: skip
    assert code == 0, text
    screen = plain(text)
    assert re.search(r"\d+/\d+ requests", screen)
    assert re.search(r"/s ETA ", text)  # while it ran (the last redraw says "done")
    assert re.search(r"wrote 16\d points \(1h step, csv\)", screen)
    for line in screen.splitlines():
        if "requests" in line:  # the bar (a long path in the last line may wrap)
            assert len(line) <= 80, line


def test_help_documents_exit_codes_and_completion() -> None:
    code, text = on_terminal(["--help"], columns=80, env={})
    assert code == 0
    screen = plain(text)
    for phrase in ("Exit codes:", "130", "--json", "--no-color", "-n, --limit", "completion"):
        assert phrase in screen
