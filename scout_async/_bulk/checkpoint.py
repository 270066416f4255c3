"""A backfill's checkpoint: the plan's fingerprint and, per series, how far the output is durable.

The state file is JSON, replaced atomically (temporary file, fsync, ``os.replace``) so a crash
leaves the previous checkpoint or the new one, never half of one. It holds the plan in plain
words, its sha256 fingerprint, the series (so ``apps="all"`` resumes the series it started
with), each series' ``done_until`` (the ``owned_end`` of its last durably written chunk) and the
sink's position. It never holds the API key, the base URL or any header.

``CheckpointFile`` is its one reader: ``load`` for the backfill that resumes it (which must be of
the same plan), ``saved_plan`` for whoever wants to know which plan that is (the command line's
``--resume``, which continues the very window it started even when it was given as ``30d``).

Where a job keeps it, a ``CheckpointStore``: a file (``FileCheckpoints``: flush the sink, then
replace the file; a crash in between re-writes rows, idempotently or dropped by the sink), or
the sink's own database (``SinkCheckpoints``, for a ``CheckpointingSink``: the same document,
committed in one transaction with the rows it covers, under the job name ``backfill/`` + the
plan's fingerprint, so the same plan, or shard, finds its own checkpoint again).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import anyio.to_thread
import attrs

from .._exceptions import ArgumentError, ArgumentTypeError, CheckpointMismatchError
from .._series.planner import PLANNER_VERSION
from .._time import display_time, parse_time
from ..sinks import CheckpointingSink, Position, Sink
from .durable import replace_atomically
from .selection import Selection, SeriesKey

__all__ = [
    "Checkpoint",
    "CheckpointFile",
    "CheckpointStore",
    "FileCheckpoints",
    "Plan",
    "SavedPlan",
    "SinkCheckpoints",
    "checkpoint_store",
]

FORMAT = "scout_async.backfill/1"


@attrs.frozen
class Plan:
    """What a checkpoint is valid for: the series selection, window, step and output."""

    selection: Selection
    start: datetime
    end: datetime
    step: timedelta
    sink: str

    def describe(self) -> dict[str, Any]:
        return {
            **self.selection.describe(),
            "start": display_time(self.start),
            "end": display_time(self.end),
            "step_seconds": int(self.step.total_seconds()),
            "planner_version": PLANNER_VERSION,
            "sink": self.sink,
        }

    def fingerprint(self) -> str:
        canonical = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@attrs.define
class Checkpoint:
    """The resumable state: series in job order, their watermarks, the sink's position."""

    series: list[SeriesKey]
    done_until: dict[SeriesKey, datetime | None]
    sink: Position


@attrs.frozen
class SavedPlan:
    """What a state file says its backfill covers, and how far each series got: the arguments
    that resume it (``"all"`` where the job listed its apps or metrics)."""

    apps: tuple[int, ...] | Literal["all"]
    metrics: tuple[str, ...] | Literal["all"]
    start: datetime
    end: datetime
    step: timedelta
    done_until: dict[SeriesKey, datetime | None]


#: How a refused checkpoint says what to do: resuming a plan, or reading the plan it holds.
_FIX_THE_ARGUMENTS = "Pass the arguments it was written for, or delete it"
_DELETE_IT = "Delete it"


class CheckpointFile:
    """The state file at ``path``. Loading refuses a checkpoint of another plan."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"checkpoint must be a path or None, got {type(path).__name__}")
        self.path = Path(os.path.abspath(os.fspath(path)))
        if not self.path.parent.is_dir():
            raise ArgumentError(f"checkpoint: the directory {self.path.parent} does not exist")
        if self.path.is_dir():
            raise ArgumentError(f"checkpoint: {self.path} is a directory, not a file")

    def load(self, plan: Plan, boundaries: Collection[datetime]) -> Checkpoint | None:
        """The checkpoint of ``plan``, or ``None`` when there is no state file yet.

        ``boundaries`` are the chunk ends of the plan: a watermark must be one of them.
        """
        document = self._document(_FIX_THE_ARGUMENTS)
        if document is None:
            return None
        return _decode(document, plan, boundaries, self._mismatch)

    def saved_plan(self) -> SavedPlan | None:
        """The plan the state file was written for, or ``None`` when there is none.

        Raises ``CheckpointMismatchError`` when it is not a backfill checkpoint, ``OSError`` when
        it cannot be read. Resuming checks the fingerprint and the rest (``load``).
        """
        document = self._document(_DELETE_IT)
        if document is None:
            return None
        try:
            plan = document["plan"]
            apps, metrics = plan["apps"], plan["metrics"]
            _, done_until = _read_series(document, None)
            return SavedPlan(
                apps="all" if apps == "all" else tuple(int(a) for a in apps),
                metrics="all" if metrics == "all" else tuple(str(m) for m in metrics),
                start=parse_time(str(plan["start"])),
                end=parse_time(str(plan["end"])),
                step=timedelta(seconds=int(plan["step_seconds"])),
                done_until=done_until,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise self._mismatch(f"its plan is malformed ({exc})", _DELETE_IT) from None

    def _document(self, fix: str) -> dict[str, Any] | None:
        """The state file as JSON, ``None`` if there is none; refused unless a checkpoint."""
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            document = json.loads(text)
        except ValueError:
            raise self._mismatch("it is not JSON", fix) from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise self._mismatch(f"it is not a {FORMAT} checkpoint", fix)
        return document

    def _mismatch(self, why: str, fix: str = _FIX_THE_ARGUMENTS) -> CheckpointMismatchError:
        return CheckpointMismatchError(
            f"the checkpoint {self.path} cannot resume this backfill: {why}. {fix} (and the "
            "output) to start over",
            path=str(self.path),
        )

    def save(self, plan: Plan, checkpoint: Checkpoint) -> None:
        """Replace the state file atomically (blocking: run it in a worker thread)."""
        document = _encode(plan, checkpoint)
        replace_atomically(self.path, (json.dumps(document, indent=1) + "\n").encode())


@runtime_checkable
class CheckpointStore(Protocol):
    """Where a backfill keeps its checkpoint: ``read`` it (``None``: a fresh job), ``commit`` the
    sink's rows and a new checkpoint (the rows first, or both at once)."""

    async def read(self, plan: Plan, boundaries: Collection[datetime]) -> Checkpoint | None: ...

    async def commit(self, sink: Sink, plan: Plan, checkpoint: Checkpoint) -> None: ...


class FileCheckpoints:
    """A state file (``CheckpointFile``): ``commit`` flushes the sink, then replaces the file
    with the sink's position in it."""

    def __init__(self, file: CheckpointFile) -> None:
        self.file = file

    async def read(self, plan: Plan, boundaries: Collection[datetime]) -> Checkpoint | None:
        return await anyio.to_thread.run_sync(self.file.load, plan, boundaries)

    async def commit(self, sink: Sink, plan: Plan, checkpoint: Checkpoint) -> None:
        position = await sink.flush()
        state = attrs.evolve(checkpoint, sink=dict(position))
        await anyio.to_thread.run_sync(self.file.save, plan, state)


class SinkCheckpoints:
    """The checkpoint kept in ``sink``'s database, in the transaction of the rows it covers.

    ``commit`` ignores the sink it is handed (the job's, maybe a wrapper that counts chunks) and
    commits through ``sink`` given here, so wrapping the sink keeps the checkpoint where it is.
    """

    def __init__(self, sink: CheckpointingSink) -> None:
        self.sink = sink

    @staticmethod
    def job(plan: Plan) -> str:
        """The name the checkpoint of ``plan`` is kept under: one per plan (and shard)."""
        return f"backfill/{plan.fingerprint()}"

    async def read(self, plan: Plan, boundaries: Collection[datetime]) -> Checkpoint | None:
        job = self.job(plan)
        document = await self.sink.read_checkpoint(job)
        if document is None:
            return None

        def mismatch(why: str, fix: str = _FIX_THE_ARGUMENTS) -> CheckpointMismatchError:
            return CheckpointMismatchError(
                f"the checkpoint {job} in {self.sink.location} cannot resume this backfill: "
                f"{why}. Delete it to start over"
            )

        if document.get("format") != FORMAT:
            raise mismatch(f"it is not a {FORMAT} checkpoint")
        checkpoint = _decode(document, plan, boundaries, mismatch)
        return attrs.evolve(checkpoint, sink={})  # the database holds what it covers

    async def commit(self, sink: Sink, plan: Plan, checkpoint: Checkpoint) -> None:
        document = _encode(plan, attrs.evolve(checkpoint, sink={}))
        await self.sink.flush_checkpoint(self.job(plan), document)


def checkpoint_store(
    checkpoint: str | os.PathLike[str] | CheckpointStore | None, sink: Sink
) -> CheckpointStore | None:
    """Where a backfill into ``sink`` keeps its ``checkpoint``: a path is a state file; ``None``
    is the sink's database for a ``CheckpointingSink``, else nowhere (not resumable); a
    ``CheckpointStore`` (such as ``SinkCheckpoints``) is used as it is."""
    if isinstance(checkpoint, CheckpointStore):
        return checkpoint
    if checkpoint is None:
        return SinkCheckpoints(sink) if isinstance(sink, CheckpointingSink) else None
    return FileCheckpoints(CheckpointFile(checkpoint))


def _encode(plan: Plan, checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint document (JSON): format, fingerprint, plan, series, sink position."""
    series = []
    for app_id, metric in checkpoint.series:
        mark = checkpoint.done_until[(app_id, metric)]
        done_until = None if mark is None else display_time(mark)
        series.append({"app_id": app_id, "metric": metric, "done_until": done_until})
    return {
        "format": FORMAT,
        "fingerprint": plan.fingerprint(),
        "plan": plan.describe(),
        "series": series,
        "sink": checkpoint.sink,
    }


def _decode(
    document: dict[str, Any],
    plan: Plan,
    boundaries: Collection[datetime],
    mismatch: Callable[[str], CheckpointMismatchError],
) -> Checkpoint:
    """The checkpoint in ``document``, which must be of ``plan``; ``mismatch(why)`` otherwise."""
    if document.get("fingerprint") != plan.fingerprint():
        raise mismatch(_difference(document.get("plan"), plan.describe()))
    try:
        series, done_until = _read_series(document, set(boundaries))
        sink = document["sink"]
        if not isinstance(sink, dict):
            raise TypeError("the sink position is not an object")
    except (KeyError, TypeError, ValueError) as exc:
        raise mismatch(f"its state is malformed ({exc})") from None
    return Checkpoint(series=series, done_until=done_until, sink=sink)


def _read_series(
    document: dict[str, Any], boundaries: set[datetime] | None
) -> tuple[list[SeriesKey], dict[SeriesKey, datetime | None]]:
    """The series of a checkpoint in job order, and their watermarks; ``TypeError``/
    ``ValueError`` for a malformed entry, or a watermark off ``boundaries`` (when given)."""
    series: list[SeriesKey] = []
    done_until: dict[SeriesKey, datetime | None] = {}
    for entry in document["series"]:
        app_id, metric, raw = entry["app_id"], entry["metric"], entry["done_until"]
        if isinstance(app_id, bool) or not isinstance(app_id, int) or not isinstance(metric, str):
            raise TypeError(f"bad series {entry!r}")
        key = (app_id, metric)
        if key in done_until:
            raise ValueError(f"series {key} is listed twice")
        if raw is not None and not isinstance(raw, str):
            raise TypeError(f"bad done_until {raw!r}")
        mark = None if raw is None else parse_time(raw)
        if boundaries is not None and mark is not None and mark not in boundaries:
            raise ValueError(f"{raw} is not a chunk boundary of the plan")
        series.append(key)
        done_until[key] = mark
    return series, done_until


def _difference(stored: object, current: dict[str, Any]) -> str:
    if not isinstance(stored, dict):
        return "it was written for another plan"
    changed = [key for key in current if stored.get(key) != current[key]]
    if not changed:
        return "it was written for another plan (its fingerprint differs)"
    parts = [f"{key} was {stored.get(key)!r}, now {current[key]!r}" for key in changed]
    return "it was written for another plan: " + "; ".join(parts)
