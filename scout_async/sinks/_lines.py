"""Line-oriented file sinks (JSON Lines, CSV): one file, or one file per series in a directory.

Resume: a line file only ever grows, so its durable state is its length. ``flush`` fsyncs and
returns the length of every file (``{"bytes": n}``, or ``{"files": {name: n}}`` per series); on
resume each file is truncated back to that length, which drops whatever a crashed or cancelled
run wrote after its last checkpoint. The checkpoint's watermarks say which chunks those bytes
held, so the resumed run writes them again, once. A per-series file the checkpoint does not know
yet is rewritten from the start by its series' first write (a file created after the checkpoint
by a run that crashed is left as it is until then).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import quote

import anyio
import anyio.to_thread

from .._bulk.durable import fsync_directory, fsync_file
from .._exceptions import ArgumentError, ArgumentTypeError, CheckpointMismatchError
from .._time import format_epochs
from ..types._points import Point, Points
from ._base import COLUMNS, Position
from ._writable import check_writable

__all__ = ["CsvSink", "JsonlSink"]


def _json_numbers(values: memoryview) -> list[str]:
    """Each of ``values`` as JSON: ``repr`` (what ``json.dumps`` writes for a float), ``null``
    for ``NaN`` (a missing value), ``Infinity``/``-Infinity`` as ``json.dumps`` writes them."""
    # ``v - v == 0.0`` is False exactly for NaN and the infinities: the rare case pays.
    return [
        repr(v) if v - v == 0.0 else "null" if v != v else json.dumps(v) for v in values.tolist()
    ]


def _csv_numbers(values: memoryview) -> list[str]:
    """Each of ``values`` as a CSV field: ``repr``, an empty field for ``NaN`` (missing)."""
    return ["" if v != v else repr(v) for v in values.tolist()]


_COMPACT = (",", ":")


class _LineSink:
    """A sink whose rows are lines of bytes; subclasses say how a chunk is encoded."""

    _kind: ClassVar[str]
    _suffix: ClassVar[str]

    def __init__(self, path: str | os.PathLike[str], *, per_series: bool = False) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str or a path, got {type(path).__name__}")
        self._path = Path(os.path.abspath(os.fspath(path)))
        self._per_series = per_series
        if not self._path.parent.is_dir():
            raise ArgumentError(
                f"{self._kind} sink: the directory {self._path.parent} does not exist"
            )
        if per_series and self._path.exists() and not self._path.is_dir():
            raise ArgumentError(f"{self._kind} sink: {self._path} is a file, not a directory")
        if not per_series and self._path.is_dir():
            raise ArgumentError(
                f"{self._kind} sink: {self._path} is a directory; pass per_series=True to write "
                "one file per series into it"
            )
        self._files: _OneFile | _FilePerSeries | None = None
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r}, per_series={self._per_series})"

    @property
    def location(self) -> str:
        return f"{self._kind}:{self._path}{os.sep if self._per_series else ''}"

    @property
    def path(self) -> Path:
        """The file, or the directory of per-series files."""
        return self._path

    def check(self) -> None:
        """Raise the ``OSError`` opening would meet (a read-only directory, a file that cannot
        be written), changing nothing: ``backfill`` asks before its first request."""
        check_writable(self._path, directory=self._per_series)

    def _header(self) -> bytes:
        return b""

    def _encode(self, app_id: int, metric: str, points: Points) -> bytes:
        raise NotImplementedError

    def _file_name(self, app_id: int, metric: str) -> str:
        return f"{app_id}-{quote(metric, safe='')}{self._suffix}"

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        files: _OneFile | _FilePerSeries
        if self._per_series:
            files = _FilePerSeries(self._path, self._header(), self.location)
        else:
            files = _OneFile(self._path, self._header(), self.location)
        await anyio.to_thread.run_sync(files.open, resume)
        self._files = files
        self._lock = anyio.Lock()

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        if not points:
            return
        files, lock = self._require_open()
        data = self._encode(app_id, metric, Points.from_points(points))
        async with lock:
            await anyio.to_thread.run_sync(files.append, self._file_name(app_id, metric), data)

    async def flush(self) -> Position:
        files, lock = self._require_open()
        async with lock:
            return await anyio.to_thread.run_sync(files.sync)

    async def close(self) -> None:
        files, self._files = self._files, None
        if files is not None:
            await anyio.to_thread.run_sync(files.close)

    def _require_open(self) -> tuple[_OneFile | _FilePerSeries, anyio.Lock]:
        if self._files is None or self._lock is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._files, self._lock


class JsonlSink(_LineSink):
    """JSON Lines: one object per point, ``{"app_id", "metric", "time", "value"}``.

    ``per_series=True`` makes ``path`` a directory with one file per series
    (``{app_id}-{metric}.jsonl``). Resumable: see the module notes.

    >>> await client.backfill(apps=[101], metrics=["apdex"], start=t0, end=t1,
    ...                       sink=JsonlSink("points.jsonl"), checkpoint="points.state.json")
    """

    _kind = "jsonl"
    _suffix = ".jsonl"

    def _encode(self, app_id: int, metric: str, points: Points) -> bytes:
        # The series' columns are encoded once per chunk, the times and values once per column,
        # from the arrays: json.dumps per row was the sink's whole cost. Same bytes as
        # json.dumps(row, separators=_COMPACT).
        head = json.dumps({"app_id": app_id, "metric": metric}, separators=_COMPACT)[:-1]
        lines = [
            f'{head},"time":"{time}","value":{value}}}'
            for time, value in zip(
                format_epochs(points.times), _json_numbers(points.values), strict=True
            )
        ]
        return ("\n".join(lines) + "\n").encode()


class CsvSink(_LineSink):
    """CSV with a header ``app_id,metric,time,value``; a missing value is an empty field.

    ``per_series=True`` makes ``path`` a directory with one file per series. Resumable: see the
    module notes.

    >>> await client.backfill(apps="all", metrics="all", start=t0, end=t1,
    ...                       sink=CsvSink("points.csv"), checkpoint="points.state.json")
    """

    _kind = "csv"
    _suffix = ".csv"

    def _header(self) -> bytes:
        return self._csv([COLUMNS])

    def _encode(self, app_id: int, metric: str, points: Points) -> bytes:
        times = format_epochs(points.times)
        values = _csv_numbers(points.values)
        return self._csv(zip(repeat(app_id), repeat(metric), times, values))

    @staticmethod
    def _csv(rows: Iterable[Sequence[object]]) -> bytes:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        return text.getvalue().encode()


def _mismatch(location: str, why: str) -> CheckpointMismatchError:
    return CheckpointMismatchError(
        f"cannot resume into {location}: {why}; it changed since the checkpoint was written. "
        "Delete the checkpoint (and the output) to start over"
    )


def _length(value: object, location: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _mismatch(location, f"the checkpoint holds no valid file length ({value!r})")
    return value


def _truncate(handle: BinaryIO, length: int, location: str) -> None:
    size = os.fstat(handle.fileno()).st_size
    if size < length:
        raise _mismatch(location, f"it holds {size} bytes, fewer than the {length} checkpointed")
    handle.truncate(length)
    handle.seek(length)


class _OneFile:
    """One append-only file, kept open; its durable state is its length."""

    def __init__(self, path: Path, header: bytes, location: str) -> None:
        self._path = path
        self._header = header
        self._location = location
        self._handle: BinaryIO | None = None
        self._length = 0

    def open(self, resume: Mapping[str, Any] | None) -> None:
        handle: BinaryIO
        if resume is None:
            handle = open(self._path, "wb")  # noqa: SIM115 - kept open until close()
            handle.write(self._header)
            self._length = len(self._header)
        else:
            length = _length(resume.get("bytes"), self._location)
            try:
                handle = open(self._path, "r+b")  # noqa: SIM115
            except FileNotFoundError:
                raise _mismatch(self._location, "the file is missing") from None
            try:
                _truncate(handle, length, self._location)
            except BaseException:
                handle.close()
                raise
            self._length = length
        self._handle = handle

    def append(self, name: str, data: bytes) -> None:
        assert self._handle is not None
        try:
            self._handle.write(data)
        except BaseException:
            # Leave no half chunk behind for the next write to follow.
            with contextlib.suppress(OSError):
                self._handle.seek(self._length)
                self._handle.truncate(self._length)
            raise
        self._length += len(data)

    def sync(self) -> Position:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return {"bytes": self._length}

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class _FilePerSeries:
    """A directory of append-only files, one per series, opened per write so that thousands of
    series never hold thousands of file handles."""

    def __init__(self, directory: Path, header: bytes, location: str) -> None:
        self._directory = directory
        self._header = header
        self._location = location
        self._lengths: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._created = False

    def open(self, resume: Mapping[str, Any] | None) -> None:
        self._directory.mkdir(exist_ok=True)
        self._lengths = {}
        if resume is None:
            return
        files = resume.get("files")
        if not isinstance(files, dict):
            raise _mismatch(self._location, "the checkpoint lists no files")
        for name, value in files.items():
            length = _length(value, self._location)
            if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
                raise _mismatch(self._location, f"the checkpoint names a foreign file {name!r}")
            try:
                with open(self._directory / name, "r+b") as handle:
                    _truncate(handle, length, self._location)
            except FileNotFoundError:
                raise _mismatch(self._location, f"{name} is missing") from None
            self._lengths[name] = length

    def append(self, name: str, data: bytes) -> None:
        path = self._directory / name
        known = self._lengths.get(name)
        if known is None:
            # First write of this series in this output: whatever a run before wrote is stale.
            with open(path, "wb") as handle:
                handle.write(self._header + data)
            self._lengths[name] = len(self._header) + len(data)
            self._created = True
        else:
            with open(path, "r+b") as handle:
                handle.seek(known)
                handle.write(data)
                handle.truncate()
            self._lengths[name] = known + len(data)
        self._dirty.add(name)

    def sync(self) -> Position:
        for name in sorted(self._dirty):
            fsync_file(self._directory / name)
        if self._created:
            fsync_directory(self._directory)
        self._dirty.clear()
        self._created = False
        return {"files": dict(sorted(self._lengths.items()))}

    def close(self) -> None:
        self._dirty.clear()
