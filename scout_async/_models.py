"""Result models: frozen, slotted attrs classes free of serialization rules (see ``_convert``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

__all__ = ["App", "Point", "Series"]


@attrs.frozen
class App:
    """An application reporting to Scout.

    >>> app = await client.apps.get(101)
    >>> app.name, app.last_reported_at
    """

    id: int
    name: str
    last_reported_at: datetime | None = None


@attrs.frozen
class Point:
    """One bucket of a series: ``time`` is the bucket's start (aware UTC), ``value`` its value.

    ``value`` is ``None`` where Scout sent a null for the bucket.
    """

    time: datetime
    value: float | None


@attrs.frozen
class Series:
    """A metric series at one step, in strictly increasing time, each grid bucket at most once.

    ``summary`` is Scout's own summary number when the window took a single request; for a window
    split into several requests it is ``None`` (Scout does not document how it aggregates, so the
    client does not pretend to).
    """

    app_id: int
    metric: str
    step: timedelta
    points: list[Point]
    summary: float | None = None
