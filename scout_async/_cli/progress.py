"""Progress on stderr: bars with a rate and an ETA on a terminal, a heartbeat line every few
seconds off one (a log, CI); counting finished chunks from a stream; and the bars of a backfill
(overall, plus the series being written right now). Progress never goes to stdout."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from .._bulk import report as _report
from .._bulk.selection import SeriesKey
from .._series.planner import Chunk
from ..sinks import Position, Sink
from ..types._models import Point

__all__ = [
    "BackfillBars",
    "ChunkCounter",
    "Heartbeat",
    "WatchedSink",
    "describe_task",
    "heartbeat",
    "make_progress",
    "shows_progress",
]


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


def _duration(seconds: float | None) -> str:
    """``3m05s``, ``1h02m``, ``12s``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class _Counts(ProgressColumn):
    """``8,029/21,600``: never cut (the column does not wrap or shrink)."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, justify="right"))

    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else f"{int(task.total):,}"
        return Text(f"{int(task.completed):,}/{total}")


class _RateAndEta(ProgressColumn):
    """``12.5/s ETA 3m05s`` (the rate of the last 30 seconds)."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True))

    def render(self, task: Task) -> Text:
        if task.finished:
            return Text("done")
        speed = task.speed
        rate = "-/s" if not speed else f"{speed:,.1f}/s"
        return Text(f"{rate} ETA {_duration(task.time_remaining)}")


def make_progress(console: Console, *, transient: bool) -> Progress:
    """A rich progress display on ``console``: bars, counts, rate, ETA and each task's ``unit``
    (retries among them); a silent no-op unless it is a terminal (see ``heartbeat`` for the
    others). Laid out for 80 columns: the counts never shrink, the names and units give way.

    Colours follow ``console``: rich leaves them out under ``NO_COLOR``.
    """
    return Progress(
        # Descriptions hold metric names and ids from the server and the user: never markup.
        TextColumn(
            "{task.description}",
            markup=False,
            table_column=Column(no_wrap=True, overflow="ellipsis", max_width=24),
        ),
        BarColumn(bar_width=12),
        _Counts(),
        TextColumn(
            "{task.fields[unit]}",
            markup=False,
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        _RateAndEta(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=not shows_progress(console),
        speed_estimate_period=30,
    )


def describe_task(task: Task) -> str:
    """One task as a line of text: ``chunks 120/720 (16%), 3.2/s, ETA 3m05s, 2 retried``."""
    total = None if task.total is None else int(task.total)
    counts = f"{int(task.completed):,}/{'?' if total is None else f'{total:,}'}"
    if total:
        counts += f" ({task.completed / total:.0%})"
    unit = str(task.fields.get("unit", "")).strip()
    parts = [f"{task.description.strip()} {counts}" + (f" {unit}" if unit else "")]
    if not task.finished:
        speed = task.speed
        parts.append("-/s" if not speed else f"{speed:,.1f}/s")
        parts.append(f"ETA {_duration(task.time_remaining)}")
    return ", ".join(parts)


class Heartbeat:
    """A line on ``stream`` every ``interval`` seconds while running, describing ``progress``'s
    tasks (``describe_task``): the progress of a long command in a log or CI, where bars would
    be noise. A thread, so it beats while the event loop is busy."""

    def __init__(
        self, progress: Progress, stream: IO[str], interval: float, *, name: str, rows: int = 2
    ) -> None:
        self._progress = progress
        self._stream = stream
        self._interval = interval
        self._name = name
        self._rows = rows
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scout-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def line(self) -> str:
        tasks = [task for task in self._progress.tasks if task.visible][: self._rows]
        described = "; ".join(describe_task(task) for task in tasks) or "starting"
        elapsed = _duration(time.monotonic() - self._began)
        return f"{self._name}: {described} ({elapsed} elapsed)"

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(self.line() + "\n")
                self._stream.flush()


@contextlib.contextmanager
def heartbeat(
    progress: Progress, console: Console, interval: float, *, name: str, rows: int = 2
) -> Iterator[None]:
    """A ``Heartbeat`` of ``progress`` on ``console``'s file when it is not a terminal (and
    ``interval`` is not 0); nothing otherwise."""
    if interval <= 0 or shows_progress(console):
        yield
        return
    with Heartbeat(progress, console.file, interval, name=name, rows=rows):
        yield


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
