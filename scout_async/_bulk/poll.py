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
* **Fair shares.** Every request still goes through the client's one limit (``max_concurrency``),
  but each app may hold at most its share of it, ``max(1, max_concurrency // apps)``, and each
  series reads one request at a time: an app whose requests hang until ``timeout`` holds at
  most its share, and the other apps get their data at every tick.
* **Apps that cannot be listed.** With ``metrics="all"``, an app whose metric listing fails does
  not end the poll: each tick yields a ``PollUpdate`` with ``metric="*"`` (``ALL_METRICS``) and
  the error, and lists the app again; once listed, its series start from the first poll's start
  like the others. A refused key (401/403) while listing ends the poll with that error.
* **Time** comes from the client's clock (``ScoutClient(clock=...)``), so tests can run a
  day of polling in a moment.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta, timezone

import anyio
import anyio.abc
import attrs

from .._constants import DEFAULT_LATENESS, DEFAULT_POLL_INTERVAL
from .._core import Core
from .._exceptions import (
    APITimeoutError,
    ArgumentError,
    ArgumentTypeError,
    AuthenticationError,
    ScoutError,
)
from .._resources.apps import Apps
from .._resources.metrics import Metrics, series_reader
from .._series.instants import require_aware
from .._series.planner import Chunk, plan_range
from .._series.steps import floor_to_grid, parse_step
from ..types._points import Points, as_points
from .selection import (
    ALL_METRICS,
    AppsArg,
    MetricsArg,
    Selection,
    SeriesKey,
    app_series,
    select,
)

__all__ = [
    "DEFAULT_LATENESS",
    "DEFAULT_POLL_INTERVAL",
    "PollUpdate",
    "poll",
]


@attrs.frozen
class PollUpdate:
    """New buckets of one series, or why they could not be fetched.

    With ``error`` None, ``points`` are the buckets in ``[start, end)`` (in time order; a bucket
    Scout has no point for is simply absent), each delivered by exactly one update; they are
    columnar (``Points``: ``points.times``, ``points.values``; a ``Point`` per item read). With
    ``error`` set, ``[start, end)`` was not fetched and is retried at the next poll.

    ``metric == "*"`` (always with ``error``): with ``metrics="all"``, the app's metrics could
    not be listed, so none of its series was fetched; the listing is retried at the next poll,
    and then its series start at ``start``.

    >>> async with aclosing(client.poll(apps=[101], metrics=["throughput"])) as updates:
    ...     async for update in updates:
    ...         if update.error is None:
    ...             store(update.app_id, update.metric, update.points)
    """

    app_id: int
    metric: str
    start: datetime
    end: datetime
    points: Points = attrs.field(factory=Points, converter=as_points)
    error: ScoutError | None = None


@attrs.frozen
class _Failed:
    error: BaseException


MAX_POLL_INTERVAL = timedelta(days=365)
MAX_LATENESS = timedelta(days=30)


def _unwrap(exc: Exception) -> Exception:
    """The one error inside a task group's exception group, so users catch ``ScoutError``."""
    while True:
        inner = getattr(exc, "exceptions", None)
        if not inner or len(inner) != 1 or not isinstance(inner[0], Exception):
            return exc
        exc = inner[0]


def poll(
    core: Core,
    *,
    apps: AppsArg,
    metrics: MetricsArg,
    interval: timedelta = DEFAULT_POLL_INTERVAL,
    resolution: timedelta | str = "1m",
    since: datetime | None = None,
    lateness: timedelta = DEFAULT_LATENESS,
    timeout: float | None = None,
) -> AsyncGenerator[PollUpdate, None]:
    """The generator behind ``ScoutClient.poll``; arguments are checked now, before any request."""
    selection = select(apps, metrics)
    if resolution is None:
        raise ArgumentTypeError("poll needs a resolution such as '1m' (a fixed step), not None")
    step = parse_step(resolution)
    if not isinstance(interval, timedelta) or interval <= timedelta(0):
        raise ArgumentError(f"interval must be a positive timedelta, got {interval!r}")
    if interval > MAX_POLL_INTERVAL:
        raise ArgumentError(
            f"interval must be at most {MAX_POLL_INTERVAL.days} days, got {interval}"
        )
    if not isinstance(lateness, timedelta) or lateness < timedelta(0):
        raise ArgumentError(f"lateness must be a timedelta >= 0, got {lateness!r}")
    if lateness > MAX_LATENESS:
        raise ArgumentError(
            f"lateness must be at most {MAX_LATENESS.days} days (Scout keeps about 30), "
            f"got {lateness}"
        )
    start = None if since is None else require_aware(since, "since")
    if timeout is None:
        timeout = interval.total_seconds()
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not (timeout > 0 and math.isfinite(timeout))
    ):
        raise ArgumentError(f"timeout must be seconds > 0 or None, got {timeout!r}")
    core.require_open()
    poller = _Poller(
        core,
        selection,
        step=step,
        interval=interval,
        since=start,
        lateness=lateness,
        timeout=float(timeout),
    )
    return poller.updates()


class _Poller:
    def __init__(
        self,
        core: Core,
        selection: Selection,
        *,
        step: timedelta,
        interval: timedelta,
        since: datetime | None,
        lateness: timedelta,
        timeout: float,
    ) -> None:
        self._core = core
        self._selection = selection
        self._step = step
        self._interval = interval
        self._since = since
        self._lateness = lateness
        self._timeout = timeout
        self._clock = core.clock
        self._marks: dict[SeriesKey, datetime] = {}
        self._busy: set[SeriesKey] = set()
        self._fatal: Exception | None = None
        self._origin = datetime.min.replace(tzinfo=timezone.utc)
        self._series: list[SeriesKey] = []
        # Apps whose metrics are still to be listed, with the last error; those being listed.
        self._unlisted: dict[int, ScoutError] = {}
        self._listing: set[int] = set()
        # Each app's share of the client's limit (taken around a series' read or a listing).
        self._app_slots: dict[int, anyio.CapacityLimiter] = {}

    async def updates(self) -> AsyncGenerator[PollUpdate, None]:
        # The producer runs as a background job of the client, so no task group spans a yield.
        send, receive = anyio.create_memory_object_stream[PollUpdate | _Failed](0)
        scope = self._core.spawn(lambda: self._produce(send))
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
                    await send.send(_Failed(_unwrap(exc)))

    async def _run(self, send: anyio.abc.ObjectSendStream[PollUpdate | _Failed]) -> None:
        resolved = await self._selection.resolve_each(Apps(self._core), Metrics(self._core))
        self._series = list(resolved.series)
        self._unlisted = dict(resolved.failed)
        apps = sorted({app_id for app_id, _ in self._series} | set(self._unlisted))
        share = max(1, self._core.max_concurrency // max(1, len(apps)))
        self._app_slots = {app_id: anyio.CapacityLimiter(share) for app_id in apps}
        first = require_aware(self._clock.now(), "clock.now()")
        origin = self._since if self._since is not None else first - self._lateness - self._interval
        self._origin = floor_to_grid(origin, self._step)
        self._marks = dict.fromkeys(self._series, self._origin)
        async with anyio.create_task_group() as tg:
            tick = first
            retry_listing = False  # the first tick reports the failures of the first listing
            while True:
                horizon = self._horizon()
                for app_id in list(self._unlisted):
                    if app_id not in self._listing:
                        self._listing.add(app_id)
                        tg.start_soon(self._list_app, app_id, horizon, retry_listing, send, tg)
                retry_listing = True
                for key in self._series:
                    self._start(key, horizon, send, tg)
                now = require_aware(self._clock.now(), "clock.now()")
                tick += self._interval
                if tick <= now:  # suspended for longer than an interval: skip missed ticks
                    tick += math.ceil((now - tick) / self._interval) * self._interval
                await self._clock.sleep((tick - now).total_seconds())
        if self._fatal is not None:
            raise self._fatal

    def _start(
        self,
        key: SeriesKey,
        horizon: datetime,
        send: anyio.abc.ObjectSendStream[PollUpdate | _Failed],
        tg: anyio.abc.TaskGroup,
    ) -> None:
        if key not in self._busy and horizon > self._marks[key]:
            self._busy.add(key)
            tg.start_soon(self._poll_series, key, horizon, send, tg)

    async def _list_app(
        self,
        app_id: int,
        horizon: datetime,
        retry: bool,
        send: anyio.abc.ObjectSendStream[PollUpdate | _Failed],
        tg: anyio.abc.TaskGroup,
    ) -> None:
        """List the metrics of an app that could not be listed (or, at the first tick, report
        why not); once listed, its series join the poll and start at once."""
        error = self._unlisted[app_id]
        try:
            if retry:
                try:
                    with anyio.fail_after(self._timeout):
                        async with self._app_slots[app_id]:
                            keys = await app_series(Metrics(self._core), app_id)
                except AuthenticationError as exc:  # the key is refused: polling is over
                    self._end(exc, tg)
                    return
                except ScoutError as exc:
                    error = self._unlisted[app_id] = exc
                except TimeoutError:
                    error = self._unlisted[app_id] = APITimeoutError(
                        f"listing the app's metrics took longer than {self._timeout:g}s; "
                        "retried next interval",
                        method="GET",
                        path=f"/apps/{app_id}/metrics",
                    )
                except Exception as exc:  # a bug or a closed client: end the poll, loudly
                    self._end(exc, tg)
                    return
                else:
                    del self._unlisted[app_id]
                    new = [key for key in keys if key not in self._marks]
                    self._marks.update(dict.fromkeys(new, self._origin))
                    self._series.extend(new)
                    for key in new:
                        self._start(key, horizon, send, tg)
                    return
            update = PollUpdate(app_id, ALL_METRICS, self._origin, horizon, error=error)
            try:
                await send.send(update)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                tg.cancel_scope.cancel()  # the consumer closed the generator: polling is over
        finally:
            self._listing.discard(app_id)

    def _end(self, error: Exception, tg: anyio.abc.TaskGroup) -> None:
        if self._fatal is None:
            self._fatal = error
        tg.cancel_scope.cancel()

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
        parts: list[Points] = []
        error: ScoutError | None = None

        async def take(chunk: Chunk, chunk_points: Points) -> None:
            nonlocal reached
            parts.append(chunk_points)
            reached = chunk.owned_end

        try:
            # One request at a time per series, and at most the app's share of the client's
            # limit per app: an app whose requests hang cannot take every slot.
            reader = series_reader(
                self._core,
                app_id,
                metric,
                plan_range(start, horizon, self._step),
                window=1,
                lateness=self._lateness,
            )
            with anyio.fail_after(self._timeout):
                async with self._app_slots[app_id]:
                    await reader.read_chunks(take)
        except ScoutError as exc:
            error = exc
        except TimeoutError:
            error = APITimeoutError(
                f"polling this series took longer than {self._timeout:g}s; retried next interval",
                method="GET",
                path=reader.path,
            )
        except Exception as exc:  # a bug or a closed client: end the poll, loudly
            self._busy.discard(key)
            self._end(exc, tg)
            return
        try:
            if reached > start:
                await send.send(PollUpdate(app_id, metric, start, reached, Points.concat(parts)))
                self._marks[key] = reached
            if error is not None:
                await send.send(PollUpdate(app_id, metric, reached, horizon, error=error))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            tg.cancel_scope.cancel()  # the consumer closed the generator: polling is over
        finally:
            self._busy.discard(key)
