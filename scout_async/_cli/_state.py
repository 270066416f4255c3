"""A backfill's state file, seen from the command line: where it goes by default, and the plan an
existing one was written for (so ``--resume`` continues the very window it started, even when
that window was given as ``30d``)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs

from .._checkpoint import FORMAT
from .._exceptions import CheckpointMismatchError
from .._selection import SeriesKey
from .._sinks import Sink
from .._time import parse_time

__all__ = [
    "DIRECTORY_STATE_NAME",
    "SavedPlan",
    "default_state_path",
    "read_saved_plan",
    "writes_a_directory_of_files",
]

#: The state file of a backfill into a directory of per-series files lives inside it.
DIRECTORY_STATE_NAME = ".scout-backfill.json"


def writes_a_directory_of_files(sink: Sink) -> bool:
    """Whether ``sink`` is one file per series in a directory (its location ends in a separator)
    rather than one file, a database or a Parquet dataset."""
    return sink.location.endswith(os.sep) and not sink.location.startswith("parquet:")


def default_state_path(output: Path, sink: Sink) -> Path:
    """``DIR/.scout-backfill.json`` for a directory of per-series files, else ``OUTPUT.state.json``
    next to the output (``points.sqlite.state.json``)."""
    absolute = Path(os.path.abspath(output))
    if writes_a_directory_of_files(sink):
        return absolute / DIRECTORY_STATE_NAME
    return absolute.with_name(absolute.name + ".state.json")


@attrs.frozen
class SavedPlan:
    """What a state file says its backfill covers, and how far each series got."""

    apps: tuple[int, ...] | Literal["all"]
    metrics: tuple[str, ...] | Literal["all"]
    start: datetime
    end: datetime
    step: timedelta
    done_until: dict[SeriesKey, datetime | None]


def _refused(path: Path, why: str) -> CheckpointMismatchError:
    return CheckpointMismatchError(
        f"the checkpoint {path} cannot resume this backfill: {why}. Delete it (and the output) "
        "to start over",
        path=str(path),
    )


def read_saved_plan(path: Path) -> SavedPlan:
    """The plan of the state file at ``path``.

    Raises ``CheckpointMismatchError`` when it is not a backfill state file, ``OSError`` when it
    cannot be read. The backfill itself checks the fingerprint and the rest again.
    """
    try:
        document: Any = json.loads(path.read_bytes())
    except ValueError:
        raise _refused(path, "it is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _refused(path, f"it is not a {FORMAT} checkpoint")
    try:
        plan = document["plan"]
        apps, metrics = plan["apps"], plan["metrics"]
        done_until: dict[SeriesKey, datetime | None] = {}
        for entry in document["series"]:
            mark = entry["done_until"]
            key = (int(entry["app_id"]), str(entry["metric"]))
            done_until[key] = None if mark is None else parse_time(str(mark))
        return SavedPlan(
            apps="all" if apps == "all" else tuple(int(a) for a in apps),
            metrics="all" if metrics == "all" else tuple(str(m) for m in metrics),
            start=parse_time(str(plan["start"])),
            end=parse_time(str(plan["end"])),
            step=timedelta(seconds=int(plan["step_seconds"])),
            done_until=done_until,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _refused(path, f"its plan is malformed ({exc})") from None
