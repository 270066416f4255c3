"""Reading one metric series through a plan: streamed in order, chunk by chunk, or collected.

Shared by every resource whose data is a time series (app, endpoint and job metrics), and by
backfill and polling.
"""

from __future__ import annotations

import contextlib
import logging
from bisect import bisect_right
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import anyio.abc

from .._constants import LOGGER_NAME
from .._core import Core
from .._exceptions import ResponseFormatError, ScoutError, StepMismatchError
from .._time import display_time, format_time
from ..types._models import Point
from ..types._points import Points
from .fetch import ChunkDone, Failed, Finished, produce_chunks
from .instants import require_reachable
from .merge import owned_points, parse_series_results
from .planner import Chunk, at_upper_edge, split_at_edge
from .steps import format_step

__all__ = ["Decode", "SeriesReader", "decode_series"]

_log = logging.getLogger(LOGGER_NAME)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
_NONE = Points()

Item = ChunkDone[Points] | Failed | Finished
#: ``decode(results, metric, path)``: an answer's points and summary (``parse_series_results``).
Decode = Callable[[Any, str, str], tuple[Points, float | None]]


def decode_series(results: Any, metric: str, path: str) -> tuple[Points, float | None]:
    return parse_series_results(results, metric, method="GET", path=path)


class SeriesReader:
    """Fetches ``metric`` at ``path`` chunk by chunk (``from``/``to`` per chunk).

    ``chunks`` is a plan: a list (``plan_range``) or, for a window of any length in constant
    memory, a ``ChunkPlan`` (``plan_series``); chunks are taken from it one by one as slots free.
    A plan reaching where Scout holds no data (before it existed, or more than a day after the
    client's clock) is refused here, before any request. ``summary`` is Scout's summary once a
    single-request plan has been read, else ``None``.

    ``horizon``: a bucket ending after it has not closed yet (the caller's clock less the
    lateness, ``series_reader``) and is left out, or, with ``partial``, kept and its start noted
    in ``partial_from``. ``None`` keeps every bucket (a plan that ends at its own horizon).

    A chunk whose request is exactly its band's upper edge and that Scout answers at a coarser
    step is fetched again in smaller requests inside the band (``split_at_edge``); the client
    remembers the lesson (``Core.exclusive_edges``) and warns once.
    """

    def __init__(
        self,
        core: Core,
        path: str,
        metric: str,
        chunks: Sequence[Chunk],
        *,
        window: int,
        decode: Decode = decode_series,
        horizon: datetime | None = None,
        partial: bool = False,
    ) -> None:
        if chunks:
            require_reachable(chunks[0].owned_start, chunks[-1].end, now=core.clock.now())
        self._core = core
        self._path = path
        self._metric = metric
        self._chunks = chunks
        self._window = window
        self._decode = decode
        self._horizon = horizon
        self._partial = partial
        self.summary: float | None = None
        #: With ``partial``: the start of the first bucket read that had not closed by the
        #: horizon (``None`` if every bucket read had).
        self.partial_from: datetime | None = None

    @property
    def path(self) -> str:
        """The series' API path (no query)."""
        return self._path

    async def _fetch(self, chunk: Chunk) -> Points:
        lessons = self._core.exclusive_edges
        if chunk.step in lessons and at_upper_edge(chunk):
            points = await self._fetch_split(chunk)
        else:
            try:
                points = await self._fetch_one(chunk, keep_summary=len(self._chunks) == 1)
            except StepMismatchError as exc:
                if exc.actual is None or exc.actual <= chunk.step or not at_upper_edge(chunk):
                    raise
                self._learn(chunk, exc.actual)
                points = await self._fetch_split(chunk)
        return self._settled(chunk, points)

    async def _fetch_one(self, chunk: Chunk, *, keep_summary: bool) -> Points:
        params = {"from": format_time(chunk.start), "to": format_time(chunk.end)}
        results = await self._core.get(self._path, params)
        points, summary = self._decode(results, self._metric, self._path)
        owned = owned_points(points, chunk, method="GET", path=self._path)
        if keep_summary:
            self.summary = summary
        return owned

    async def _fetch_split(self, chunk: Chunk) -> Points:
        # Several requests: no summary of Scout's covers the chunk any more. A piece answered at
        # another step still raises StepMismatchError: that step cannot be reached.
        self.summary = None
        parts = [await self._fetch_one(piece, keep_summary=False) for piece in split_at_edge(chunk)]
        return Points.concat(parts)

    def _learn(self, chunk: Chunk, actual: timedelta) -> None:
        lessons = self._core.exclusive_edges
        if chunk.step in lessons:
            return
        lessons.add(chunk.step)
        _log.warning(
            "Scout answered a window of exactly %s at %s, not %s: that band's upper edge is "
            "exclusive; this client splits such windows from now on (%s)",
            format_step(chunk.end - chunk.start),
            format_step(actual),
            format_step(chunk.step),
            self._path,
        )

    def _settled(self, chunk: Chunk, points: Points) -> Points:
        """``points`` without the buckets that end after the horizon (with ``partial``: all of
        them, the first unsettled one noted in ``partial_from``)."""
        closed = self._closed(points, chunk.step)
        if closed == len(points):
            return points
        if not self._partial:
            return points[:closed]
        first = _EPOCH + points.times[closed] * _SECOND
        if self.partial_from is None or first < self.partial_from:
            self.partial_from = first
        return points

    def _closed(self, points: Points, step: timedelta) -> int:
        """How many of ``points`` (from the first) are buckets closed by the horizon."""
        if self._horizon is None or not points:
            return len(points)
        # A bucket has closed when its start + step <= horizon: start <= horizon - step.
        return bisect_right(points.times, (self._horizon - step - _EPOCH) // _SECOND)

    def open_from(self, points: Points, step: timedelta) -> datetime | None:
        """The start of the first of ``points`` that had not closed by the horizon (kept only
        with ``partial``), or ``None``."""
        closed = self._closed(points, step)
        return None if closed == len(points) else _EPOCH + points.times[closed] * _SECOND

    async def _produce(self, send: anyio.abc.ObjectSendStream[Item]) -> None:
        await produce_chunks(self._chunks, self._fetch, send, window=self._window)

    async def stream(self) -> AsyncGenerator[Point, None]:
        """The series' points in strictly increasing time, as soon as each chunk is in order."""
        # Closing this generator closes the chunks' at once (not when collected): what is in
        # flight is cancelled as soon as the consumer leaves.
        async with contextlib.aclosing(self.stream_chunks()) as chunks:
            async for _, points in chunks:
                for point in points:
                    yield point

    async def stream_chunks(self) -> AsyncGenerator[tuple[Chunk, Points], None]:
        """Each chunk with its points, in plan order, as soon as it is in order.

        The producer runs as a background job of the core, so no task group spans a ``yield``.
        """
        send, receive = anyio.create_memory_object_stream[Item](0)
        try:
            scope = self._core.spawn(lambda: self._produce(send))
        except BaseException:
            send.close()
            receive.close()
            raise
        guard = _OrderGuard(self._path)
        try:
            async with receive:
                async for item in receive:
                    points = guard.take(item)
                    if isinstance(item, ChunkDone):
                        yield item.chunk, points
            guard.require_finished(self._chunks)
        finally:
            # Only the receiving end is ours: closing it tells a producer waiting in ``send``
            # that nobody listens any more, and it stops quietly (``produce_chunks``). Closing
            # its sending end under it made it fail, and log an error, at every abandoned stream.
            scope.cancel()

    async def read_chunks(self, handle: Callable[[Chunk, Points], Awaitable[None]]) -> None:
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

    async def collect(self) -> tuple[Points, float | None]:
        """Every point of the plan, and Scout's summary when the plan is one request."""
        parts: list[Points] = []

        async def take(_: Chunk, chunk_points: Points) -> None:
            parts.append(chunk_points)

        await self.read_chunks(take)
        return (parts[0] if len(parts) == 1 else Points.concat(parts)), self.summary


class _OrderGuard:
    """Only strictly increasing times leave the merge; a stream that stops early is an error."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._last: int | None = None
        self._next_index = 0
        self._finished = False

    def take(self, item: Item) -> Points:
        if isinstance(item, Failed):
            raise item.error
        if isinstance(item, Finished):
            self._finished = True
            return _NONE
        points = item.result
        times = points.times
        if times and self._last is not None and times[0] <= self._last:
            raise ResponseFormatError(
                f"chunk {item.index} starts at {display_time(_EPOCH + times[0] * _SECOND)}, "
                "not after the previous one",
                method="GET",
                path=self._path,
            )
        if times:
            self._last = times[-1]
        self._next_index = item.index + 1
        return points

    def require_finished(self, chunks: Sequence[Chunk]) -> None:
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
