"""SQLite sink (stdlib ``sqlite3``): a ``points`` table with an upsert on its primary key.

Resume: rows are keyed by ``(app_id, metric, time)`` and written with an upsert, so writing a
chunk twice leaves the table as writing it once. ``flush`` commits; a crash rolls back what was
not committed, and a crash between a commit and the checkpoint re-writes those rows, harmlessly.
A fresh job records a random token in a small table ``{table}_jobs`` and its position is that
token: resuming into a database that lacks it (deleted, or another file) is refused instead of
silently leaving out what the checkpoint says is there.
Blocking calls run in a worker thread (``anyio.to_thread``), one at a time.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .._exceptions import ArgumentError, ArgumentTypeError, CheckpointMismatchError
from .._time import format_epochs, parse_time
from ..types._points import Point, Points
from ._base import Position
from ._writable import check_writable

__all__ = ["SqliteSink"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqliteSink:
    """Points in an SQLite table (created if missing)::

        points(app_id INTEGER, metric TEXT, time TEXT, value REAL,
               PRIMARY KEY (app_id, metric, time))

    ``time`` is ISO 8601 UTC with ``Z``, so it sorts in time order. Re-running a backfill into the
    same database is idempotent. ``{table}_jobs`` holds a token per job (see the module notes).

    >>> await client.backfill(apps="all", metrics="all", start=t0, end=t1,
    ...                       sink=SqliteSink("scout.db"), checkpoint="scout.state.json")
    >>> sqlite3.connect("scout.db").execute("SELECT count(*) FROM points").fetchone()
    """

    def __init__(self, path: str | os.PathLike[str], *, table: str = "points") -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str or a path, got {type(path).__name__}")
        self._path = Path(os.path.abspath(os.fspath(path)))
        if not self._path.parent.is_dir():
            raise ArgumentError(f"sqlite sink: the directory {self._path.parent} does not exist")
        if self._path.is_dir():
            raise ArgumentError(f"sqlite sink: {self._path} is a directory, not a database file")
        if not isinstance(table, str) or not _IDENTIFIER.match(table):
            raise ArgumentError(f"sqlite sink: table must be a plain SQL identifier, got {table!r}")
        self._table = table
        self._db: sqlite3.Connection | None = None
        self._lock: anyio.Lock | None = None
        self._token = ""

    def __repr__(self) -> str:
        return f"SqliteSink({str(self._path)!r}, table={self._table!r})"

    @property
    def location(self) -> str:
        return f"sqlite:{self._path}#{self._table}"

    @property
    def path(self) -> Path:
        return self._path

    def check(self) -> None:
        """Raise the ``OSError`` opening would meet (a read-only directory, a file that cannot
        be written), changing nothing: ``backfill`` asks before its first request."""
        # SQLite writes a journal next to the database: its directory must take new files.
        check_writable(self._path, directory=False, needs_directory=True)

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        self._lock = anyio.Lock()
        self._db = await anyio.to_thread.run_sync(self._connect, resume)

    def _connect(self, resume: Mapping[str, Any] | None) -> sqlite3.Connection:
        # Worker threads differ from call to call; the lock keeps the use sequential.
        db = sqlite3.connect(self._path, check_same_thread=False)
        try:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                "app_id INTEGER NOT NULL, metric TEXT NOT NULL, time TEXT NOT NULL, value REAL, "
                "PRIMARY KEY (app_id, metric, time))"
            )
            db.execute(f"CREATE TABLE IF NOT EXISTS {self._table}_jobs (token TEXT PRIMARY KEY)")
            if resume is None:
                self._token = secrets.token_hex(16)
                db.execute(f"INSERT INTO {self._table}_jobs (token) VALUES (?)", (self._token,))
            else:
                self._token = str(resume.get("token", ""))
                found = db.execute(
                    f"SELECT 1 FROM {self._table}_jobs WHERE token = ?", (self._token,)
                ).fetchone()
                if found is None:
                    raise CheckpointMismatchError(
                        f"cannot resume into {self.location}: the database holds no rows of the "
                        "checkpointed job (was it deleted or replaced?). Delete the checkpoint to "
                        "start over"
                    )
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    async def newest_times(self) -> dict[tuple[int, str], datetime]:
        """The time of each series' newest row, ``{(app_id, metric): time}``; empty while the
        database or its table does not exist (the file is not created).

        It reads what is committed, through a connection of its own, so the sink may be open or
        not. A backfill writes each series in time order: what it committed of a series ends
        there.
        """
        return await anyio.to_thread.run_sync(self._newest_times)

    def _newest_times(self) -> dict[tuple[int, str], datetime]:
        if not self._path.is_file():
            return {}
        db = sqlite3.connect(self._path)
        try:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self._table,)
            )
            if found.fetchone() is None:
                return {}
            rows = db.execute(
                f"SELECT app_id, metric, MAX(time) FROM {self._table} GROUP BY app_id, metric"
            )
            return {
                (int(app_id), str(metric)): parse_time(str(newest))
                for app_id, metric, newest in rows
                if newest is not None
            }
        finally:
            db.close()

    async def read_watermarks(
        self, series: Iterable[tuple[int, str]], step: timedelta
    ) -> dict[tuple[int, str], datetime]:
        """An archive's watermark of each of ``series`` that has one (``archive_watermarks``);
        ``StepConflictError`` if one was recorded at another step."""
        from .._bulk.watermarks import read_watermarks

        return await anyio.to_thread.run_sync(read_watermarks, self._path, list(series), step)

    async def commit_watermarks(
        self, marks: Mapping[tuple[int, str], datetime], step: timedelta
    ) -> None:
        """Commit what was written, then record an archive's watermarks ``marks``: a crash in
        between leaves them behind the rows (re-fetched, idempotently), never ahead."""
        from .._bulk.watermarks import save_watermarks

        await self.flush()
        await anyio.to_thread.run_sync(save_watermarks, self._path, dict(marks), step)

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        if not points:
            return
        db, lock = self._require_open()
        columns = Points.from_points(points)
        # The rows zipped from the columns, times formatted once per chunk: no Point per row.
        values = [None if v != v else v for v in columns.values.tolist()]
        rows = zip(repeat(app_id), repeat(metric), format_epochs(columns.times), values)
        sql = (
            f"INSERT INTO {self._table} (app_id, metric, time, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (app_id, metric, time) DO UPDATE SET value = excluded.value"
        )
        async with lock:
            await anyio.to_thread.run_sync(db.executemany, sql, rows)

    async def flush(self) -> Position:
        db, lock = self._require_open()
        async with lock:
            await anyio.to_thread.run_sync(db.commit)
        return {"token": self._token}

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is None:
            return
        lock = self._lock or anyio.Lock()
        async with lock:
            await anyio.to_thread.run_sync(_commit_and_close, db)

    def _require_open(self) -> tuple[sqlite3.Connection, anyio.Lock]:
        if self._db is None or self._lock is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._db, self._lock


def _commit_and_close(db: sqlite3.Connection) -> None:
    try:
        db.commit()
    finally:
        db.close()
