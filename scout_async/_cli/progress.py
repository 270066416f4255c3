"""Progress bars on stderr (only on a terminal), counting finished chunks from a stream, and the
bars of a backfill (overall, plus the series being written right now)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from .._bulk import report as _report
from .._bulk.selection import SeriesKey
from .._series.planner import Chunk
from ..sinks import Position, Sink
from ..types._models import Point

__all__ = ["BackfillBars", "ChunkCounter", "WatchedSink", "make_progress", "shows_progress"]


def shows_progress(console: Console) -> bool:
    """Whether ``console`` is a real, interactive terminal.

    Its file must be a TTY: ``FORCE_COLOR`` makes rich treat a pipe as a terminal, and a log file
    should not fill with redrawn bars. ``TERM=dumb`` or ``TTY_INTERACTIVE=0`` turn the bars off.
    """
    isatty = getattr(console.file, "isatty", None)
    try:
        return bool(isatty and isatty()) and console.is_interactive
    except ValueError:  # a closed file
        return False


def make_progress(console: Console, *, transient: bool) -> Progress:
    """A rich progress display on ``console``; a silent no-op unless it is a terminal.

    Colours follow ``console``: rich leaves them out under ``NO_COLOR``.
    """
    return Progress(
        # Descriptions hold metric names and ids from the server and the user: never markup.
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not shows_progress(console),
    )


class ChunkCounter:
    """Turns the times of a series' points, in order, into "chunks finished so far".

    A point at or after a chunk's ``owned_end`` means that chunk is complete (the stream is in
    order), even if it had no points at all.

    >>> counter = ChunkCounter(plan_range(t0, t0 + timedelta(days=3), "1h"))
    >>> counter.passed(t0 + timedelta(days=2))  # chunks finished since the last call
    1
    """

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._ends = [chunk.owned_end for chunk in chunks]
        self._done = 0

    @property
    def total(self) -> int:
        return len(self._ends)

    def passed(self, moment: datetime) -> int:
        """How many more chunks are complete once a point at ``moment`` has arrived."""
        before = self._done
        while self._done < len(self._ends) and moment >= self._ends[self._done]:
            self._done += 1
        return self._done - before

    def finish(self) -> int:
        """The stream ended: every remaining chunk is complete."""
        rest = len(self._ends) - self._done
        self._done = len(self._ends)
        return rest


class BackfillBars:
    """A backfill on a progress display: series and chunks overall, and one bar per series being
    written right now (at most ``rows``; the one idle longest makes way, and a finished one
    goes), so a job of a thousand series stays a few lines tall.

    ``update`` is the backfill's ``progress`` callback; ``chunk_written`` hears of every chunk a
    series writes, from a ``WatchedSink`` (or from the archive engine: a ``BackfillWatch``).
    ``done_before`` counts the chunks each series had written before a resumed run.
    """

    def __init__(
        self,
        progress: Progress,
        *,
        chunks_per_series: int,
        rows: int,
        done_before: Mapping[SeriesKey, int] | None = None,
    ) -> None:
        self._progress = progress
        self._per_series = chunks_per_series
        self._rows = max(1, rows)
        self._done = dict(done_before or {})
        self._active: dict[SeriesKey, TaskID] = {}  # least recently written first
        self._series = progress.add_task("series", total=None, unit="series")
        self._chunks = progress.add_task("chunks", total=None, unit="chunks")

    def update(self, snapshot: _report.Progress) -> None:
        self._progress.update(
            self._series,
            total=snapshot.series_total,
            completed=snapshot.series_done + snapshot.series_failed,
            unit="series"
            + (f", {snapshot.series_failed} failed" if snapshot.series_failed else ""),
        )
        retried = f", {snapshot.retries} retried" if snapshot.retries else ""
        self._progress.update(
            self._chunks,
            total=snapshot.chunks_total,
            completed=snapshot.chunks_done,
            unit=f"chunks, {snapshot.points_written:,} points{retried}",
        )

    def chunk_written(self, app_id: int, metric: str) -> None:
        key = (app_id, metric)
        done = self._done.get(key, 0) + 1
        self._done[key] = done
        task = self._active.pop(key, None)
        if task is None:
            if len(self._active) >= self._rows:
                idle = next(iter(self._active))
                self._progress.remove_task(self._active.pop(idle))
            task = self._progress.add_task(
                f"  app {app_id} {metric}", total=self._per_series, unit="chunks"
            )
        if done >= self._per_series:
            self._progress.remove_task(task)
            return
        self._progress.update(task, completed=done)
        self._active[key] = task

    def finish(self) -> None:
        """Leave only the overall bars."""
        for task in self._active.values():
            self._progress.remove_task(task)
        self._active.clear()


class WatchedSink:
    """A sink that tells ``bars`` about every chunk it writes, and is otherwise ``inner``.

    The backfill writes each chunk with one ``write`` call (an empty chunk too), so this counts a
    series' chunks exactly; ``location`` is the inner sink's, so checkpoints are unaffected.
    """

    def __init__(self, inner: Sink, bars: BackfillBars) -> None:
        self._inner = inner
        self._bars = bars

    @property
    def location(self) -> str:
        return self._inner.location

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        await self._inner.open(resume)

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        await self._inner.write(app_id, metric, points)
        self._bars.chunk_written(app_id, metric)

    async def flush(self) -> Position:
        return await self._inner.flush()

    async def close(self) -> None:
        await self._inner.close()
