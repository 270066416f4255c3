"""A fake Scout series server for unit tests of planning, merging and streaming (no network)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx

from scout_async._series.steps import floor_to_grid, step_for_window
from scout_async._time import parse_time
from tests.conftest import envelope


def value_at(moment: datetime, step: timedelta) -> float:
    """A deterministic value per (bucket, step): any two requests agree on a bucket."""
    minutes = moment.timestamp() / 60
    return round(100 + 40 * math.sin(minutes / 97.0) + step.total_seconds() / 60, 3)


class FakeSeriesServer:
    """Answers ``/apps/{id}/metrics/{m}?from&to`` at the step Scout would pick, on the grid.

    ``inclusive_end`` decides whether the bucket at ``to`` is included. Counts requests and the
    peak number in flight and the requests cancelled while in flight; ``latency`` seconds per
    request (or ``latency_for(number)``, or ``latency_at(from)``); ``fail`` maps a request number
    (1-based), and ``fail_at`` a request's ``from``, to a status to answer instead.
    """

    def __init__(
        self,
        *,
        inclusive_end: bool = True,
        latency: float = 0.0,
        fail: dict[int, int] | None = None,
        wrong_step: timedelta | None = None,
        on_request: Callable[[int], None] | None = None,
        latency_for: Callable[[int], float] | None = None,
        latency_at: Callable[[datetime], float] | None = None,
        fail_at: dict[datetime, int] | None = None,
    ) -> None:
        self.inclusive_end = inclusive_end
        self.latency = latency
        self.fail = fail or {}
        self.wrong_step = wrong_step
        self.on_request = on_request
        self.latency_for = latency_for
        self.latency_at = latency_at
        self.fail_at = fail_at or {}
        self.cancelled = 0
        self.requests: list[tuple[datetime, datetime]] = []
        self.completed = 0
        self.in_flight = 0
        self.peak_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        start, end = parse_time(query["from"][0]), parse_time(query["to"][0])
        self.requests.append((start, end))
        number = len(self.requests)
        if self.on_request:
            self.on_request(number)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency_at:
                latency = self.latency_at(start)
            elif self.latency_for:
                latency = self.latency_for(number)
            else:
                latency = self.latency
            if latency:
                try:
                    await anyio.sleep(latency)
                except anyio.get_cancelled_exc_class():
                    self.cancelled += 1
                    raise
            status = self.fail.get(number) or self.fail_at.get(start)
            if status:
                return httpx.Response(status, json=envelope({}, status, "injected"))
            metric = request.url.path.rsplit("/", 1)[-1]
            step = self.wrong_step or step_for_window(end - start)
            body = envelope(self.series(metric, start, end, step))
            return httpx.Response(200, json=body)
        finally:
            self.in_flight -= 1
            self.completed += 1

    def series(self, metric: str, start: datetime, end: datetime, step: timedelta) -> Any:
        points = []
        t = floor_to_grid(start, step)
        while t < end or (self.inclusive_end and t == end):
            points.append([t.strftime("%Y-%m-%dT%H:%M:%SZ"), value_at(t, step)])
            t += step
        return {"summaries": {metric: 1.5}, "series": {metric: points}}

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))
