"""The archive engine (``Archive``): catch-up by backfill, polling into SQLite, gap-filling, its
watermarks and its arguments, against the simulator in-process, on a virtual clock both share.

The command line around it (its lines, exit codes and signals) is tested in
``tests/cli/test_cli_archive.py``.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

from scout_async import (
    APP_METRICS,
    ArgumentError,
    ArgumentTypeError,
    AuthenticationError,
    Progress,
    ScoutClient,
    ScoutError,
    ServerError,
)
from scout_async._bulk.archive import Archive, ArchiveRound
from scout_async._bulk.watermarks import StepConflictError
from scout_async._resources.metrics import Metrics
from scout_async.sinks import SqliteSink
from scout_async.testing import Fault, ScoutSimulator

UTC = timezone.utc
KEY = "sk-archive-S3CR3T-1d1d"
T0 = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)
M = timedelta(minutes=1)
APPS, METRICS = [101, 102], ["throughput", "apdex"]
SERIES = [(app, metric) for app in (101, 102) for metric in ("apdex", "throughput")]


class Clock:
    """A ``scout_async.Clock`` on virtual time, for the client and the simulator: a sleep lets
    the fetches under way finish first (it waits, in real time, until the simulator has been
    idle for a moment: ``busy``), then moves time on at once; after the first sleep
    ``after_first_sleep`` runs (a test clears the simulator's faults there)."""

    def __init__(self, now: datetime = T0) -> None:
        self.at = now
        self.sleeps = 0
        self.after_first_sleep: Callable[[], None] = lambda: None
        self.busy: Callable[[], bool] = lambda: False

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return (self.at - T0).total_seconds()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(0.1)
        while self.busy():  # noqa: ASYNC110 - polls the simulator's counters, set in another thread
            await anyio.sleep(0.05)
        self.sleeps += 1
        if self.sleeps == 1:
            self.after_first_sleep()
        self.at += timedelta(seconds=max(0.0, seconds))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> ScoutSimulator:
    simulator = ScoutSimulator(api_key=KEY, now=clock.now)

    def busy() -> bool:
        # A request in flight, or one answered in the last 50 ms (the next may follow it).
        last = simulator.requests[-1].answered if simulator.requests else -math.inf
        return simulator.in_flight > 0 or time.monotonic() - last < 0.05

    clock.busy = busy
    return simulator


@contextlib.asynccontextmanager
async def scout(sim: ScoutSimulator, clock: Clock, **options: Any) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=KEY, http_client=http, clock=clock, **options) as client,
    ):
        yield client


def rows(db: Path) -> list[tuple[int, str, str]]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return list(
            connection.execute(
                "SELECT app_id, metric, time FROM points ORDER BY app_id, metric, time"
            )
        )


def watermarks(db: Path) -> list[tuple[int, str, str]]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return sorted(connection.execute("SELECT app_id, metric, until FROM archive_watermarks"))


def grid(
    start: datetime, end: datetime, step: timedelta, series: list[tuple[int, str]] = SERIES
) -> list[tuple[int, str, str]]:
    times = [
        (start + i * step).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range((end - start) // step)
    ]
    return sorted((app, metric, time) for app, metric in series for time in times)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 7, 5, hour, minute, tzinfo=UTC)


async def catch_up(client: ScoutClient, db: Path, **options: Any) -> ArchiveRound:
    async with Archive(client, db, apps=APPS, metrics=METRICS, **options) as archive:
        return await archive.catch_up()


async def test_catching_up_twice_adds_only_the_new_buckets(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    step = 5 * M
    options = {"resolution": "5m", "lookback": timedelta(hours=3)}
    async with scout(sim, clock) as client:
        first = await catch_up(client, db, **options)
    # From 3 h ago (on the grid) up to the last bucket complete 2 minutes ago.
    start, end = at(14, 25), at(17, 15)
    assert first == ArchiveRound(
        kind="catch-up",
        at=T0,
        rows=136,
        series=frozenset(SERIES),
        errors={},
        complete_until=end,
    )
    before = rows(db)
    assert before == grid(start, end, step)

    clock.at += 20 * M
    requests = len(sim.requests)
    async with scout(sim, clock) as client:
        second = await catch_up(client, db, **options)
    assert (second.rows, second.complete_until) == (16, end + 20 * M)
    assert len(sim.requests) - requests == 4  # one request per series, for the 20 new minutes
    assert rows(db) == grid(start, end + 20 * M, step)

    async with scout(sim, clock) as client:
        third = await catch_up(client, db, **options)  # nothing new: nothing written
    assert (third.rows, third.series, third.errors) == (0, frozenset(), {})  # none was behind
    assert third.complete_until == end + 20 * M
    assert len(sim.requests) - requests == 4
    assert watermarks(db) == [(a, m, "2026-07-05T17:35:00Z") for a, m in SERIES]


async def test_a_failed_series_is_reported_and_caught_up_by_the_next_run(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=500, times=None))
    options = {"resolution": "5m", "lookback": timedelta(hours=1)}
    async with scout(sim, clock, max_retries=0) as client:
        failed = await catch_up(client, db, **options)
    assert failed.rows == 30
    assert failed.series == frozenset(SERIES) - {(102, "apdex")}
    assert list(failed.errors) == [(102, "apdex")]
    error = failed.errors[(102, "apdex")]
    assert isinstance(error, ServerError)
    assert (error.method, error.path, error.status_code) == ("GET", "/apps/102/metrics/apdex", 500)
    assert failed.complete_until == at(16, 25)  # the failed series has nothing yet

    sim.clear_faults()
    async with scout(sim, clock) as client:
        again = await catch_up(client, db, **options)
    assert (again.rows, again.errors, again.complete_until) == (10, {}, at(17, 15))
    assert rows(db) == grid(at(16, 25), at(17, 15), 5 * M)


async def test_polls_a_round_per_interval_and_fills_the_gap_of_a_series_that_missed_the_catch_up(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=503, times=None))
    clock.after_first_sleep = sim.clear_faults
    seen: list[ArchiveRound] = []
    with anyio.CancelScope() as stop:

        def on_round(done: ArchiveRound) -> None:
            seen.append(done)
            if sum(1 for r in seen if r.kind == "poll") == 2:
                stop.cancel()  # as a signal would: the round's writes are done and recorded

        async with scout(sim, clock, max_retries=0) as client:
            archive = Archive(
                client,
                db,
                apps=APPS,
                metrics=METRICS,
                lookback=timedelta(hours=1),
                on_round=on_round,
            )
            async with archive:
                await archive.catch_up()
                await archive.poll()
    assert stop.cancelled_caught
    summary = [(r.kind, len(r.series), r.rows, r.complete_until, set(r.errors)) for r in seen]
    assert summary == [
        ("catch-up", 3, 171, at(16, 21), {(102, "apdex")}),
        # The polls take every series from the catch-up's end; the one that missed it is held
        # back at its own watermark until the gap behind it is filled.
        ("poll", 4, 20, at(16, 21), set()),
        ("gap-fill", 1, 57, at(17, 23), set()),
        ("poll", 4, 20, at(17, 28), set()),
    ]
    # Each round is stamped on the shared clock: the catch-up at the start, the rounds at poll
    # ticks, in order. (Which tick a round lands on depends on how fast this machine writes,
    # not on the engine: the clock moves on whenever the poll sleeps.)
    stamps = [r.at for r in seen]
    assert stamps[0] == T0
    assert stamps == sorted(stamps)
    assert all((stamp - T0) % (5 * M) == timedelta(0) for stamp in stamps)
    assert stamps[3] > stamps[1]
    assert archive.complete_until == at(17, 28)
    assert rows(db) == grid(at(16, 21), at(17, 28), M)
    assert watermarks(db) == [(a, m, "2026-07-05T17:28:00Z") for a, m in SERIES]


async def test_a_database_filled_by_a_backfill_continues_after_its_newest_points(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    async with scout(sim, clock) as client:
        await client.backfill(
            apps=[101],
            metrics=["apdex"],
            start=at(16, 0),
            end=at(17, 0),
            resolution="1m",
            sink=SqliteSink(db),
        )
        async with Archive(
            client, db, apps=[101], metrics=["apdex"], lookback=timedelta(hours=3)
        ) as archive:
            done = await archive.catch_up()
    assert done.rows == 18  # 17:00 to 17:18: not the three hours of the lookback
    assert rows(db) == grid(at(16, 0), at(17, 18), M, [(101, "apdex")])


async def test_one_archive_keeps_one_step(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    db = tmp_path / "scout.sqlite"
    async with scout(sim, clock) as client:
        await catch_up(client, db, resolution="5m", lookback=timedelta(hours=1))
        requests = len(sim.requests)
        with pytest.raises(StepConflictError) as refused:
            await catch_up(client, db, resolution="1m")
    error = refused.value
    assert isinstance(error, ArgumentError)
    assert (error.series, error.stored, error.asked) == ((101, "apdex"), 5 * M, M)
    assert str(error.database) == str(db)
    assert "archives app 101 apdex at 5m, not 1m" in str(error)
    assert len(sim.requests) - requests == 0  # the metrics were given: nothing listed either


async def test_the_series_are_listed_before_the_database_is_created(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "scout.sqlite"
    async with (
        sim.http_client() as http,
        ScoutClient(api_key="sk-wrong", http_client=http, clock=clock, max_retries=0) as client,
    ):
        with pytest.raises(AuthenticationError):
            async with Archive(client, db):  # every app and metric: listed first
                pass
    assert not db.exists()

    async def unknown_only(self: Metrics, app_id: int, *, job_id: str | None = None) -> list[str]:
        return ["cpu_steal"]

    monkeypatch.setattr(Metrics, "list", unknown_only)
    async with scout(sim, clock) as client:
        archive = Archive(client, db, apps=[101], metrics="all")
        assert await archive.list_series() == []
        assert archive.left_out == ("cpu_steal",)
        with pytest.raises(ScoutError, match="no series to archive"):
            async with archive:
                pass
    assert not db.exists()


async def test_metrics_this_client_does_not_know_are_left_out(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = Metrics.list

    async def and_one_more(self: Metrics, app_id: int, *, job_id: str | None = None) -> list[str]:
        return [*await listed(self, app_id, job_id=job_id), "cpu_steal"]

    monkeypatch.setattr(Metrics, "list", and_one_more)
    async with scout(sim, clock) as client:
        archive = Archive(client, tmp_path / "a.sqlite", apps=[101], lookback=timedelta(hours=1))
        async with archive:
            done = await archive.catch_up()
    assert archive.left_out == ("cpu_steal",)
    assert sorted(archive.series) == sorted((101, metric) for metric in APP_METRICS)
    assert done.series == frozenset(archive.series)


async def test_watch_sees_every_backfill_of_a_catch_up(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    watched: list[int] = []
    written: list[tuple[int, str]] = []
    snapshots: list[Progress] = []

    class Watcher:
        def update(self, progress: Progress) -> None:
            snapshots.append(progress)

        def chunk_written(self, app_id: int, metric: str) -> None:
            written.append((app_id, metric))

    @contextlib.contextmanager
    def watch(chunks_per_series: int) -> Iterator[Watcher]:
        watched.append(chunks_per_series)
        yield Watcher()

    async with scout(sim, clock) as client:
        await catch_up(client, tmp_path / "a.sqlite", lookback=timedelta(days=2), watch=watch)
    # Every series starts at the lookback: one backfill, of two days at 1 m in 1 h requests.
    assert watched == [48]
    assert sorted(set(written)) == SERIES
    assert all(written.count(key) == watched[0] for key in SERIES)
    assert snapshots[-1].chunks_done == snapshots[-1].chunks_total == 4 * watched[0]


async def test_polling_continues_a_catch_up_inside_the_context(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    async with scout(sim, clock) as client:
        archive = Archive(client, tmp_path / "a.sqlite", apps=APPS, metrics=METRICS)
        with pytest.raises(RuntimeError, match="async with archive"):
            await archive.catch_up()
        with pytest.raises(RuntimeError, match="call catch_up"):
            await archive.poll()
    assert archive.complete_until is None


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"apps": []}, ArgumentError, "apps is empty"),
        ({"metrics": ["latency"]}, ArgumentError, "latency"),
        ({"resolution": "7m"}, ArgumentError, "7m"),
        ({"resolution": None}, ArgumentTypeError, "resolution"),
        ({"interval": 300}, ArgumentTypeError, "interval must be a timedelta"),
        ({"interval": timedelta(0)}, ArgumentError, "interval must be a timedelta > 0"),
        ({"lookback": -M}, ArgumentError, "lookback must be a timedelta > 0"),
        ({"lateness": -M}, ArgumentError, "lateness must be a timedelta >= 0"),
        ({"lookback": timedelta(days=3_000_000)}, ArgumentError, "outside the years 1 to 9999"),
    ],
)
async def test_arguments_are_checked_up_front(
    clock: Clock,
    sim: ScoutSimulator,
    tmp_path: Path,
    options: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    async with scout(sim, clock) as client:
        with pytest.raises(error, match=match):
            Archive(client, tmp_path / "a.sqlite", **options)
    assert not sim.requests
    assert not (tmp_path / "a.sqlite").exists()


async def test_lateness_zero_archives_up_to_now(
    clock: Clock, sim: ScoutSimulator, tmp_path: Path
) -> None:
    async with scout(sim, clock) as client:
        done = await catch_up(
            client, tmp_path / "a.sqlite", lookback=timedelta(minutes=30), lateness=timedelta(0)
        )
    assert done.complete_until == at(17, 20)
