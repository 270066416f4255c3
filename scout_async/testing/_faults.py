"""Scripted faults: make chosen requests fail in the ways a real network and server do."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

from ._envelope import encode
from ._rules import parse_time

__all__ = ["Fault", "FaultBook", "Malformed", "malformed_body"]

Malformed = Literal["not-json", "truncated", "no-envelope", "wrong-shape"]
_MALFORMED = ("not-json", "truncated", "no-envelope", "wrong-shape")
_EFFECTS = ("status", "body_status", "latency", "drop", "malformed", "step")


def _check_effect(fault: Fault) -> None:
    chosen = [name for name in _EFFECTS if getattr(fault, name) not in (None, False)]
    if len(chosen) != 1:
        raise ValueError(
            f"a Fault needs exactly one effect of {', '.join(_EFFECTS)}; got {chosen or 'none'}"
        )
    if fault.retry_after is not None and fault.status is None:
        raise ValueError("retry_after goes with status")
    for name in ("status", "body_status"):
        code = getattr(fault, name)
        if code is not None and not 100 <= code <= 599:
            raise ValueError(f"{name} must be an HTTP status code, got {code}")
    if fault.latency is not None and fault.latency < 0:
        raise ValueError(f"latency must not be negative, got {fault.latency}")
    if fault.malformed is not None and fault.malformed not in _MALFORMED:
        raise ValueError(
            f"malformed must be one of {', '.join(_MALFORMED)}; got {fault.malformed!r}"
        )
    if fault.step is not None and fault.step <= timedelta(0):
        raise ValueError(f"step must be positive, got {fault.step}")
    if fault.times is not None and fault.times < 1:
        raise ValueError(f"times must be at least 1 or None (forever), got {fault.times}")
    if fault.skip < 0:
        raise ValueError(f"skip must not be negative, got {fault.skip}")
    if fault.from_ is not None and fault.from_.tzinfo is None:
        raise ValueError(f"from_ must be a timezone-aware datetime, got {fault.from_!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """One scripted misbehaviour of the simulator.

    ``path`` is an ``fnmatch`` glob over the request path after ``/api/v0`` as sent (still
    percent-encoded; ``*`` also matches ``/``). With ``from_`` (an aware datetime) a request
    matches only if its ``from`` parameter is that instant (in any offset or precision Scout
    accepts), so a test can slow or fail one chunk of a plan. The fault lets ``skip`` matching
    requests through, then hits the next ``times`` of them (``None``: all). Give exactly one
    effect:

    - ``status``: that HTTP status and an error envelope (``retry_after`` adds a ``Retry-After``
      header, sent as given: seconds or an HTTP date);
    - ``body_status``: HTTP 200 whose envelope ``header.status.code`` says the error;
    - ``latency``: this many extra seconds before the normal answer;
    - ``drop``: the connection breaks mid-body (a client sees a transport error);
    - ``malformed``: ``"not-json"`` (an HTML page), ``"truncated"`` (half the JSON),
      ``"no-envelope"`` (the bare results) or ``"wrong-shape"`` (an envelope whose results are
      not the documented shape);
    - ``step``: metric series answered at this step instead of the documented one.

    >>> sim.add_fault(Fault(path="/apps/*/metrics/*", status=429, retry_after="2", times=3))
    >>> sim.add_fault(Fault(drop=True, skip=1))  # the second request loses its connection
    >>> sim.add_fault(Fault(path="/apps/*/metrics/*", from_=chunk_start, latency=5.0))
    """

    path: str = "*"
    from_: datetime | None = None
    times: int | None = 1
    skip: int = 0
    status: int | None = None
    retry_after: str | None = None
    body_status: int | None = None
    latency: float | None = None
    drop: bool = False
    malformed: Malformed | None = None
    step: timedelta | None = None

    def __attrs_post_init__(self) -> None:
        _check_effect(self)

    def matches(self, api_path: str, query: Mapping[str, str] | None = None) -> bool:
        """Whether a request for ``api_path`` with ``query`` parameters is one to hit."""
        if not fnmatch.fnmatchcase(api_path, self.path):
            return False
        if self.from_ is None:
            return True
        sent = (query or {}).get("from")
        if sent is None:
            return False
        try:
            return parse_time(sent) == self.from_.astimezone(timezone.utc)
        except ValueError:  # an unreadable `from` is no instant at all
            return False


@attrs.define
class _Armed:
    fault: Fault
    seen: int = 0  # matching requests let through because of `skip`
    hits: int = 0


class FaultBook:
    """The faults of one simulator and how far each has got; safe to use from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, api_path: str, query: Mapping[str, str] | None = None) -> Fault | None:
        """The fault that hits this request, if any.

        Faults are tried in the order they were added and the first one that hits wins; a fault
        counts only the requests that reach it (skipped ones go on to later faults), so
        ``add(503 once)`` then ``add(429 once)`` answers 503, then 429, then normally.
        """
        with self._lock:
            for armed in self._armed:
                fault = armed.fault
                if not fault.matches(api_path, query):
                    continue
                if armed.seen < fault.skip:
                    armed.seen += 1
                    continue
                if fault.times is None or armed.hits < fault.times:
                    armed.hits += 1
                    return fault
            return None


_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Scout is down for maintenance</title></head>\n"
    b"<body><h1>We'll be right back</h1><p>Scout is undergoing scheduled maintenance.</p>"
    b"</body></html>\n"
)


def _objects(points: Any) -> Any:
    if isinstance(points, dict):  # a job metric's named sub-series
        return {name: _objects(part) for name, part in points.items()}
    return [{"timestamp": t, "value": v} for t, v in points]


def _spec_shaped(results: Any) -> Any:
    """Series as openapi.yaml (wrongly) describes them: {timestamp, value} objects."""
    series = {metric: _objects(points) for metric, points in results["series"].items()}
    summaries = {metric: {"mean": v} for metric, v in results["summaries"].items()}
    return {"summaries": summaries, "series": series}


def malformed_body(kind: Malformed, document: dict[str, Any]) -> tuple[bytes, str]:
    """The body (and its content type) that replaces ``document`` for a ``malformed`` fault."""
    json_type = "application/json; charset=utf-8"
    if kind == "not-json":
        return _HTML, "text/html; charset=utf-8"
    if kind == "truncated":
        whole = encode(document)
        return whole[: len(whole) // 2], json_type
    results = document["results"]
    if kind == "no-envelope":
        return encode(results), json_type
    if isinstance(results, dict) and "series" in results and "summaries" in results:
        wrong: Any = _spec_shaped(results)
    else:
        wrong = "unexpected"  # a string where an object or a list belongs
    return encode({**document, "results": wrong}), json_type
