"""Reading and checking the `from`/`to` query parameters the way Scout does (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

import attrs

from .._steps import MAX_WINDOW
from ._envelope import ApiError

__all__ = ["Timeframe", "format_time", "parse_time", "read_timeframe"]


@attrs.frozen
class Timeframe:
    """A checked window: ``start < end`` and at most 14 days long, both in UTC."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant (``Z``, an offset, or none meaning UTC) as an aware UTC datetime.

    Raises ``ValueError`` for anything else.
    """
    value = text.strip()
    # Python 3.10's fromisoformat does not read a trailing Z.
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if "T" not in value and " " not in value:
        raise ValueError(f"not a date and time: {text!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """Scout's wire format, ``2026-07-05T17:20:11Z`` (UTC, whole seconds)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_timeframe(
    query: Mapping[str, str], *, now: datetime, lookback: timedelta | None = None
) -> Timeframe:
    """The window in ``query``, or ``ApiError(422)`` as Scout answers a bad one.

    Refused: a missing or unreadable ``from``/``to``, ``from >= to``, a window over 14 days
    (exactly 14 days is accepted), and with ``lookback`` a ``from`` at or before
    ``now - lookback``.
    """
    try:
        start = parse_time(query["from"])
        end = parse_time(query["to"])
    except (KeyError, ValueError):
        raise ApiError(422) from None
    if start >= end or end - start > MAX_WINDOW:
        raise ApiError(422)
    if lookback is not None and start <= now - lookback:
        raise ApiError(422)
    return Timeframe(start=start, end=end)
