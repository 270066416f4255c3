"""Sampled traces of endpoints and jobs, and one endpoint trace's detail with its span tree.

Each (source, hour) holds zero to three traces at hashed seconds. A trace id packs its minute, the
source's pool index and its number within the hour, so any id can be checked and rebuilt alone.

The detail follows what Scout's own CLI reads (the spec only says "objects"): spans nested in
``children`` with string ids, ``parent_id``, ``operation``, ``type``, ``description``,
``duration_ms``, ``exclusive_duration_ms`` and ``allocations``; and ``duration_in_seconds``,
``legacy_format``. Span durations are **seconds** despite their keys, as the live API sends them
(Scout's Go CLI: changelog.d/26.md, "The API reports span durations in seconds despite the
``duration_ms`` key name"; its internal/api/traces_test.go payload: a root span of
``duration_ms: 83.48`` in a trace of ``duration_in_seconds: 83.483853`` and
``total_call_time: 83483.85``, which is in ms, CHANGELOG 0.5.0).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeAlias

import attrs

from ._catalog import AppModel, EndpointModel, JobModel
from ._noise import mix, unit
from ._rules import EPOCH, format_time

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
    """Traces in ``[start, end)`` and not after ``now``, newest first, at most 100.

    Documented: at most 100 (API notes). Assumed: newest first, and which 100 when there are
    more (the newest).
    """
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
    """The endpoint trace behind ``trace_id`` in ``app``, if it exists and is retained.

    A job trace's id is not found: Scout has no detail for background job traces (its CLI
    explains a 404 here as most often a job trace id).
    """
    number = trace_id % _PER_HOUR
    index = (trace_id // _PER_HOUR) % _SOURCES
    minute = trace_id // (_PER_HOUR * _SOURCES)
    model = next((m for m in app.endpoints if m.index == index), None)
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
    """The trace as a list of traces shows it (`Trace`, or `JobTrace` for a job).

    ``total_call_time`` (an endpoint's) and ``duration`` (a job's) are in ms: Scout's CLI
    CHANGELOG 0.5.0 ("the API reports it in milliseconds") and internal/api/types.go ("Duration
    is the execution duration in milliseconds"). ``mem_delta`` is MB, a float or null (its
    traces_test.go).
    """
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
            "metric_name": f"Job/{model.full_name}",
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


def _span_id(ref: TraceRef, n: int) -> str:
    return f"{mix(ref.seed, ref.id, n, _TAG):016x}"


def _span(
    ref: TraceRef,
    n: int,
    parent: dict[str, Any] | None,
    kind: str,
    operation: str,
    description: str | None,
    seconds: float,
    allocations: float,
) -> dict[str, Any]:
    """A span in the shape Scout's CLI reads, its duration in seconds under the key
    ``duration_ms`` (as the live API sends it); ``exclusive_duration_ms`` is set by ``_close``."""
    span: dict[str, Any] = {
        "id": _span_id(ref, n),
        "parent_id": None if parent is None else parent["id"],
        "operation": operation,
        "type": kind,
        "description": description,
        "duration_ms": round(seconds, 6),
        "exclusive_duration_ms": 0.0,
        "allocations": int(allocations),
        "children": [],
    }
    if parent is not None:
        parent["children"].append(span)
    return span


def _close(span: dict[str, Any]) -> None:
    """Set every span's exclusive time (seconds): its own duration less its children's, depth
    first."""
    for child in span["children"]:
        _close(child)
    inner = sum(child["duration_ms"] for child in span["children"])
    span["exclusive_duration_ms"] = round(max(0.0, span["duration_ms"] - inner), 6)


def _spans(ref: TraceRef, total_ms: float, allocations: int) -> list[dict[str, Any]]:
    """A plausible span tree, nested as Scout sends it (``children``, with ``parent_id`` too).

    Middleware around the controller (or the job); under it queries, a cache read and, for a
    request, a template whose partial runs one more query. Durations (seconds) and allocations
    include the children's; ``exclusive_duration_ms`` is what is left. The root span lasts the
    whole trace: ``total_ms`` / 1000 seconds, which is ``duration_in_seconds``.
    """
    model = ref.model
    is_job = isinstance(model, JobModel)
    total = total_ms / 1000
    root = _span(ref, 1, None, "Middleware", "Middleware/Summary", None, total, allocations)
    body_kind = "Job" if is_job else "Controller"
    body = _span(
        ref,
        2,
        root,
        body_kind,
        f"{body_kind}/{model.name}",
        None,
        total * (0.9 + 0.07 * ref.draw(10)),
        allocations * 0.95,
    )
    calls: list[tuple[str, str, str | None]] = [
        ("SQL", "SQL/User/find", 'SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2'),
        ("Redis", "Redis/get", "GET session:*"),
        (
            "SQL",
            "SQL/Order/select",
            'SELECT "orders".* FROM "orders" WHERE "orders"."user_id" = $1',
        ),
    ]
    if not is_job:
        calls.append(("View", f"View/{model.name}.html.erb/Rendering", None))
    budget = body["duration_ms"] * 0.85 / len(calls)
    made = []
    for n, (kind, operation, description) in enumerate(calls, start=3):
        share = 0.3 + 0.7 * ref.draw(10 + n)
        made.append(
            _span(
                ref,
                n,
                body,
                kind,
                operation,
                description,
                budget * share,
                body["allocations"] * 0.2 * share,
            )
        )
    if not is_job:  # the template renders a partial, and the partial runs a query
        view = made[-1]
        folder = model.name.rsplit("/", 1)[0]
        partial = _span(
            ref,
            7,
            view,
            "View",
            f"View/{folder}/_row.html.erb/Rendering",
            None,
            view["duration_ms"] * (0.4 + 0.3 * ref.draw(17)),
            view["allocations"] * 0.6,
        )
        _span(
            ref,
            8,
            partial,
            "SQL",
            "SQL/LineItem/select",
            'SELECT "line_items".* FROM "line_items" WHERE "line_items"."order_id" = $1',
            partial["duration_ms"] * (0.3 + 0.4 * ref.draw(18)),
            partial["allocations"] * 0.3,
        )
    _close(root)
    return [root]


def trace_detail(ref: TraceRef) -> dict[str, Any]:
    """The full trace (`TraceDetail`) of `/apps/{id}/traces/{trace_id}`, with the fields the
    spec lists and those Scout's CLI reads (``duration_in_seconds``, spans as a tree)."""
    summary = trace_summary(ref)
    total = float(summary.get("total_call_time", summary.get("duration", 0.0)))
    allocations = int(20_000 + 300 * ref.model.source.duration_ms * (1 + ref.draw(33)))
    return {
        "id": ref.id,
        "transaction_id": f"{mix(ref.seed, ref.id, 30):016x}{mix(ref.seed, ref.id, 31):016x}",
        "hostname": f"{_HOSTS[mix(ref.seed, ref.id, 32) % len(_HOSTS)]}.prod.internal",
        "time": summary["time"],
        "total_call_time": total,
        "duration_in_seconds": round(total / 1000, 6),
        # Scout's CLI reads this flag and then shows no span tree (internal/output/tree.go);
        # the simulator's traces are all in the current format.
        "legacy_format": False,
        "mem_delta": summary.get("mem_delta"),
        "metric_name": summary["metric_name"],
        "uri": summary.get("uri"),
        "context": summary["context"],
        "git_sha": "".join(f"{mix(ref.seed, ref.id // 100_000, k):016x}" for k in range(3))[:40],
        "allocations_count": allocations,
        "limited": False,
        "spans": _spans(ref, total, allocations),
    }
