"""The archive's watermarks: per series, the end of what the SQLite archive holds without a gap.

They live next to the points, in a table ``archive_watermarks(app_id, metric, step_seconds,
until)``, written only after the points up to ``until`` are committed, so a crash leaves a
watermark behind the data (re-fetched, harmlessly: points are upserted), never ahead of it. A
series without a watermark (a database filled by ``backfill``) starts after its newest point: a
backfill writes each series in time order, so what it committed is a prefix of its window.

Blocking calls: run them in a worker thread. Each opens its own short-lived connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from .._selection import SeriesKey
from .._steps import format_step
from .._time import format_time, parse_time

__all__ = ["StepConflict", "read_watermarks", "save_watermarks"]

TABLE = "archive_watermarks"
POINTS = "points"


class StepConflict(ValueError):
    """The archive holds a series at another step than the one asked for."""


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def read_watermarks(
    path: Path, series: Iterable[SeriesKey], step: timedelta
) -> dict[SeriesKey, datetime]:
    """Where each of ``series`` continues: its watermark, else just after its newest point; a
    series the archive does not hold is left out.

    Raises ``StepConflict`` if a watermark was recorded at another step.
    """
    if not path.exists():
        return {}
    wanted = set(series)
    found: dict[SeriesKey, datetime] = {}
    db = sqlite3.connect(path)
    try:
        if _has_table(db, TABLE):
            rows = db.execute(f"SELECT app_id, metric, step_seconds, until FROM {TABLE}")
            for app_id, metric, seconds, until in rows:
                key = (int(app_id), str(metric))
                if key not in wanted:
                    continue
                if int(seconds) != int(step.total_seconds()):
                    raise StepConflict(
                        f"{path} archives app {app_id} {metric} at "
                        f"{format_step(timedelta(seconds=int(seconds)))}, not "
                        f"{format_step(step)}; pass --resolution "
                        f"{format_step(timedelta(seconds=int(seconds)))} or use another --db"
                    )
                found[key] = parse_time(str(until))
        if _has_table(db, POINTS):
            rows = db.execute(
                f"SELECT app_id, metric, MAX(time) FROM {POINTS} GROUP BY app_id, metric"
            )
            for app_id, metric, newest in rows:
                key = (int(app_id), str(metric))
                if key in wanted and key not in found and newest is not None:
                    found[key] = parse_time(str(newest)) + step
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
