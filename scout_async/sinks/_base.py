"""The interface of a backfill sink, and the long-format row every built-in sink stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .._time import format_time
from ..types._models import Point

__all__ = ["COLUMNS", "CheckpointingSink", "Position", "Sink", "row"]

#: A sink's durable position: small, JSON-able, stored in the checkpoint as is.
Position = dict[str, Any]

#: The one long-format table: a row per point.
COLUMNS = ("app_id", "metric", "time", "value")


@runtime_checkable
class Sink(Protocol):
    """Where a backfill writes its points: one long-format table ``(app_id, metric, time, value)``.

    The job calls ``open(resume)`` once, ``write`` once per chunk (each series' chunks in time
    order, series interleaved), ``flush`` before every checkpoint and ``close`` at the end.
    ``points`` is a ``Sequence[Point]``; in practice a columnar ``Points``, whose arrays
    ``points.times`` (int64 epoch seconds) and ``points.values`` (float64, ``NaN`` where missing)
    a sink reads without making a ``Point`` per row (``Points.from_points`` turns any other
    sequence of ``Point`` into one).
    ``flush`` makes everything written so far durable and returns its *position*, a small JSON-able
    dict kept in the checkpoint; ``open(position)`` on resume restores the output to exactly that
    state (whatever was written after it is dropped), so a resumed job neither repeats nor loses a
    row. ``location`` names the output (kind and path) and is part of the checkpoint's fingerprint.
    A sink holds at most one chunk per series in memory.

    A sink may say ``interruptible = True`` when a cancellation may cut any of its calls short
    without harm: what it wrote counts only once flushed, and rows written again replace
    themselves (``PostgresSink``). A backfill (and an archive) then lets a cancellation through
    its writes instead of shielding them, and gives its cancel-time checkpoint and its close 10
    seconds, so a database that stopped answering cannot hold a cancelled job.

    >>> class CountingSink:
    ...     location = "count:"
    ...     rows = 0
    ...     async def open(self, resume=None): self.rows = (resume or {}).get("rows", 0)
    ...     async def write(self, app_id, metric, points): self.rows += len(points)
    ...     async def flush(self): return {"rows": self.rows}
    ...     async def close(self): pass
    >>> await client.backfill(apps=[101], metrics="all", start=t0, end=t1, sink=CountingSink())
    """

    @property
    def location(self) -> str: ...

    async def open(self, resume: Mapping[str, Any] | None = None) -> None: ...

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None: ...

    async def flush(self) -> Position: ...

    async def close(self) -> None: ...


@runtime_checkable
class CheckpointingSink(Sink, Protocol):
    """A sink that keeps a backfill's checkpoint itself, in the same transaction as the rows it
    covers (a database: ``PostgresSink``). ``backfill`` without a ``checkpoint`` file uses it.

    ``read_checkpoint(job)`` returns the checkpoint document recorded under ``job`` (``None`` if
    there is none); it works whether the sink is open or not. ``flush_checkpoint(job, document)``
    does what ``flush`` does and records ``document`` under ``job``, atomically: after a crash
    the database holds the rows the last recorded checkpoint covers, and maybe more (written
    again on resume, idempotently), never fewer. A resumed job's ``open`` gets ``{}``.
    """

    async def read_checkpoint(self, job: str) -> dict[str, Any] | None: ...

    async def flush_checkpoint(self, job: str, document: Mapping[str, Any]) -> None: ...


def row(app_id: int, metric: str, point: Point) -> tuple[int, str, str, float | None]:
    """A point as a row of the long-format table (time as ISO 8601 UTC with ``Z``).

    For a sink of your own; the built-in sinks read a chunk's columns instead (``Points``).
    """
    return app_id, metric, format_time(point.time), point.value
