"""An archive's watermarks (``archive_watermarks``) and where a series written by a plain backfill
continues (``SqliteSink.newest_times``)."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scout_async import ArgumentError, Point
from scout_async._bulk.watermarks import (
    TABLE,
    StepConflictError,
    read_watermarks,
    save_watermarks,
)
from scout_async.sinks import SqliteSink

UTC = timezone.utc
T = datetime(2026, 7, 5, 17, 20, tzinfo=UTC)
M = timedelta(minutes=1)
SERIES = [(101, "apdex"), (101, "errors"), (102, "apdex")]


def tables(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return sorted(n for (n,) in connection.execute("SELECT name FROM sqlite_master"))


def test_no_database_or_no_table_has_no_watermarks(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    assert read_watermarks(db, SERIES, M) == {}
    assert not db.exists()  # reading creates nothing
    sqlite3.connect(db).close()
    assert read_watermarks(db, SERIES, M) == {}
    save_watermarks(db, {}, M)  # nothing to record: no table either
    assert tables(db) == []


def test_saved_watermarks_are_read_back_for_the_series_asked(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    save_watermarks(db, {(101, "apdex"): T, (102, "apdex"): T - M}, M)
    assert tables(db) == sorted([TABLE, f"sqlite_autoindex_{TABLE}_1"])
    assert read_watermarks(db, SERIES, M) == {(101, "apdex"): T, (102, "apdex"): T - M}
    assert read_watermarks(db, [(101, "apdex")], M) == {(101, "apdex"): T}
    save_watermarks(db, {(102, "apdex"): T + M}, M)  # moves one, keeps the other
    assert read_watermarks(db, SERIES, M) == {(101, "apdex"): T, (102, "apdex"): T + M}
    with contextlib.closing(sqlite3.connect(db)) as connection:
        stored = sorted(connection.execute(f"SELECT * FROM {TABLE}"))
    assert stored == [
        (101, "apdex", 60, "2026-07-05T17:20:00Z"),
        (102, "apdex", 60, "2026-07-05T17:21:00Z"),
    ]


def test_a_watermark_at_another_step_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    save_watermarks(db, {(101, "apdex"): T}, 5 * M)
    assert read_watermarks(db, [(102, "apdex")], M) == {}  # another series: no conflict
    with pytest.raises(StepConflictError) as refused:
        read_watermarks(db, SERIES, M)
    error = refused.value
    assert isinstance(error, ArgumentError)  # a bad argument: the step
    assert (error.database, error.series, error.stored, error.asked) == (
        db,
        (101, "apdex"),
        5 * M,
        M,
    )
    assert str(error) == (
        f"{db} archives app 101 apdex at 5m, not 1m; archive it at 5m or into another database"
    )


async def test_newest_times_of_a_sqlite_sink(tmp_path: Path) -> None:
    db = tmp_path / "points.sqlite"
    sink = SqliteSink(db)
    assert await sink.newest_times() == {}
    assert not db.exists()  # asking creates nothing
    await sink.open()
    assert await sink.newest_times() == {}  # the table, empty
    await sink.write(101, "apdex", [Point(T - 2 * M, 0.9), Point(T - M, None)])
    await sink.write(102, "apdex", [Point(T - 5 * M, 1.0)])
    assert await sink.newest_times() == {}  # not committed yet
    await sink.flush()
    await sink.write(101, "apdex", [Point(T, 0.5)])
    assert await sink.newest_times() == {(101, "apdex"): T - M, (102, "apdex"): T - 5 * M}
    await sink.close()  # commits
    assert await SqliteSink(db).newest_times() == {(101, "apdex"): T, (102, "apdex"): T - 5 * M}


async def test_newest_times_reads_the_sinks_own_table(tmp_path: Path) -> None:
    db = tmp_path / "points.sqlite"
    sink = SqliteSink(db, table="series")
    await sink.open()
    await sink.write(101, "errors", [Point(T, 3.0)])
    await sink.close()
    assert await SqliteSink(db).newest_times() == {}  # no "points" table in this database
    assert await SqliteSink(db, table="series").newest_times() == {(101, "errors"): T}
