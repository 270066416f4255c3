"""``fetch -o PATH`` writes a regular file atomically, and anything else (a device such as
``/dev/null``, reached here through a link so the test never touches the real one) in place."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from scout_async._cli import main
from scout_async.testing import ScoutSimulator, SimulatorServer

KEY = "sk-output-paths-0a1b2c"
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ScoutSimulator(api_key=KEY, now=NOW)) as running:
        yield running


def fetch_to(server: SimulatorServer, output: Path) -> int:
    result = CliRunner().invoke(
        main,
        ["--url", server.url, "fetch", "101", "throughput", "--from", "2026-07-05T15:00:00Z",
         "--to", "2026-07-05T17:00:00Z", "--format", "csv", "-o", str(output)],
        env={"SCOUT_API_KEY": KEY},
        catch_exceptions=False,
    )  # fmt: skip
    return result.exit_code


def test_a_device_is_written_in_place_never_replaced(
    server: SimulatorServer, tmp_path: Path
) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    assert fetch_to(server, link) == 0
    assert link.is_symlink()
    assert os.readlink(link) == os.devnull
    assert not Path(os.devnull).is_file()  # still the device
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no part file left behind


def test_a_regular_file_is_replaced_whole(server: SimulatorServer, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    output.write_text("old\n")
    assert fetch_to(server, output) == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "time,value"
    assert len(lines) > 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
