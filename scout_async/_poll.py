"""``ScoutClient.poll``: the new complete buckets of many series, every interval, each once.

* **Complete buckets only.** A bucket ``[t, t + step)`` is emitted once ``t + step <= now -
  lateness``: Scout's agents report with a delay, so the newest buckets are still filling. Each
  series keeps a watermark (the end of what it emitted) and each poll fetches ``[watermark,
  horizon)``, where ``horizon`` is ``now - lateness`` floored to the step's grid; ownership
  filtering keeps every bucket in exactly one update. Data that arrives later than ``lateness``
  is not seen: an emitted bucket is never emitted again, even if Scout revises it. Raise
  ``lateness`` to trade freshness for settled numbers.
* **Isolation.** Every series is fetched by a task of its own; a series still busy (slow, or
  its consumer not keeping up) is left out of the next tick and catches up from its own
  watermark later. A fetch that fails, or takes longer than ``timeout``, surfaces as a
  ``PollUpdate`` with ``error``; its buckets are retried at the next tick. The others go on.
* **Time** comes from an injectable clock (``now()`` and ``sleep(seconds)``), so tests can run a
  day of polling in a moment.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.abc
import attrs

from ._constants import DEFAULT_LATENESS, DEFAULT_POLL_INTERVAL
from ._exceptions import APITimeoutError, ScoutError
from ._models import Point
from ._planner import Chunk, plan_range
from ._selection import AppsArg, MetricsArg, Selection, SeriesKey, metric_path, select
from ._series import SeriesReader
from ._steps import floor_to_grid, parse_step
from ._time import require_aware

if TYPE_CHECKING:
    from ._client import ScoutClient

__all__ = [
    "DEFAULT_LATENESS",
    "DEFAULT_POLL_INTERVAL",
    "Clock",
    "PollUpdate",
    "SystemClock",
    "poll",
]


class Clock(Protocol):
    """Where ``poll`` takes the time from: the wall clock by default, a virtual one in tests."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The wall clock (UTC) and ``anyio.sleep``."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


@attrs.frozen
class PollUpdate:
    """New buckets of one series, or why they could not be fetched.

    With ``error`` None, ``points`` are the buckets in ``[start, end)`` (in time order; a bucket
    Scout has no point for is simply absent), each delivered by exactly one update. With
    ``error`` set, ``[start, end)`` was not fetched and is retried at the next poll.

    >>> async with aclosing(client.poll(apps=[101], metrics=["throughput"])) as updates:
    ...     async for update in updates:
    ...         if update.error is None:
    ...             store(update.app_id, update.metric, update.points)
    """

    app_id: int
    metric: str
    start: datetime
    end: datetime
    points: tuple[Point, ...] = ()
    error: ScoutError | None = None


@attrs.frozen
class _Failed:
    error: BaseException


def poll(
    client: ScoutClient,
    *,
    apps: AppsArg,
    metrics: MetricsArg,
    interval: timedelta = DEFAULT_POLL_INTERVAL,
    resolution: timedelta | str = "1m",
    since: datetime | None = None,
    lateness: timedelta = DEFAULT_LATENESS,
    timeout: float | None = None,
    clock: Clock | None = None,
) -> AsyncGenerator[PollUpdate, None]:
    """The generator behind ``ScoutClient.poll``; arguments are checked now, before any request."""
    selection = select(apps, metrics)
    if resolution is None:
        raise TypeError("poll needs a resolution such as '1m' (a fixed step), not None")
    step = parse_step(resolution)
    if not isinstance(interval, timedelta) or interval <= timedelta(0):
        raise ValueError(f"interval must be a positive timedelta, got {interval!r}")
    if not isinstance(lateness, timedelta) or lateness < timedelta(0):
        raise ValueError(f"lateness must be a timedelta >= 0, got {lateness!r}")
    start = None if since is None else require_aware(since, "since")
    if timeout is None:
        timeout = interval.total_seconds()
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not (timeout > 0 and math.isfinite(timeout))
    ):
        raise ValueError(f"timeout must be seconds > 0 or None, got {timeout!r}")
    if clock is not None and not (
        callable(getattr(clock, "now", None)) and hasattr(clock, "sleep")
    ):
        raise TypeError(f"clock must have now() and async sleep(seconds), got {clock!r}")
    client._require_open()
    poller = _Poller(
        client,
        selection,
        step=step,
        interval=interval,
        since=start,
        lateness=lateness,
        timeout=float(timeout),
        clock=clock or SystemClock(),
    )
    return poller.updates()


class _Poller:
    def __init__(
        self,
        client: ScoutClient,
        selection: Selection,
        *,
        step: timedelta,
        interval: timedelta,
        since: datetime | None,
        lateness: timedelta,
        timeout: float,
        clock: Clock,
    ) -> None:
        self._client = client
        self._selection = selection
        self._step = step
        self._interval = interval
        self._since = since
        self._lateness = lateness
        self._timeout = timeout
        self._clock = clock
        self._marks: dict[SeriesKey, datetime] = {}
        self._busy: set[SeriesKey] = set()
        self._fatal: Exception | None = None

    async def updates(self) -> AsyncGenerator[PollUpdate, None]:
        # The producer runs as a background job of the client, so no task group spans a yield.
        send, receive = anyio.create_memory_object_stream[PollUpdate | _Failed](0)
        scope = self._client._spawn(lambda: self._produce(send))
        try:
            async with receive:
                async for item in receive:
                    if isinstance(item, _Failed):
                        raise item.error
                    yield item
            # The producer never ends on its own: it was stopped with the client.
            raise ScoutError("polling stopped: the client was closed")
        finally:
            scope.cancel()
            send.close()

    def _horizon(self) -> datetime:
        return floor_to_grid(
            require_aware(self._clock.now(), "clock.now()") - self._lateness, self._step
        )

    async def _produce(self, send: anyio.abc.ObjectSendStream[PollUpdate | _Failed]) -> None:
        async with send:
            try:
                await self._run(send)
            except Exception as exc:  # listing failed, a bad clock, a bug: the consumer hears
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    await send.send(_Failed(exc))

    async def _run(self, send: anyio.abc.ObjectSendStream[PollUpdate | _Failed]) -> None:
        series = await self._selection.resolve(self._client)
        first = require_aware(self._clock.now(), "clock.now()")
        origin = self._since if self._since is not None else first - self._lateness - self._interval
        self._marks = dict.fromkeys(series, floor_to_grid(origin, self._step))
        async with anyio.create_task_group() as tg:
            tick = first
            while True:
                horizon = self._horizon()
                for key in series:
                    if key not in self._busy and horizon > self._marks[key]:
                        self._busy.add(key)
                        tg.start_soon(self._poll_series, key, horizon, send, tg)
                now = require_aware(self._clock.now(), "clock.now()")
                tick += self._interval
                if tick <= now:  # suspended for longer than an interval: skip missed ticks
                    tick += math.ceil((now - tick) / self._interval) * self._interval
                await self._clock.sleep((tick - now).total_seconds())
        if self._fatal is not None:
            raise self._fatal

    async def _poll_series(
        self,
        key: SeriesKey,
        horizon: datetime,
        send: anyio.abc.ObjectSendStream[PollUpdate | _Failed],
        tg: anyio.abc.TaskGroup,
    ) -> None:
        app_id, metric = key
        start = self._marks[key]
        reached = start
        points: list[Point] = []
        error: ScoutError | None = None

        async def take(chunk: Chunk, chunk_points: list[Point]) -> None:
            nonlocal reached
            points.extend(chunk_points)
            reached = chunk.owned_end

        try:
            chunks = plan_range(start, horizon, self._step)
            reader = SeriesReader(
                self._client._transport,
                metric_path(key),
                metric,
                chunks,
                window=self._client.max_concurrency,
            )
            with anyio.fail_after(self._timeout):
                await reader.read_chunks(take)
        except ScoutError as exc:
            error = exc
        except TimeoutError:
            error = APITimeoutError(
                f"polling this series took longer than {self._timeout:g}s; retried next interval",
                method="GET",
                path=metric_path(key),
            )
        except Exception as exc:  # a bug or a closed client: end the poll, loudly
            if self._fatal is None:
                self._fatal = exc
            tg.cancel_scope.cancel()
            return
        try:
            if reached > start:
                await send.send(PollUpdate(app_id, metric, start, reached, tuple(points)))
                self._marks[key] = reached
            if error is not None:
                await send.send(PollUpdate(app_id, metric, reached, horizon, error=error))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            tg.cancel_scope.cancel()  # the consumer closed the generator: polling is over
        finally:
            self._busy.discard(key)
