"""``client.metrics``: an app's metric series over any window, at one step."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .._models import Point, Series
from .._transport import Transport
from ._scoped_metrics import ScopedMetrics
from ._shape import field
from ._validate import check_id

if TYPE_CHECKING:
    from .._client import ScoutClient

__all__ = ["APP_METRICS", "Metrics"]

APP_METRICS = (
    "apdex",
    "response_time",
    "response_time_95th",
    "errors",
    "throughput",
    "queue_time",
)


class Metrics:
    def __init__(self, transport: Transport, client: ScoutClient) -> None:
        self._transport = transport
        self._series = ScopedMetrics(transport, client, APP_METRICS)

    async def list(self, app_id: int) -> builtins.list[str]:
        """The metric names an app offers.

        >>> await client.metrics.list(101)
        ['apdex', 'response_time', ...]
        """
        path = f"/apps/{check_id(app_id)}/metrics"
        results = await self._transport.get(path)
        names = field(results, "availableMetrics", builtins.list, path)
        return [str(name) for name in names]

    async def get(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
    ) -> Series:
        """The series of ``metric`` over ``[start, end)``, any length, at one step.

        ``resolution=None``: up to 14 days, one request at the step Scout picks; longer, 2 h.
        ``resolution="1m"`` (or a ``timedelta``): the finest data at that documented step, in as
        many requests as it takes. The series holds every grid bucket overlapping the window.

        >>> series = await client.metrics.get(101, "response_time", start=t0, end=t1)
        >>> series.step, series.points[0]
        """
        scope = f"/apps/{check_id(app_id)}"
        return await self._series.get(app_id, scope, metric, start, end, resolution)

    def stream(
        self,
        app_id: int,
        metric: str,
        *,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = None,
    ) -> AsyncGenerator[Point, None]:
        """The points of ``get``'s series as they arrive, in order, with bounded memory.

        Arguments are checked now, before any request. Break out early or cancel at any time:
        what is in flight is cancelled. A failure raises with ``resume_from`` set.

        >>> async for point in client.metrics.stream(101, "throughput", start=t0, end=t1):
        ...     write(point)
        """
        scope = f"/apps/{check_id(app_id)}"
        return self._series.stream(scope, metric, start, end, resolution)
