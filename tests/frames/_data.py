"""Series for the frames tests, built from Points directly."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from scout_async import Points, Series

UTC = timezone.utc
T0 = datetime(2026, 11, 1, tzinfo=UTC)
E0 = int(T0.timestamp())
M = timedelta(minutes=1)


def at(minutes: int) -> datetime:
    return T0 + minutes * M


def series(
    values: list[float | None],
    *,
    app_id: int = 101,
    metric: str = "throughput",
    minutes: list[int] | None = None,
    step: timedelta = M,
    summary: float | None = None,
    partial_from: datetime | None = None,
) -> Series:
    """A series of ``values`` (``None``: Scout sent none) at ``minutes`` after ``T0`` (default:
    one a step from ``T0``)."""
    if minutes is None:
        minutes = [i * int(step / M) for i in range(len(values))]
    times = [E0 + minute * 60 for minute in minutes]
    floats = [math.nan if v is None else v for v in values]
    return Series(app_id, metric, step, Points(times, floats), summary, partial_from)


def address(view: memoryview) -> int:
    """Where ``view``'s memory starts."""
    import numpy

    return int(numpy.frombuffer(view, dtype=numpy.uint8).__array_interface__["data"][0])
