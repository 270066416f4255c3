"""Reading one metric series through a plan: streamed in order, or collected.

Shared by every resource whose data is a time series (app, endpoint and job metrics).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime

import anyio
import anyio.abc

from ._exceptions import ResponseFormatError, ScoutError
from ._merge import owned_points, parse_series_results
from ._models import Point
from ._planner import Chunk
from ._stream import ChunkDone, Failed, Finished, produce_chunks
from ._time import format_time
from ._transport import Transport

__all__ = ["SeriesReader"]

ChunkResult = tuple[list[Point], float | None]
Item = ChunkDone[ChunkResult] | Failed | Finished
Spawn = Callable[[Callable[[], Awaitable[None]]], anyio.CancelScope]


class SeriesReader:
    """Fetches ``metric`` at ``path`` chunk by chunk (``from``/``to`` per chunk)."""

    def __init__(
        self, transport: Transport, path: str, metric: str, chunks: list[Chunk], *, window: int
    ) -> None:
        self._transport = transport
        self._path = path
        self._metric = metric
        self._chunks = chunks
        self._window = window

    async def _fetch(self, chunk: Chunk) -> ChunkResult:
        params = {"from": format_time(chunk.start), "to": format_time(chunk.end)}
        results = await self._transport.get(self._path, params)
        points, summary = parse_series_results(results, self._metric, method="GET", path=self._path)
        return owned_points(points, chunk, method="GET", path=self._path), summary

    async def _produce(self, send: anyio.abc.ObjectSendStream[Item]) -> None:
        await produce_chunks(self._chunks, self._fetch, send, window=self._window)

    async def stream(self, spawn: Spawn) -> AsyncGenerator[Point, None]:
        """The series' points in strictly increasing time, as soon as each chunk is in order."""
        send, receive = anyio.create_memory_object_stream[Item](0)
        scope = spawn(lambda: self._produce(send))
        guard = _OrderGuard(self._path)
        try:
            async with receive:
                async for item in receive:
                    for point in guard.take(item):
                        yield point
            guard.require_finished(self._chunks)
        finally:
            scope.cancel()
            send.close()

    async def collect(self) -> tuple[list[Point], float | None]:
        """Every point of the plan, and Scout's summary when the plan is one request."""
        send, receive = anyio.create_memory_object_stream[Item](0)
        guard = _OrderGuard(self._path)
        points: list[Point] = []
        summary: float | None = None
        failure: BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._produce, send)
            async with receive:
                async for item in receive:
                    if isinstance(item, Failed):
                        failure = item.error
                        break
                    if isinstance(item, ChunkDone):
                        summary = item.result[1]
                    points.extend(guard.take(item))
        if failure is not None:
            raise failure
        guard.require_finished(self._chunks)
        return points, summary if len(self._chunks) == 1 else None


class _OrderGuard:
    """Only strictly increasing times leave the merge; a stream that stops early is an error."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._last: datetime | None = None
        self._next_index = 0
        self._finished = False

    def take(self, item: Item) -> list[Point]:
        if isinstance(item, Failed):
            raise item.error
        if isinstance(item, Finished):
            self._finished = True
            return []
        points = item.result[0]
        if points and self._last is not None and points[0].time <= self._last:
            raise ResponseFormatError(
                f"chunk {item.index} starts at {points[0].time:%Y-%m-%dT%H:%M:%SZ}, "
                "not after the previous one",
                method="GET",
                path=self._path,
            )
        if points:
            self._last = points[-1].time
        self._next_index = item.index + 1
        return points

    def require_finished(self, chunks: list[Chunk]) -> None:
        if self._finished:
            return
        error = ScoutError(
            "the series stopped before it was complete: the client was closed while streaming",
            method="GET",
            path=self._path,
        )
        if self._next_index < len(chunks):
            error.resume_from = chunks[self._next_index].owned_start
        raise error
