"""The shape of an app's traffic over time: a daily cycle, a weekend dip, and incidents.

Everything here is a closed-form function of (seed, app, time) in epoch seconds, so any bucket at
any step can be evaluated on its own, without walking the minutes before it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import attrs

from ._noise import mix, unit

__all__ = ["Incident", "incident_excess", "incidents_between", "load"]

_DAY = 86_400
# One incident slot every 3.5 days, so a 14-day window usually shows three or four incidents.
_PERIOD = 302_400
_INCIDENT_TAG = 0x1C1D


def load(seed: int, app_id: int, moment: float) -> float:
    """Relative traffic at ``moment`` (epoch seconds), around 1.0.

    A daily cycle peaking mid-afternoon in the app's own time zone (a per-app shift), a smaller
    second harmonic for the lunch dip, and weekends at about 60 %.
    """
    shift = (mix(seed, app_id, 0x7A) % 9) * 3600  # the app's users sit 0..8 h west of UTC
    local = moment - shift
    hour = (local % _DAY) / 3600
    daily = (
        1
        + 0.5 * math.sin(2 * math.pi * (hour - 9) / 24)
        + 0.08 * math.sin(4 * math.pi * (hour - 5) / 24)
    )
    weekday = (int(local // _DAY) + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
    return daily * (0.6 if weekday >= 5 else 1.0)


@attrs.frozen
class Incident:
    """A stretch of slow, failing requests: response times times ``intensity``, errors far up."""

    index: int
    start: int
    end: int
    intensity: float


def _incident(seed: int, app_id: int, period: int) -> Incident | None:
    h = mix(seed, app_id, period, _INCIDENT_TAG)
    if h % 5 == 0:  # a fifth of the slots stay quiet
        return None
    duration = (6 + (h >> 8) % 13) * 300  # 30..90 min
    offset = ((h >> 16) % ((_PERIOD - duration) // 60)) * 60
    start = period * _PERIOD + offset
    intensity = 2.0 + 3.0 * unit(seed, app_id, period, _INCIDENT_TAG + 1)
    return Incident(index=period, start=start, end=start + duration, intensity=intensity)


def incidents_between(seed: int, app_id: int, start: int, end: int) -> Iterator[Incident]:
    """The app's incidents that overlap ``[start, end)`` (epoch seconds), oldest first."""
    for period in range(start // _PERIOD, (end - 1) // _PERIOD + 1):
        incident = _incident(seed, app_id, period)
        if incident is not None and incident.start < end and incident.end > start:
            yield incident


def incident_excess(seed: int, app_id: int, start: int, end: int) -> float:
    """How much worse than normal ``[start, end)`` is: the sum over overlapping incidents of
    (intensity - 1) times the fraction of the bucket they cover, so a coarse bucket shows a
    diluted spike as an average would."""
    excess = 0.0
    for incident in incidents_between(seed, app_id, start, end):
        overlap = min(end, incident.end) - max(start, incident.start)
        excess += (incident.intensity - 1) * overlap / (end - start)
    return excess
