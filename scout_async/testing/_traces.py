"""Sampled traces of endpoints and jobs, and one trace's detail with its spans.

Each (source, hour) holds zero to three traces at hashed seconds. A trace id packs its minute, the
source's pool index and its number within the hour, so any id can be checked and rebuilt alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeAlias

import attrs

from .._steps import EPOCH
from ._catalog import AppModel, EndpointModel, JobModel
from ._noise import mix, unit
from ._timeframe import format_time

__all__ = ["MAX_TRACES", "TraceRef", "find_trace", "list_traces", "trace_detail", "trace_summary"]

MAX_TRACES = 100
_PER_HOUR = 4  # ids reserve this many slots per source and hour; up to 3 are used
_SOURCES = 64
_TAG = 0x7E
_HOSTS = ("web-1", "web-2", "web-3", "web-4", "worker-1", "worker-2")

Model: TypeAlias = EndpointModel | JobModel


@attrs.frozen
class TraceRef:
    """One trace: which source, when (epoch seconds), and its number within the hour."""

    model: Model
    time: int
    number: int

    @property
    def id(self) -> int:
        return ((self.time // 60) * _SOURCES + self.model.index) * _PER_HOUR + self.number

    @property
    def seed(self) -> int:
        return self.model.source.seed

    def draw(self, tag: int) -> float:
        s = self.model.source
        return unit(s.seed, s.app_id, s.key, self.time, self.number, tag)


def _in_hour(model: Model, hour: int) -> list[TraceRef]:
    s = model.source
    count = mix(s.seed, s.app_id, s.key, hour, _TAG) % 4
    return [
        TraceRef(model, hour * 3600 + mix(s.seed, s.app_id, s.key, hour, n, _TAG) % 3600, n)
        for n in range(count)
    ]


def _epoch(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=1)


def list_traces(model: Model, start: datetime, end: datetime, now: datetime) -> list[TraceRef]:
    """Traces in ``[start, end)`` and not after ``now``, newest first, at most 100."""
    lo, hi = _epoch(start), min(_epoch(end), _epoch(now) + 1)
    found = [
        ref
        for hour in range(lo // 3600, (hi - 1) // 3600 + 1)
        for ref in _in_hour(model, hour)
        if lo <= ref.time < hi
    ]
    found.sort(key=lambda ref: ref.time, reverse=True)
    return found[:MAX_TRACES]


def find_trace(
    app: AppModel, trace_id: int, now: datetime, retention: timedelta
) -> TraceRef | None:
    """The trace behind ``trace_id`` in ``app``, if it exists and is retained."""
    number = trace_id % _PER_HOUR
    index = (trace_id // _PER_HOUR) % _SOURCES
    minute = trace_id // (_PER_HOUR * _SOURCES)
    models: list[Model] = [*app.endpoints, *app.jobs]
    model = next((m for m in models if m.index == index), None)
    if model is None:
        return None
    oldest, newest = _epoch(now - retention), _epoch(now)
    for ref in _in_hour(model, minute // 60):
        if ref.number == number and ref.time // 60 == minute and oldest <= ref.time <= newest:
            return ref
    return None


def _moment(ref: TraceRef) -> str:
    return format_time(EPOCH + timedelta(seconds=ref.time))


def _uri(name: str, draw: float) -> str:
    *path, action = name.split("/")
    base = "/" + "/".join(path)
    if action in ("show", "update"):
        return f"{base}/{int(1000 + draw * 90_000)}"
    return base if action in ("index", "create") else f"{base}/{action}"


def trace_summary(ref: TraceRef) -> dict[str, Any]:
    """The trace as a list of traces shows it (`Trace`, or `JobTrace` for a job)."""
    model = ref.model
    # Scout keeps the slow requests, so a sampled trace is a few times the typical duration.
    duration = round(model.source.duration_ms * (1.5 + 4 * ref.draw(1)), 2)
    if isinstance(model, JobModel):
        return {
            "id": ref.id,
            "time": _moment(ref),
            "duration": duration,
            "name": model.name,
            "queue": model.queue,
            "metric_name": f"Job/{model.name}",
            "context": {"jid": f"{mix(ref.seed, ref.id, 2):024x}"[:24], "attempt": 1 + ref.id % 3},
        }
    return {
        "id": ref.id,
        "time": _moment(ref),
        "total_call_time": duration,
        "mem_delta": None if ref.draw(3) < 0.1 else round(40 * ref.draw(4), 2),
        "metric_name": f"Controller/{model.name}",
        "uri": _uri(model.name, ref.draw(5)),
        "context": {
            "user_id": 1 + int(ref.draw(6) * 50_000),
            "plan": "pro" if ref.draw(7) < 0.3 else "free",
        },
    }


def _spans(ref: TraceRef, total: float) -> list[dict[str, Any]]:
    """A plausible span tree: the controller (or job) around queries, a cache read and a render."""
    is_job = isinstance(ref.model, JobModel)
    root_type = "Job" if is_job else "Controller"
    spans: list[dict[str, Any]] = [
        {
            "id": 1,
            "parent_id": None,
            "type": root_type,
            "name": f"{root_type}/{ref.model.name}",
            "desc": None,
            "start_offset_ms": 0.0,
            "duration_ms": total,
            "allocations": int(5_000 + 60_000 * ref.draw(10)),
        }
    ]
    children: list[tuple[str, str, str | None]] = [
        ("SQL", "SQL/User/find", 'SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2'),
        ("Redis", "Redis/get", "GET session:*"),
        (
            "SQL",
            "SQL/Order/select",
            'SELECT "orders".* FROM "orders" WHERE "orders"."user_id" = $1',
        ),
    ]
    if not is_job:
        children.append(("View", f"View/{ref.model.name}.html.erb/Rendering", None))
    cursor = 0.5
    budget = total * 0.9
    for n, (kind, name, desc) in enumerate(children, start=2):
        duration = round(budget / len(children) * (0.3 + 0.7 * ref.draw(10 + n)), 2)
        spans.append(
            {
                "id": n,
                "parent_id": 1,
                "type": kind,
                "name": name,
                "desc": desc,
                "start_offset_ms": round(cursor, 2),
                "duration_ms": duration,
                "allocations": int(200 + 4_000 * ref.draw(20 + n)),
            }
        )
        cursor += duration + 0.2
    return spans


def trace_detail(ref: TraceRef) -> dict[str, Any]:
    """The full trace (`TraceDetail`) of `/apps/{id}/traces/{trace_id}`."""
    summary = trace_summary(ref)
    total = summary.get("total_call_time", summary.get("duration", 0.0))
    return {
        "id": ref.id,
        "transaction_id": f"{mix(ref.seed, ref.id, 30):016x}{mix(ref.seed, ref.id, 31):016x}",
        "hostname": f"{_HOSTS[mix(ref.seed, ref.id, 32) % len(_HOSTS)]}.prod.internal",
        "time": summary["time"],
        "total_call_time": total,
        "mem_delta": summary.get("mem_delta"),
        "metric_name": summary["metric_name"],
        "uri": summary.get("uri"),
        "context": summary["context"],
        "git_sha": "".join(f"{mix(ref.seed, ref.id // 100_000, k):016x}" for k in range(3))[:40],
        "allocations_count": int(20_000 + 300 * ref.model.source.duration_ms * (1 + ref.draw(33))),
        "limited": False,
        "spans": _spans(ref, float(total)),
    }
