"""``scout-async archive``: catch up, poll, stop and start again, against the simulator over HTTP.

The command runs on the clock passed as click's ``obj`` (the clock of its client, which the
archive engine reads); here that is a virtual clock the simulator shares, so a test moves both
forward at once. The engine itself is tested in ``tests/bulk/test_archive.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result

from scout_async._cli import main
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer

UTC = timezone.utc
KEY = "sk-cli-S3CR3T-archive-5e5e"
T0 = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
SELECTION = ("--apps", "101,102", "--metrics", "throughput,apdex")
SERIES = [(app, metric) for app in (101, 102) for metric in ("apdex", "throughput")]


class VirtualClock:
    """A ``scout_async.Clock`` for the archive and the simulator: a sleep moves time at once
    (after a short real pause for the fetches it started), and after ``stop_after`` sleeps the
    process gets a SIGTERM, as from a service manager."""

    def __init__(self, now: datetime) -> None:
        self.at = now
        self.sleeps = 0
        self.stop_after: int | None = None
        self.after_first_sleep: Callable[[], None] = lambda: None

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(0.3)  # the fetches this tick started finish meanwhile
        self.sleeps += 1
        if self.sleeps == 1:
            self.after_first_sleep()
        if self.stop_after is not None and self.sleeps >= self.stop_after:
            os.kill(os.getpid(), signal.SIGTERM)
            await anyio.sleep(10)  # the archive stops before this ends
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def sim(clock: VirtualClock) -> ScoutSimulator:
    return ScoutSimulator(api_key=KEY, now=clock.now)


@pytest.fixture
def server(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    with SimulatorServer(sim) as running:
        yield running


def archive(
    clock: VirtualClock, server: SimulatorServer, db: Path, *args: str, retries: int = 3
) -> Result:
    return CliRunner().invoke(
        main,
        [
            *("--url", server.url, "--max-retries", str(retries)),
            *("archive", "--db", str(db), *SELECTION, *args),
        ],
        env={"SCOUT_API_KEY": KEY},
        catch_exceptions=False,
        obj=clock,
    )


def rows(db: Path) -> list[tuple[int, str, str, float | None]]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return list(
            connection.execute(
                "SELECT app_id, metric, time, value FROM points ORDER BY app_id, metric, time"
            )
        )


def grid(start: datetime, end: datetime, step: timedelta) -> list[tuple[int, str, str]]:
    count = (end - start) // step
    times = [(start + i * step).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(count)]
    return [(app, metric, time) for app, metric in SERIES for time in times]


def keys(found: list[tuple[int, str, str, float | None]]) -> list[tuple[int, str, str]]:
    return [(app, metric, time) for app, metric, time, _ in found]


def test_help() -> None:
    result = CliRunner().invoke(main, ["archive", "--help"])
    assert result.exit_code == 0
    for phrase in ("--db", "--every", "--lookback", "--once", "SIGTERM", "Examples:"):
        assert phrase in result.stdout


def test_once_twice_adds_only_the_new_buckets(
    clock: VirtualClock, sim: ScoutSimulator, server: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    step = timedelta(minutes=5)
    options = ("--resolution", "5m", "--lookback", "3h", "--once")
    first = archive(clock, server, db, *options)
    assert first.exit_code == 0, first.output
    # From 3 h ago (on the grid) up to the last bucket complete 2 minutes ago.
    start, end = datetime(2026, 7, 5, 14, 25, tzinfo=UTC), datetime(2026, 7, 5, 17, 15, tzinfo=UTC)
    assert first.stdout == (
        "2026-07-05T17:20:11Z  catch-up 4 series, 136 rows written; complete up to "
        "2026-07-05T17:15:00Z\n"
    )
    before = rows(db)
    assert keys(before) == sorted(grid(start, end, step))

    clock.at += timedelta(minutes=20)
    requests = len(sim.requests)
    second = archive(clock, server, db, *options)
    assert second.exit_code == 0, second.output
    assert (
        "catch-up 4 series, 16 rows written; complete up to 2026-07-05T17:35:00Z" in second.stdout
    )
    assert len(sim.requests) - requests == 4  # one request per series, for the 20 new minutes
    after = rows(db)
    assert keys(after) == sorted(grid(start, end + timedelta(minutes=20), step))
    assert set(before) <= set(after)  # what was archived stays as it was

    third = archive(clock, server, db, *options)  # nothing new: nothing fetched, nothing written
    assert "catch-up 4 series, 0 rows written" in third.stdout
    assert rows(db) == after
    with contextlib.closing(sqlite3.connect(db)) as connection:
        marks = connection.execute(
            "SELECT app_id, metric, until FROM archive_watermarks"
        ).fetchall()
    assert sorted(marks) == [(a, m, "2026-07-05T17:35:00Z") for a, m in SERIES]


def test_a_failed_series_is_retried_by_the_next_run(
    clock: VirtualClock, sim: ScoutSimulator, server: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, times=None))
    options = ("--resolution", "5m", "--lookback", "1h", "--once")
    failed = CliRunner().invoke(
        main,
        [
            "--url",
            server.url,
            "--max-retries",
            "0",
            "archive",
            "--db",
            str(db),
            *SELECTION,
            *options,
        ],
        env={"SCOUT_API_KEY": KEY},
        obj=clock,
    )
    assert failed.exit_code == 1
    assert "catch-up 4 series, 30 rows written; complete up to 2026-07-05T16:25:00Z; 1 error: " in (
        failed.stdout
    )
    assert "app 102 apdex: GET /apps/102/metrics/apdex: 500" in failed.stdout
    assert failed.stderr.startswith("error: 1 series could not be brought up to date")
    assert KEY not in failed.output
    sim.clear_faults()
    again = archive(clock, server, db, *options)
    assert again.exit_code == 0
    assert "catch-up 4 series, 10 rows written; complete up to 2026-07-05T17:15:00Z" in again.stdout
    start = datetime(2026, 7, 5, 16, 25, tzinfo=UTC)
    assert keys(rows(db)) == sorted(
        grid(start, start + timedelta(minutes=50), timedelta(minutes=5))
    )


def test_polls_one_line_per_round_and_stops_on_sigterm(
    clock: VirtualClock, server: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    clock.stop_after = 4
    result = archive(clock, server, db, "--every", "5m", "--lookback", "1h")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "2026-07-05T17:20:11Z  catch-up 4 series, 228 rows written; complete up to "
        "2026-07-05T17:18:00Z"
    )
    # Ticks at 17:20:11, 17:25:11, 17:30:11, ...: each round brings the 5 new minutes.
    assert lines[1:] == [
        "2026-07-05T17:25:11Z  poll     4 series, 20 rows written; complete up to "
        "2026-07-05T17:23:00Z",
        "2026-07-05T17:30:11Z  poll     4 series, 20 rows written; complete up to "
        "2026-07-05T17:28:00Z",
        "2026-07-05T17:35:11Z  poll     4 series, 20 rows written; complete up to "
        "2026-07-05T17:33:00Z",
    ]
    assert result.stderr == (
        f"archive stopped (SIGTERM); {db} is complete up to 2026-07-05T17:33:00Z: run it again "
        "to continue\n"
    )
    start = datetime(2026, 7, 5, 16, 21, tzinfo=UTC)
    assert keys(rows(db)) == sorted(
        grid(start, datetime(2026, 7, 5, 17, 33, tzinfo=UTC), timedelta(minutes=1))
    )


def test_a_series_that_missed_the_catch_up_is_filled_in_while_polling(
    clock: VirtualClock, sim: ScoutSimulator, server: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=503, times=None))
    clock.after_first_sleep = sim.clear_faults
    clock.stop_after = 3
    result = archive(clock, server, db, "--every", "5m", "--lookback", "1h", retries=0)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "2026-07-05T17:20:11Z  catch-up 4 series, 171 rows written; complete up to "
        "2026-07-05T16:21:00Z; 1 error: app 102 apdex: GET /apps/102/metrics/apdex: 503"
    )
    assert lines[1:] == [
        # The polls take every series from the catch-up's end; the one that missed it is held
        # back at its own watermark until the gap behind it is filled.
        "2026-07-05T17:25:11Z  poll     4 series, 20 rows written; complete up to "
        "2026-07-05T16:21:00Z",
        "2026-07-05T17:25:11Z  gap-fill 1 series, 57 rows written; complete up to "
        "2026-07-05T17:23:00Z",
        "2026-07-05T17:30:11Z  poll     4 series, 20 rows written; complete up to "
        "2026-07-05T17:28:00Z",
    ]
    start, end = datetime(2026, 7, 5, 16, 21, tzinfo=UTC), datetime(2026, 7, 5, 17, 28, tzinfo=UTC)
    assert keys(rows(db)) == sorted(grid(start, end, timedelta(minutes=1)))
    with contextlib.closing(sqlite3.connect(db)) as connection:
        marks = connection.execute(
            "SELECT app_id, metric, until FROM archive_watermarks"
        ).fetchall()
    assert sorted(marks) == [(a, m, "2026-07-05T17:28:00Z") for a, m in SERIES]


def test_one_archive_keeps_one_step(
    clock: VirtualClock, server: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    assert (
        archive(clock, server, db, "--resolution", "5m", "--lookback", "1h", "--once").exit_code
        == 0
    )
    other = archive(clock, server, db, "--resolution", "1m", "--once")
    assert other.exit_code == 2
    assert "archives app 101 apdex at 5m, not 1m; pass --resolution 5m" in other.stderr


@pytest.mark.parametrize(
    ("option", "options"),
    [
        ("--lookback", ("--lookback", "3000000d", "--once")),  # before the year 1
        ("--lateness", ("--lateness", "3000000d", "--once")),
        ("--every", ("--lookback", "1h", "--every", "999999999d")),  # a first poll in 10000+
    ],
)
def test_durations_past_the_calendar_are_usage_errors(
    clock: VirtualClock,
    sim: ScoutSimulator,
    server: SimulatorServer,
    tmp_path: Path,
    option: str,
    options: tuple[str, ...],
) -> None:
    db = tmp_path / "scout.sqlite"
    result = archive(clock, server, db, "--resolution", "5m", *options)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: Invalid value for '{option}': ")
    assert "now is outside the years 1 to 9999" in lines[0]
    assert "Traceback" not in result.output
    assert not sim.requests  # refused before anything is fetched
    assert not db.exists()
