"""A backfill's checkpoint: the plan's fingerprint and, per series, how far the output is durable.

The state file is JSON, replaced atomically (temporary file, fsync, ``os.replace``) so a crash
leaves the previous checkpoint or the new one, never half of one. It holds the plan in plain
words, its sha256 fingerprint, the series (so ``apps="all"`` resumes the series it started
with), each series' ``done_until`` (the ``owned_end`` of its last durably written chunk) and the
sink's position. It never holds the API key, the base URL or any header.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from ._durable import replace_atomically
from ._exceptions import CheckpointMismatchError
from ._planner import PLANNER_VERSION
from ._selection import Selection, SeriesKey
from ._sinks import Position
from ._time import parse_time

__all__ = ["Checkpoint", "CheckpointFile", "Plan"]

FORMAT = "scout_async.backfill/1"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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
            "start": _iso(self.start),
            "end": _iso(self.end),
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


class CheckpointFile:
    """The state file at ``path``. Loading refuses a checkpoint of another plan."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be a path or None, got {type(path).__name__}")
        self.path = Path(os.path.abspath(os.fspath(path)))
        if not self.path.parent.is_dir():
            raise ValueError(f"checkpoint: the directory {self.path.parent} does not exist")
        if self.path.is_dir():
            raise ValueError(f"checkpoint: {self.path} is a directory, not a file")

    def load(self, plan: Plan, boundaries: Collection[datetime]) -> Checkpoint | None:
        """The checkpoint of ``plan``, or ``None`` when there is no state file yet.

        ``boundaries`` are the chunk ends of the plan: a watermark must be one of them.
        """
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            document = json.loads(text)
        except ValueError:
            raise self._mismatch("it is not JSON") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise self._mismatch(f"it is not a {FORMAT} checkpoint")
        if document.get("fingerprint") != plan.fingerprint():
            raise self._mismatch(_difference(document.get("plan"), plan.describe()))
        try:
            return self._read_state(document, set(boundaries))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._mismatch(f"its state is malformed ({exc})") from None

    def _read_state(self, document: dict[str, Any], boundaries: set[datetime]) -> Checkpoint:
        series: list[SeriesKey] = []
        done_until: dict[SeriesKey, datetime | None] = {}
        for entry in document["series"]:
            app_id, metric, raw = entry["app_id"], entry["metric"], entry["done_until"]
            if (
                isinstance(app_id, bool)
                or not isinstance(app_id, int)
                or not isinstance(metric, str)
            ):
                raise TypeError(f"bad series {entry!r}")
            key = (app_id, metric)
            if key in done_until:
                raise ValueError(f"series {key} is listed twice")
            mark = None if raw is None else parse_time(raw)
            if mark is not None and mark not in boundaries:
                raise ValueError(f"{raw} is not a chunk boundary of the plan")
            series.append(key)
            done_until[key] = mark
        sink = document["sink"]
        if not isinstance(sink, dict):
            raise TypeError("the sink position is not an object")
        return Checkpoint(series=series, done_until=done_until, sink=sink)

    def _mismatch(self, why: str) -> CheckpointMismatchError:
        return CheckpointMismatchError(
            f"the checkpoint {self.path} cannot resume this backfill: {why}. Pass the arguments it "
            "was written for, or delete it (and the output) to start over",
            path=str(self.path),
        )

    def save(self, plan: Plan, checkpoint: Checkpoint) -> None:
        """Replace the state file atomically (blocking: run it in a worker thread)."""
        series = []
        for app_id, metric in checkpoint.series:
            mark = checkpoint.done_until[(app_id, metric)]
            done_until = None if mark is None else _iso(mark)
            series.append({"app_id": app_id, "metric": metric, "done_until": done_until})
        document = {
            "format": FORMAT,
            "fingerprint": plan.fingerprint(),
            "plan": plan.describe(),
            "series": series,
            "sink": checkpoint.sink,
        }
        replace_atomically(self.path, (json.dumps(document, indent=1) + "\n").encode())


def _difference(stored: object, current: dict[str, Any]) -> str:
    if not isinstance(stored, dict):
        return "it was written for another plan"
    changed = [key for key in current if stored.get(key) != current[key]]
    if not changed:
        return "it was written for another plan (its fingerprint differs)"
    parts = [f"{key} was {stored.get(key)!r}, now {current[key]!r}" for key in changed]
    return "it was written for another plan: " + "; ".join(parts)
