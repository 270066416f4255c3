"""Metric series of an app, an endpoint or a job: one machinery (planner, ``SeriesReader``)
pointed at different paths.

A window of any length is planned by ``plan_range`` and fetched, merged and checked by
``SeriesReader``; only the path differs, and for jobs the ``decode`` step that reads their
answers' other shapes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .._models import Point, Series
from .._planner import Chunk, plan_range
from .._series import Decode, SeriesReader, decode_series
from .._transport import Transport
from ._validate import check_name, path_segment

if TYPE_CHECKING:
    from .._client import ScoutClient

__all__ = ["ScopedMetrics"]


class ScopedMetrics:
    def __init__(
        self,
        transport: Transport,
        client: ScoutClient,
        names: tuple[str, ...],
        decode: Decode = decode_series,
    ) -> None:
        self._transport = transport
        self._client = client
        self._names = names
        self._decode = decode

    def reader(
        self,
        scope_path: str,
        metric: str,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None,
    ) -> tuple[SeriesReader, list[Chunk]]:
        """Check ``metric`` and the window, plan it, and make its reader (no request yet)."""
        check_name(metric, self._names, "metric")
        chunks = plan_range(start, end, resolution)
        path = f"{scope_path}/metrics/{path_segment(metric)}"
        reader = SeriesReader(
            self._transport,
            path,
            metric,
            chunks,
            window=self._client.max_concurrency,
            decode=self._decode,
        )
        return reader, chunks

    async def get(
        self,
        app_id: int,
        scope_path: str,
        metric: str,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None,
    ) -> Series:
        reader, chunks = self.reader(scope_path, metric, start, end, resolution)
        points, summary = await reader.collect()
        return Series(
            app_id=app_id, metric=metric, step=chunks[0].step, points=points, summary=summary
        )

    def stream(
        self,
        scope_path: str,
        metric: str,
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None,
    ) -> AsyncGenerator[Point, None]:
        reader, _ = self.reader(scope_path, metric, start, end, resolution)
        self._client._require_open()
        return reader.stream(self._client._spawn)
