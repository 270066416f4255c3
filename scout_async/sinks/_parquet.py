"""Parquet sink (needs ``pyarrow``: ``pip install 'scout-async[parquet]'``).

A Parquet file is only readable once its footer is written, so the output is a dataset
directory of part files, ``part-00000.parquet``, ``part-00001.parquet``, ...: rows are gathered
into row groups of up to ``row_group_rows``, written to a hidden temporary part; a part is
finished (closed, fsynced, renamed into place) once it holds ``rows_per_part`` rows, and at every
``flush``. The durable position is the number of finished parts. On resume, parts numbered from
there on and temporary parts are removed. ``pyarrow.parquet.read_table(path)`` reads the
directory as one table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .._bulk.durable import fsync_directory, fsync_file
from .._exceptions import ArgumentError, ArgumentTypeError, CheckpointMismatchError
from ..types._points import Point, Points
from ._base import COLUMNS, Position
from ._writable import check_writable

__all__ = ["ParquetSink"]

_PART = re.compile(r"^part-(\d{5,})\.parquet$")
_TEMPORARY = re.compile(r"^\.part-(\d{5,})\.parquet\.tmp$")


def _import_pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(
            "ParquetSink needs pyarrow, which is not installed: "
            "pip install 'scout-async[parquet]' (or pip install pyarrow)"
        ) from exc
    return pyarrow, pyarrow.parquet


class ParquetSink:
    """Points as a Parquet dataset directory at ``path``, columns ``app_id`` (int64),
    ``metric`` (string), ``time`` (``timestamp[ms, tz=UTC]``, Parquet's ``TIMESTAMP(MILLIS,
    isAdjustedToUTC=true)``: the bucket's start, always a whole second; Parquet has no unit of
    seconds), ``value`` (float64, null where Scout sent none).

    The trade-offs. Every ``flush`` has to end a part file (a Parquet file is durable only once
    its footer is written), so the number of parts follows the checkpoints: ``min_flush_interval``
    (60 s) asks ``backfill`` for a checkpoint at most once a minute unless it is given a
    ``checkpoint_every`` of its own, and a crash re-fetches at most that minute of work. Between
    flushes a part grows to ``rows_per_part`` rows (then the next begins). Rows are written in
    row groups of up to ``row_group_rows``: the sink holds at most that many rows in memory (a
    few MB by default), more than the one chunk per series other sinks hold, for row groups
    big enough to read well.

    >>> await client.backfill(apps=[101], metrics="all", start=t0, end=t1,
    ...                       sink=ParquetSink("points.parquet"), checkpoint="state.json")
    >>> pyarrow.parquet.read_table("points.parquet").num_rows

    Raises ``ImportError`` at construction if pyarrow is missing.
    """

    #: The checkpoint cadence ``backfill`` uses with this sink when not told one (seconds).
    min_flush_interval: float = 60.0

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        rows_per_part: int = 1_000_000,
        row_group_rows: int = 65_536,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str or a path, got {type(path).__name__}")
        for name, count in (("rows_per_part", rows_per_part), ("row_group_rows", row_group_rows)):
            if isinstance(count, bool) or not isinstance(count, int):
                raise ArgumentTypeError(f"{name} must be an int, got {count!r}")
            if count < 1:
                raise ArgumentError(f"{name} must be >= 1, got {count!r}")
        self._pa, self._pq = _import_pyarrow()
        self._path = Path(os.path.abspath(os.fspath(path)))
        if not self._path.parent.is_dir():
            raise ArgumentError(f"parquet sink: the directory {self._path.parent} does not exist")
        if self._path.exists() and not self._path.is_dir():
            raise ArgumentError(
                f"parquet sink: {self._path} is a file; the sink writes a directory of part files"
            )
        types = (
            self._pa.int64(),
            self._pa.string(),
            self._pa.timestamp("ms", tz="UTC"),
            self._pa.float64(),
        )
        self._schema = self._pa.schema(list(zip(COLUMNS, types, strict=True)))
        self._rows_per_part = rows_per_part
        self._row_group_rows = row_group_rows
        self._parts = 0
        self._writer: Any = None
        self._part_rows = 0  # rows of the part being written, buffered ones included
        self._buffer: list[Any] = []  # tables not written yet, fewer than row_group_rows rows
        self._buffered = 0
        self._opened = False
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"ParquetSink({str(self._path)!r})"

    @property
    def location(self) -> str:
        return f"parquet:{self._path}{os.sep}"

    @property
    def path(self) -> Path:
        return self._path

    def check(self) -> None:
        """Raise the ``OSError`` opening would meet (a read-only directory, a file that cannot
        be written), changing nothing: ``backfill`` asks before its first request."""
        check_writable(self._path, directory=True)

    def _part(self, index: int) -> Path:
        return self._path / f"part-{index:05d}.parquet"

    def _temporary(self, index: int) -> Path:
        return self._path / f".part-{index:05d}.parquet.tmp"

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        await anyio.to_thread.run_sync(self._open, resume)
        self._lock = anyio.Lock()
        self._opened = True

    def _open(self, resume: Mapping[str, Any] | None) -> None:
        self._path.mkdir(exist_ok=True)
        keep = 0
        if resume is not None:
            keep = resume.get("parts")  # type: ignore[assignment]
            if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
                raise self._mismatch(f"the checkpoint holds no part count ({keep!r})")
            missing = [i for i in range(keep) if not self._part(i).is_file()]
            if missing:
                raise self._mismatch(f"{self._part(missing[0]).name} is missing")
        for entry in os.listdir(self._path):
            match = _PART.match(entry) or _TEMPORARY.match(entry)
            if match and (_TEMPORARY.match(entry) or int(match.group(1)) >= keep):
                (self._path / entry).unlink()  # written after the checkpoint (or a fresh start)
        fsync_directory(self._path)
        self._parts = keep
        self._writer = None
        self._part_rows = 0
        self._buffer, self._buffered = [], 0

    def _mismatch(self, why: str) -> CheckpointMismatchError:
        return CheckpointMismatchError(
            f"cannot resume into {self.location}: {why}; it changed since the checkpoint was "
            "written. Delete the checkpoint (and the output) to start over"
        )

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        lock = self._require_open()
        if not points:
            return
        table = self._table(app_id, metric, Points.from_points(points))
        async with lock:
            await anyio.to_thread.run_sync(self._write, table)

    def _table(self, app_id: int, metric: str, points: Points) -> Any:
        """The chunk as an Arrow table, built on its arrays: no Python object per row."""
        # Imported on first use: ~5 ms that every other sink (all imported with the package)
        # would pay.
        from ..frames import points_to_arrow_arrays

        pa = self._pa
        count = len(points)
        # The values in place (null where NaN); the times cast from seconds to milliseconds,
        # what the column stores (Parquet has no unit of seconds).
        seconds, values = points_to_arrow_arrays(points)
        return pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(app_id, pa.int64()), count),
                pa.repeat(pa.scalar(metric, pa.string()), count),
                seconds.cast(self._schema.field("time").type),
                values,
            ],
            schema=self._schema,
        )

    def _write(self, table: Any) -> None:
        while table.num_rows:
            room = min(self._row_group_rows - self._buffered, self._rows_per_part - self._part_rows)
            taken, table = table.slice(0, room), table.slice(room)
            self._buffer.append(taken)
            self._buffered += taken.num_rows
            self._part_rows += taken.num_rows
            if self._part_rows >= self._rows_per_part:
                self._finish_part()
            elif self._buffered >= self._row_group_rows:
                self._write_row_group()

    def _write_row_group(self) -> None:
        if not self._buffered:
            return
        table = self._pa.concat_tables(self._buffer)
        self._buffer, self._buffered = [], 0
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(self._temporary(self._parts), self._schema)
        self._writer.write_table(table, row_group_size=table.num_rows)

    async def flush(self) -> Position:
        async with self._require_open():
            return await anyio.to_thread.run_sync(self._finish_part)

    def _require_open(self) -> anyio.Lock:
        if not self._opened or self._lock is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._lock

    def _finish_part(self) -> Position:
        self._write_row_group()
        writer, self._writer = self._writer, None
        self._part_rows = 0
        if writer is not None:
            writer.close()
            temporary, final = self._temporary(self._parts), self._part(self._parts)
            fsync_file(temporary)
            os.replace(temporary, final)
            fsync_directory(self._path)
            self._parts += 1
        return {"parts": self._parts}

    async def close(self) -> None:
        if self._opened and self._lock is not None:
            async with self._lock:
                self._opened = False
                await anyio.to_thread.run_sync(self._finish_part)
