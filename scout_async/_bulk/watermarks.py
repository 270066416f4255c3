"""An archive's watermarks: per series, the end of what the SQLite archive holds without a gap.

They live next to the points, in a table ``archive_watermarks(app_id, metric, step_seconds,
until)``, written only after the points up to ``until`` are committed, so a crash leaves a
watermark behind the data (re-fetched, harmlessly: points are upserted), never ahead of it. One
archive keeps one step: reading the watermarks at another step is refused. (A series without a
watermark, in a database filled by ``backfill``, continues after its newest point:
``SqliteSink.newest_times``.)

Blocking calls: run them in a worker thread. Each opens its own short-lived connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from .._exceptions import ArgumentError
from .._series.steps import format_step
from .._time import format_time, parse_time
from .selection import SeriesKey

__all__ = ["TABLE", "StepConflictError", "read_watermarks", "save_watermarks"]

TABLE = "archive_watermarks"


class StepConflictError(ArgumentError):
    """The archive holds a series at another step than the one asked for.

    ``database`` is the archive's file (or its database, without a password), ``series`` the
    (app id, metric) pair, ``stored`` the archive's step and ``asked`` the one passed.
    """

    def __init__(
        self, path: Path | str, series: SeriesKey, *, stored: timedelta, asked: timedelta
    ) -> None:
        app_id, metric = series
        super().__init__(
            f"{path} archives app {app_id} {metric} at {format_step(stored)}, not "
            f"{format_step(asked)}; archive it at {format_step(stored)} or into another database"
        )
        self.database = path
        self.series = series
        self.stored = stored
        self.asked = asked


def _has_table(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,))
    return found.fetchone() is not None


def read_watermarks(
    path: Path, series: Iterable[SeriesKey], step: timedelta
) -> dict[SeriesKey, datetime]:
    """The watermark of each of ``series`` that has one (``{}`` if there is no database yet).

    Raises ``StepConflictError`` if one of them was recorded at another step.
    """
    if not path.is_file():
        return {}
    wanted = set(series)
    found: dict[SeriesKey, datetime] = {}
    db = sqlite3.connect(path)
    try:
        if not _has_table(db):
            return {}
        rows = db.execute(f"SELECT app_id, metric, step_seconds, until FROM {TABLE}")
        for app_id, metric, seconds, until in rows:
            key = (int(app_id), str(metric))
            if key not in wanted:
                continue
            if int(seconds) != int(step.total_seconds()):
                raise StepConflictError(
                    path, key, stored=timedelta(seconds=int(seconds)), asked=step
                )
            found[key] = parse_time(str(until))
    finally:
        db.close()
    return found


def save_watermarks(path: Path, marks: Mapping[SeriesKey, datetime], step: timedelta) -> None:
    """Record ``marks`` (call it once the points up to them are committed)."""
    if not marks:
        return
    db = sqlite3.connect(path)
    try:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (app_id INTEGER NOT NULL, metric TEXT NOT NULL, "
            "step_seconds INTEGER NOT NULL, until TEXT NOT NULL, PRIMARY KEY (app_id, metric))"
        )
        seconds = int(step.total_seconds())
        db.executemany(
            f"INSERT INTO {TABLE} (app_id, metric, step_seconds, until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (app_id, metric) DO UPDATE SET step_seconds = excluded.step_seconds, "
            "until = excluded.until",
            [
                (app_id, metric, seconds, format_time(mark))
                for (app_id, metric), mark in marks.items()
            ],
        )
        db.commit()
    finally:
        db.close()
