"""Reading one metric series through a plan: streamed in order, chunk by chunk, or collected.

Shared by every resource whose data is a time series (app, endpoint and job metrics), and by
backfill and polling.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio
import anyio.abc

from .._core import Core
from .._exceptions import ResponseFormatError, ScoutError
from .._time import display_time, format_time
from ..types._models import Point
from .fetch import ChunkDone, Failed, Finished, produce_chunks
from .merge import owned_points, parse_series_results
from .planner import Chunk

__all__ = ["Decode", "SeriesReader", "decode_series"]

Item = ChunkDone[list[Point]] | Failed | Finished
#: ``decode(results, metric, path)``: an answer's points and summary (``parse_series_results``).
Decode = Callable[[Any, str, str], tuple[list[Point], float | None]]


def decode_series(results: Any, metric: str, path: str) -> tuple[list[Point], float | None]:
    return parse_series_results(results, metric, method="GET", path=path)


class SeriesReader:
    """Fetches ``metric`` at ``path`` chunk by chunk (``from``/``to`` per chunk).

    ``summary`` is Scout's summary once a single-request plan has been read, else ``None``.
    """

    def __init__(
        self,
        core: Core,
        path: str,
        metric: str,
        chunks: list[Chunk],
        *,
        window: int,
        decode: Decode = decode_series,
    ) -> None:
        self._core = core
        self._path = path
        self._metric = metric
        self._chunks = chunks
        self._window = window
        self._decode = decode
        self.summary: float | None = None

    @property
    def path(self) -> str:
        """The series' API path (no query)."""
        return self._path

    async def _fetch(self, chunk: Chunk) -> list[Point]:
        params = {"from": format_time(chunk.start), "to": format_time(chunk.end)}
        results = await self._core.get(self._path, params)
        points, summary = self._decode(results, self._metric, self._path)
        if len(self._chunks) == 1:
            self.summary = summary
        return owned_points(points, chunk, method="GET", path=self._path)

    async def _produce(self, send: anyio.abc.ObjectSendStream[Item]) -> None:
        await produce_chunks(self._chunks, self._fetch, send, window=self._window)

    async def stream(self) -> AsyncGenerator[Point, None]:
        """The series' points in strictly increasing time, as soon as each chunk is in order.

        The producer runs as a background job of the core, so no task group spans a ``yield``.
        """
        send, receive = anyio.create_memory_object_stream[Item](0)
        scope = self._core.spawn(lambda: self._produce(send))
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

    async def read_chunks(self, handle: Callable[[Chunk, list[Point]], Awaitable[None]]) -> None:
        """Await ``handle(chunk, points)`` for each chunk of the plan, in plan order.

        For callers that need a chunk's boundaries with its points (backfill checkpoints the
        ``owned_end`` of each chunk written). A failed fetch is raised once every chunk before it
        was handled (a ``ScoutError`` carries ``resume_from``); an error from ``handle`` stops the
        fetching and is raised as is.
        """
        send, receive = anyio.create_memory_object_stream[Item](0)
        guard = _OrderGuard(self._path)
        failure: BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._produce, send)
            async with receive:
                async for item in receive:
                    try:
                        points = guard.take(item)
                        if isinstance(item, ChunkDone):
                            await handle(item.chunk, points)
                    except Exception as exc:
                        failure = exc
                        tg.cancel_scope.cancel()  # the producer may be blocked on its next send
                        break
        if failure is not None:
            raise failure
        guard.require_finished(self._chunks)

    async def collect(self) -> tuple[list[Point], float | None]:
        """Every point of the plan, and Scout's summary when the plan is one request."""
        points: list[Point] = []

        async def take(_: Chunk, chunk_points: list[Point]) -> None:
            points.extend(chunk_points)

        await self.read_chunks(take)
        return points, self.summary


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
        points = item.result
        if points and self._last is not None and points[0].time <= self._last:
            raise ResponseFormatError(
                f"chunk {item.index} starts at {display_time(points[0].time)}, "
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
