"""Scout's documented step bands and epoch-aligned grid arithmetic (pure, no I/O).

The server picks a series' step from the length of the requested window; once a length exceeds a
tier, the next tier is used. As bands of equal step (lower bound exclusive, upper inclusive):

    1 min (0, 60 min]   2 min (1 h, 3 h]   5 min (3 h, 12 h]   10 min (12 h, 1 d]
    30 min (1 d, 3 d]   1 h (3 d, 7 d]     2 h (7 d, 14 d]

All arithmetic is on UTC fixed durations, so DST never matters.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import attrs

from .._exceptions import ArgumentError, ArgumentTypeError

__all__ = [
    "BANDS",
    "EPOCH",
    "MAX_WINDOW",
    "STEPS",
    "Band",
    "band_for_step",
    "ceil_to_grid",
    "floor_to_grid",
    "format_step",
    "parse_step",
    "step_for_window",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_WINDOW = timedelta(days=14)


@attrs.frozen
class Band:
    """Window lengths in ``(lower, upper]`` are answered at ``step``."""

    step: timedelta
    lower: timedelta
    upper: timedelta

    def contains(self, length: timedelta) -> bool:
        return self.lower < length <= self.upper


_M = timedelta(minutes=1)
_H = timedelta(hours=1)
_D = timedelta(days=1)

BANDS: tuple[Band, ...] = (
    Band(step=1 * _M, lower=timedelta(0), upper=60 * _M),
    Band(step=2 * _M, lower=1 * _H, upper=3 * _H),
    Band(step=5 * _M, lower=3 * _H, upper=12 * _H),
    Band(step=10 * _M, lower=12 * _H, upper=1 * _D),
    Band(step=30 * _M, lower=1 * _D, upper=3 * _D),
    Band(step=1 * _H, lower=3 * _D, upper=7 * _D),
    Band(step=2 * _H, lower=7 * _D, upper=14 * _D),
)
STEPS: tuple[timedelta, ...] = tuple(b.step for b in BANDS)
_BAND_BY_STEP = {b.step: b for b in BANDS}


def band_for_step(step: timedelta) -> Band:
    try:
        return _BAND_BY_STEP[step]
    except KeyError:
        raise ArgumentError(
            f"{format_step(step)} is not a step Scout serves; use one of "
            + ", ".join(format_step(s) for s in STEPS)
        ) from None


def step_for_window(length: timedelta) -> timedelta:
    """The step Scout answers a window of ``length`` with.

    >>> step_for_window(timedelta(days=7))
    datetime.timedelta(seconds=3600)

    Raises ``ValueError`` for an empty window or one over 14 days (Scout refuses both).
    """
    for band in BANDS:
        if band.contains(length):
            return band.step
    if length <= timedelta(0):
        raise ArgumentError(f"a window must have a positive length, got {length}")
    raise ArgumentError(f"a window may span at most 14 days, got {length}")


_STEP_RE = re.compile(r"^\s*(\d+)\s*(m|min|mins|minute|minutes|h|hr|hour|hours)\s*$", re.IGNORECASE)


def parse_step(value: timedelta | str) -> timedelta:
    """A documented step from a ``timedelta`` or a string such as ``"1m"``, ``"30min"``, ``"2h"``.

    Raises ``ValueError`` naming the valid steps for anything else.
    """
    valid = ", ".join(format_step(s) for s in STEPS)
    if isinstance(value, str):
        match = _STEP_RE.match(value)
        if match is None:
            raise ArgumentError(f"cannot read resolution {value!r}; use one of {valid}")
        amount, unit = int(match.group(1)), match.group(2).lower()
        step = timedelta(hours=amount) if unit.startswith("h") else timedelta(minutes=amount)
    elif isinstance(value, timedelta):
        step = value
    else:
        raise ArgumentTypeError(
            f"resolution must be a timedelta, a string such as '5m', or None; got {value!r}"
        )
    if step not in _BAND_BY_STEP:
        raise ArgumentError(
            f"resolution {format_step(step)} is not a step Scout serves; use one of {valid}"
        )
    return step


def format_step(step: timedelta) -> str:
    """``"1m"``, ``"2h"``; other durations as their total seconds (``"90s"``)."""
    seconds = step.total_seconds()
    if seconds > 0 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds > 0 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def floor_to_grid(moment: datetime, step: timedelta) -> datetime:
    """The grid point at or before ``moment`` on the epoch-aligned grid of ``step``."""
    return moment - (moment - EPOCH) % step


def ceil_to_grid(moment: datetime, step: timedelta) -> datetime:
    """The grid point at or after ``moment`` on the epoch-aligned grid of ``step``."""
    rest = (moment - EPOCH) % step
    return moment if not rest else moment + (step - rest)
