"""Reading and checking the `from`/`to` query parameters the way Scout does (pure, no I/O).

The rules themselves (the 14-day limit, the lookbacks, the time format) and their sources are in
``_rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from ._envelope import ApiError
from ._rules import MAX_WINDOW, parse_time

__all__ = ["Timeframe", "read_timeframe"]


@attrs.frozen
class Timeframe:
    """A checked window: ``start < end`` and at most 14 days long, both in UTC."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start


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
