"""Anomaly events, derived from the same incidents that spike the metric series.

Each incident opens two events: the app's response time and the error rate of its most affected
endpoint. One more event is always open: throughput running low for the last half hour.

An event's ``endpoint`` is the scoped metric name Scout stores (``Controller/users/index``), and
the ``endpoint`` filter matches that exactly, so an endpoint's plain name (``users/index``, as
the endpoints list gives it) matches nothing. Source: Scout's Go CLI, ``cmd/anomalies.go``
(``resolveAnomalyEndpoint``: "Anomalies are recorded against the full metric name
("Controller/users/index")") and its CHANGELOG ("instead of silently matching nothing").
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import attrs

from ._catalog import AppModel
from ._noise import mix, unit
from ._rules import EPOCH, ERROR_LOOKBACK, format_time
from ._traffic import Incident, incidents_between

__all__ = ["MAX_EVENTS", "anomaly_detail", "anomaly_events", "anomaly_summary", "find_anomaly"]

MAX_EVENTS = 100
_ID_BASE = 100_000
_OPEN_NUMBER = _ID_BASE - 1
_MONITORS = {"response_time": 1, "error_rate": 2, "throughput": 3}


@attrs.frozen
class Anomaly:
    id: int
    metric: str
    endpoint: str | None
    direction: str
    started_at: datetime
    ended_at: datetime | None
    baseline: float
    current: float
    seed: int
    app_id: int

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def multiplier(self) -> float:
        return self.current / self.baseline


def _at(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def _from_incident(app: AppModel, incident: Incident, now: datetime) -> list[Anomaly]:
    seed = app.source.seed
    worst = max(app.endpoints, key=lambda e: e.source.sensitivity)
    ended: datetime | None = _at(incident.end)
    if ended is not None and ended > now:
        ended = None  # still going on
    base = app.id * _ID_BASE + incident.index * 2
    rate = worst.source.error_rate
    return [
        Anomaly(
            id=base,
            metric="response_time",
            endpoint=None,
            direction="high",
            started_at=_at(incident.start),
            ended_at=ended,
            baseline=round(app.source.duration_ms, 2),
            current=round(app.source.duration_ms * incident.intensity, 2),
            seed=seed,
            app_id=app.id,
        ),
        Anomaly(
            id=base + 1,
            metric="error_rate",
            endpoint=f"Controller/{worst.name}",
            direction="high",
            started_at=_at(
                incident.start + 120
            ),  # errors trail the slowdown by a couple of minutes
            ended_at=ended,
            baseline=round(rate, 5),
            current=round(rate * (1 + 12 * (incident.intensity - 1) * worst.source.sensitivity), 5),
            seed=seed,
            app_id=app.id,
        ),
    ]


def _all(app: AppModel, now: datetime) -> list[Anomaly]:
    lo = now - ERROR_LOOKBACK - timedelta(days=1)
    seconds = (now - EPOCH) // timedelta(seconds=1)
    events = [
        event
        for incident in incidents_between(app.source.seed, app.id, int(lo.timestamp()), seconds + 1)
        if incident.start <= seconds
        for event in _from_incident(app, incident, now)
        if event.started_at <= now
    ]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5 + 35)
    events.append(
        Anomaly(
            id=app.id * _ID_BASE + _OPEN_NUMBER,
            metric="throughput",
            endpoint=None,
            direction="low",
            started_at=start,
            ended_at=None,
            baseline=round(app.source.volume, 2),
            current=round(app.source.volume * 0.55, 2),
            seed=app.source.seed,
            app_id=app.id,
        )
    )
    events.sort(key=lambda e: e.started_at, reverse=True)
    return events


def anomaly_events(
    app: AppModel,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    state: str = "all",
    metric: str | None = None,
    endpoint: str | None = None,
) -> list[Anomaly]:
    """Events overlapping ``[start, end]`` that pass the filters, newest first, at most 100.

    ``endpoint`` must be the scoped name exactly (see the module docstring)."""
    found = [
        e
        for e in _all(app, now)
        if e.started_at <= end
        and (e.ended_at or now) >= start
        and (state == "all" or (state == "open") == e.open)
        and (metric is None or e.metric == metric)
        and (endpoint is None or e.endpoint == endpoint)
    ]
    return found[:MAX_EVENTS]


def find_anomaly(app: AppModel, event_id: int, now: datetime) -> Anomaly | None:
    return next((e for e in _all(app, now) if e.id == event_id), None)


def _z_score(event: Anomaly) -> float:
    # Grows with how far off the baseline the metric is, in either direction.
    return round(3 + 4 * abs(math.log(event.multiplier)), 2)


def anomaly_summary(event: Anomaly, now: datetime) -> dict[str, Any]:
    last_seen = event.ended_at or now.replace(second=0, microsecond=0)
    has_deploy = unit(event.seed, event.id // 2, 2) < 0.4
    return {
        "id": event.id,
        "metric": event.metric,
        "endpoint": event.endpoint,
        "direction": event.direction,
        "severity": "critical" if abs(event.multiplier - 1) > 1.5 else "warning",
        "started_at": format_time(event.started_at),
        "ended_at": None if event.ended_at is None else format_time(event.ended_at),
        "last_seen_at": format_time(last_seen),
        "z_score": _z_score(event),
        "current_value": event.current,
        "baseline_value": event.baseline,
        "multiplier": round(event.multiplier, 2),
        "open": event.open,
        "description": _describe(event),
        "smart_monitor_id": event.app_id * 100 + _MONITORS[event.metric],
        "deploy_id": _deploy_id(event) if has_deploy else None,
    }


def _describe(event: Anomaly) -> str:
    label = event.metric.replace("_", " ")
    where = f" on {event.endpoint}" if event.endpoint else ""
    return (
        f"{label.capitalize()}{where} is {event.multiplier:.1f}x its baseline ({event.direction})"
    )


def _deploy_id(event: Anomaly) -> int:
    return 9_000_000 + mix(event.seed, event.id // 2) % 1_000_000


def anomaly_detail(event: Anomaly, now: datetime) -> dict[str, Any]:
    summary = anomaly_summary(event, now)
    end = event.ended_at or now
    deploy = None
    if summary["deploy_id"] is not None:
        deployed = event.started_at - timedelta(minutes=3 + mix(event.seed, event.id) % 40)
        deploy = {
            "id": summary["deploy_id"],
            "sha": "".join(f"{mix(event.seed, summary['deploy_id'], k):016x}" for k in range(3))[
                :40
            ],
            "deployed_at": format_time(deployed),
        }
    return {
        **summary,
        "baseline_std_dev": round(abs(event.current - event.baseline) / _z_score(event), 5),
        "duration_minutes": int((end - event.started_at).total_seconds() // 60),
        "smart_monitor": {
            "id": summary["smart_monitor_id"],
            "name": f"{event.metric.replace('_', ' ').capitalize()} anomalies",
            "kind": event.metric,
            "severity_threshold": 3.0,
            "duration_minutes": 10,
        },
        "deploy": deploy,
    }
