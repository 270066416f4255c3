"""A sink that cannot be opened is noticed before the first request (issue 15, item 7).

``backfill --apps all -o ro/out.jsonl`` used to list the apps and their metrics (4 requests)
before failing on the read-only directory.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import scout_async
from scout_async.sinks import CsvSink, JsonlSink, ParquetSink, SqliteSink, open_sink
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator
from tests.conftest import VirtualClock

NOW = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)


def _can_create_in(directory: Path) -> bool:
    try:
        handle, name = tempfile.mkstemp(dir=directory)
    except OSError:
        return False
    os.close(handle)
    os.unlink(name)
    return True


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody can create files in."""
    if getattr(os, "geteuid", lambda: 0)() != 0:
        directory = tmp_path / "ro"
        directory.mkdir()
        directory.chmod(0o555)
        try:
            yield directory
        finally:
            directory.chmod(0o755)
        return
    # root writes through permission bits; sysfs takes no new files from anyone.
    directory = Path("/sys")
    if not directory.is_dir() or _can_create_in(directory):
        pytest.skip("running as root without a directory that refuses new files")
    yield directory


SINK_PATHS = ["out.jsonl", "out.csv", "out.db", "out.parquet", "per-series/"]


@pytest.mark.parametrize("name", SINK_PATHS)
async def test_a_read_only_output_fails_the_backfill_before_any_request(
    name: str, read_only_dir: Path
) -> None:
    sim = ScoutSimulator(now=NOW)
    async with scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY, http_client=sim.http_client(), clock=VirtualClock(wall=NOW)
    ) as client:
        with pytest.raises(PermissionError) as info:
            await client.backfill(
                apps="all",
                metrics="all",
                start=NOW - timedelta(hours=2),
                end=NOW,
                sink=os.path.join(read_only_dir, name),
            )
    assert sim.requests == []
    assert info.value.errno == errno.EACCES
    # The error names the output asked for, not a probe file.
    assert info.value.filename == os.path.join(read_only_dir, name.rstrip("/"))


@pytest.mark.parametrize("name", SINK_PATHS)
def test_each_file_sink_checks_without_changing_anything(name: str, tmp_path: Path) -> None:
    sink = open_sink(tmp_path / name)
    sink.check()  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []  # no probe left, nothing created


@pytest.mark.parametrize("make", [JsonlSink, CsvSink, SqliteSink])
def test_checking_an_existing_output_leaves_it_as_it_was(
    make: type[JsonlSink | CsvSink | SqliteSink], tmp_path: Path
) -> None:
    target = tmp_path / "out"
    target.write_bytes(b"rows of an earlier run\n")
    make(target).check()
    assert target.read_bytes() == b"rows of an earlier run\n"
    assert sorted(tmp_path.iterdir()) == [target]


def test_a_parquet_dataset_directory_is_checked_in_place(tmp_path: Path) -> None:
    dataset = tmp_path / "points.parquet"
    dataset.mkdir()
    ParquetSink(dataset).check()
    assert list(dataset.iterdir()) == []


@pytest.mark.parametrize("name", SINK_PATHS)
def test_a_read_only_output_is_an_os_error_naming_it(name: str, read_only_dir: Path) -> None:
    path = os.path.join(read_only_dir, name)
    with pytest.raises(PermissionError, match="Permission denied") as info:
        open_sink(path).check()  # type: ignore[attr-defined]
    assert info.value.filename == path.rstrip("/")
