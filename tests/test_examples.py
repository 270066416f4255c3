"""The scripts in examples/ run as shipped: against the simulator they start themselves, small."""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scout_async.testing import ScoutSimulator, SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
KEY = "sk-examples-5e6f7a8b"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SCOUT_API_KEY", "SCOUT_API_URL")}
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**clean, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY)) as running:
        yield running


def check_minutes(path: Path) -> int:
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["time", "value"]
    times = [datetime.strptime(r[0], "%Y-%m-%dT%H:%M:%SZ") for r in rows[1:]]
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))
    return len(times)


def test_backfill_to_file_starts_the_simulator_itself(tmp_path: Path) -> None:
    target = tmp_path / "backfill.csv"
    result = run(str(EXAMPLES / "backfill_to_file.py"), "--days", "1", "--output", str(target))
    assert "SCOUT_API_URL is not set: started the Scout simulator at http://127.0.0.1:" in (
        result.stdout
    )
    # A day up to now, less the buckets not closed yet (lateness 2 min).
    assert check_minutes(target) in (1438, 1439)
    assert f"to {target}" in result.stdout


def test_backfill_to_file_uses_the_environment(server: SimulatorServer, tmp_path: Path) -> None:
    target = tmp_path / "throughput.csv"
    result = run(
        str(EXAMPLES / "backfill_to_file.py"),
        "--days", "0.25", "--app", "104", "--metric", "throughput", "--output", str(target),
        env={"SCOUT_API_URL": server.url, "SCOUT_API_KEY": KEY},
    )  # fmt: skip
    assert "started the Scout simulator" not in result.stdout
    assert check_minutes(target) in (358, 359)  # less the buckets not closed yet
    assert {r.path for r in server.simulator.requests} == {"/api/v0/apps/104/metrics/throughput"}


def test_poll_apps(tmp_path: Path) -> None:
    result = run(
        str(EXAMPLES / "poll_apps.py"), "--rounds", "2", "--interval", "0.2", "--apps", "101,105"
    )
    lines = result.stdout.splitlines()
    assert "round 1: 10 new bucket(s)" in lines  # 5 minutes of 2 apps
    assert any(line.startswith("round 2: ") for line in lines)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    shown = [
        datetime.strptime(line.split()[2], "%Y-%m-%dT%H:%MZ")
        for line in lines
        if line.startswith("  app ")
    ]
    assert all(t < now for t in shown)  # complete buckets only


def test_the_pytest_example() -> None:
    result = run(
        "-m", "pytest", str(EXAMPLES / "test_with_simulator.py"), "-q", "-p", "no:cacheprovider"
    )
    assert "7 passed" in result.stdout


def test_to_dataframe_lines_the_metrics_up_and_writes_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "app.parquet"
    result = run(
        str(EXAMPLES / "to_dataframe.py"), "--days", "1", "--resolution", "5m",
        "--output", str(target),
    )  # fmt: skip
    assert "started the Scout simulator" in result.stdout
    # A day at 5 min less the bucket not closed yet: 287 or 288 rows, one column per metric.
    header = next(line for line in result.stdout.splitlines() if " rows x " in line)
    rows = int(header.split(" rows x ")[0].replace(",", ""))
    assert rows in (287, 288)
    assert " rows x 4 metrics" in header
    table = pq.read_table(target)
    assert table.column_names == ["app_id", "metric", "time", "value"]
    assert table.num_rows == 4 * rows
    assert set(table.column("metric").to_pylist()) == {
        "throughput",
        "response_time",
        "errors",
        "apdex",
    }
