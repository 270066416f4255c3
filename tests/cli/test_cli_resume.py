"""Backfill resume edge cases: line files are the same bytes after interruptions and resumes as
after an uninterrupted run; a run that wrote nothing leaves nothing behind; a permanent error is
not offered a resume."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scout_async._cli import main
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer

KEY = "sk-cli-S3CR3T-resume-8e8e"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
WINDOW = ("--from", "2026-07-01T00:00:00Z", "--to", "2026-07-03T00:00:00Z", "--resolution", "5m")
SELECTION = ("--apps", "101,102", "--metrics", "throughput,apdex")


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=NOW)


@pytest.fixture
def server(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"SCOUT_API_KEY": KEY}, catch_exceptions=False)


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv"])
def test_line_files_are_the_same_bytes_after_failures_and_resumes(
    sim: ScoutSimulator, server: SimulatorServer, tmp_path: Path, name: str
) -> None:
    clean = tmp_path / "clean" / name
    clean.parent.mkdir()
    first = cli("--url", server.url, "backfill", *SELECTION, *WINDOW, "-o", str(clean))
    assert first.exit_code == 0, first.output

    # Series fail part-way, twice, each run resumed by the command it prints.
    output = tmp_path / "resumed" / name
    output.parent.mkdir()
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, skip=1, times=None))
    sim.add_fault(Fault(path="/apps/101/metrics/throughput", status=500, skip=2, times=None))
    args = ("--url", server.url, "--max-retries", "0", "--concurrency", "3", "backfill")
    failed = cli(*args, *SELECTION, *WINDOW, "-o", str(output))
    assert failed.exit_code == 1
    line = failed.stderr.splitlines()[-1]
    again = shlex.split(line.split("Resume with: ", 1)[1])[1:]
    sim.clear_faults()
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, skip=1, times=None))
    partly = cli(*again)
    assert partly.exit_code == 1
    sim.clear_faults()
    done = cli(*again)
    assert done.exit_code == 0, done.output
    assert output.read_bytes() == clean.read_bytes()


def test_a_permanent_error_is_not_offered_a_resume_and_leaves_nothing(
    server: SimulatorServer, tmp_path: Path
) -> None:
    output = tmp_path / "out.sqlite"
    result = cli(
        "--url", server.url, "backfill", "--apps", "999", "--metrics", "apdex", *WINDOW,
        "-o", str(output),
    )  # fmt: skip
    assert result.exit_code == 1
    line = result.stderr.splitlines()[-1]
    assert "Resume with" not in line
    assert "--resume" not in line
    assert "running again would fail the same way" in line
    assert "404" in line
    assert not (tmp_path / "out.sqlite.state.json").exists()
    # Nothing blocks the corrected run.
    fixed = cli("--url", server.url, "backfill", "--apps", "101", "--metrics", "apdex", *WINDOW,
                "-o", str(output))  # fmt: skip
    assert fixed.exit_code == 0, fixed.output


def test_a_permanent_error_after_progress_is_not_offered_a_resume(
    sim: ScoutSimulator, server: SimulatorServer, tmp_path: Path
) -> None:
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=404, skip=1, times=None))
    output = tmp_path / "out.jsonl"
    result = cli("--url", server.url, "--concurrency", "1", "backfill", *SELECTION, *WINDOW,
                 "-o", str(output))  # fmt: skip
    assert result.exit_code == 1
    line = result.stderr.splitlines()[-1]
    assert "for good" in line
    assert "Resume with" not in line
