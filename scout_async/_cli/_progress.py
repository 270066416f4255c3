"""Progress bars on stderr (only on a terminal), and counting finished chunks from a stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .._planner import Chunk

__all__ = ["ChunkCounter", "make_progress", "shows_progress"]


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
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
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
