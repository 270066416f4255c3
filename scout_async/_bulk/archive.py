"""The archive engine: an archive of metric series in SQLite or PostgreSQL, kept up to date at
one (fine) step.

``catch_up`` backfills each series from where the archive ends (its watermark, see
``watermarks``; a series written by a plain backfill continues after its newest point), or from
``lookback`` ago for a series the archive does not hold yet, up to the last complete bucket.
``poll`` then polls every ``interval`` from there and writes each update as it comes; a series
that missed the catch-up is polled anyway and its gap filled in between rounds. Everything goes
through one ``SqliteSink`` or ``PostgresSink`` (an upsert), so running it again, or twice over the
same window, never duplicates a row; in PostgreSQL, several archives may run at once on one
database (each commits its rows and its watermarks in one transaction). Each catch-up, poll
round and gap-fill ends in one ``ArchiveRound``, handed to ``on_round``.

Cancelling it (a signal, a timeout) lets the write in progress and its commit finish and records
the watermarks: the next run continues from there. Time comes from the client's clock.

>>> async with ScoutClient() as client:
...     archive = Archive(client, "scout.sqlite", metrics=["throughput"], on_round=print)
...     async with archive:             # lists the series, then opens the database
...         await archive.catch_up()
...         await archive.poll()        # until cancelled
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Protocol

import anyio
import anyio.abc
import anyio.to_thread
import attrs

from .._client import ScoutClient
from .._constants import DEFAULT_LATENESS, DEFAULT_POLL_INTERVAL
from .._exceptions import ArgumentError, ArgumentTypeError, ScoutError
from .._resources.metrics import APP_METRICS
from .._series.planner import plan_range
from .._series.steps import ceil_to_grid, floor_to_grid, parse_step
from ..sinks import Position, PostgresSink, Sink, SqliteSink
from ..sinks._postgres import is_postgres_url
from ..types._models import Point
from .backfill import cleanup_scope, interruptible, step_scope
from .poll import PollUpdate
from .report import BackfillResult, Progress
from .selection import AppsArg, MetricsArg, SeriesKey, select

__all__ = ["DEFAULT_LOOKBACK", "Archive", "ArchiveRound", "BackfillWatch", "RoundKind"]

#: How far back a series the archive does not hold yet starts (Scout keeps about 30 days).
DEFAULT_LOOKBACK = timedelta(days=30)

_QUIET = 10.0  # seconds without an update that end a poll round early (a series is slow)

RoundKind = Literal["catch-up", "poll", "gap-fill"]


@attrs.frozen
class ArchiveRound:
    """What a catch-up, a poll round or a gap-fill wrote.

    ``at`` is the clock's time when it ended; ``series`` the series it brought up to date
    (catch-up, gap-fill: not those up to date already) or wrote new buckets of (poll), ``rows``
    the rows it wrote. ``errors``:
    per series that failed, why (a series not finished because its backfill stopped says so);
    each is retried, by the next poll, gap-fill or run. ``complete_until``: the archive holds
    every series, without a gap, up to there.
    """

    kind: RoundKind
    at: datetime
    rows: int
    series: frozenset[SeriesKey]
    errors: Mapping[SeriesKey, ScoutError]
    complete_until: datetime


class BackfillWatch(Protocol):
    """Watches one backfill of a catch-up (a progress display): ``update`` is its ``progress``
    callback, ``chunk_written`` hears of every chunk written to the archive."""

    def update(self, progress: Progress) -> object: ...

    def chunk_written(self, app_id: int, metric: str) -> object: ...


#: ``watch(chunks_per_series)``: the context of one backfill of a catch-up, and its watcher.
Watch = Callable[[int], AbstractContextManager[BackfillWatch]]


class ArchiveSink(Sink, Protocol):
    """What an archive writes to (``SqliteSink``, ``PostgresSink``): a sink that also keeps the
    archive's watermarks, recorded once the rows up to them are committed (or with them)."""

    async def newest_times(self) -> dict[SeriesKey, datetime]: ...

    async def read_watermarks(
        self, series: Sequence[SeriesKey], step: timedelta
    ) -> dict[SeriesKey, datetime]: ...

    async def commit_watermarks(
        self, marks: Mapping[SeriesKey, datetime], step: timedelta
    ) -> None: ...


def archive_sink(db: str | os.PathLike[str]) -> SqliteSink | PostgresSink:
    """The archive's database: a ``postgresql://`` URL, or else an SQLite file."""
    if is_postgres_url(db):
        return PostgresSink(str(db))
    return SqliteSink(db)


class _Lent:
    """The archive's open sink, lent to one backfill: opening and closing it stay the archive's."""

    def __init__(self, sink: Sink, written: Callable[[int, str], object] | None) -> None:
        self._sink = sink
        self._written = written

    @property
    def location(self) -> str:
        return self._sink.location

    @property
    def interruptible(self) -> bool:
        return interruptible(self._sink)

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        pass

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        await self._sink.write(app_id, metric, points)
        if self._written is not None:
            self._written(app_id, metric)

    async def flush(self) -> Position:
        return await self._sink.flush()

    async def close(self) -> None:
        pass


@attrs.define
class _Round:
    """What a catch-up or a poll round wrote so far."""

    rows: int = 0
    series: set[SeriesKey] = attrs.field(factory=set)
    errors: dict[SeriesKey, ScoutError] = attrs.field(factory=dict)

    @property
    def empty(self) -> bool:
        return not self.series and not self.errors


def _duration(name: str, value: object, *, zero: bool = False) -> timedelta:
    if not isinstance(value, timedelta):
        raise ArgumentTypeError(f"{name} must be a timedelta, got {type(value).__name__}")
    if value < timedelta(0) or (value == timedelta(0) and not zero):
        raise ArgumentError(f"{name} must be a timedelta {'>=' if zero else '>'} 0, got {value}")
    return value


class Archive:
    """An archive at ``db`` (an SQLite file, or a ``postgresql://`` URL) of the series of
    ``apps`` x ``metrics`` (``"all"``: listed from the API), at ``resolution``, kept up to date
    through ``client`` (see the module notes).

    ``interval``: how often ``poll`` polls; ``lookback``: where a series the archive does not
    hold yet starts; ``lateness``: a bucket is complete, and archived, once it ended this long
    ago. ``on_round`` gets each ``ArchiveRound``; ``watch(chunks_per_series)`` gives the context
    of each backfill of a catch-up and what watches it (a progress display). Arguments are
    checked now, before any request.

    ``series`` (after ``list_series``): the series archived; ``left_out``: metrics the apps offer
    that this client does not know (with ``metrics="all"``), left out. ``marks``: per series, the
    archive holds every bucket before it, without a gap.
    """

    def __init__(
        self,
        client: ScoutClient,
        db: str | os.PathLike[str],
        *,
        apps: AppsArg = "all",
        metrics: MetricsArg = "all",
        resolution: timedelta | str = "1m",
        interval: timedelta = DEFAULT_POLL_INTERVAL,
        lookback: timedelta = DEFAULT_LOOKBACK,
        lateness: timedelta = DEFAULT_LATENESS,
        on_round: Callable[[ArchiveRound], object] | None = None,
        watch: Watch | None = None,
    ) -> None:
        self._client = client
        self._store = archive_sink(db)
        self._sink: ArchiveSink = self._store
        self._selection = select(apps, metrics)
        if resolution is None:
            raise ArgumentTypeError("an archive needs a resolution such as '1m', not None")
        self._step = parse_step(resolution)
        self._interval = _duration("interval", interval)
        self._lookback = _duration("lookback", lookback)
        self._lateness = _duration("lateness", lateness, zero=True)
        self._clock = client.clock
        try:
            self._clock.now() - self._lookback
        except OverflowError:
            raise ArgumentError(
                f"lookback: {lookback.days:,} days before now is outside the years 1 to 9999"
            ) from None
        self._on_round = on_round
        self._watch = watch
        self.series: list[SeriesKey] = []
        self.left_out: tuple[str, ...] = ()
        self.marks: dict[SeriesKey, datetime] = {}
        self._listed = False
        self._open = False
        #: Series whose catch-up did not finish: polled anyway, but with a gap before ``since``.
        self._behind: dict[SeriesKey, datetime] = {}
        self._polled_to: dict[SeriesKey, datetime] = {}
        #: Where polling starts: the end of the catch-up.
        self._since: datetime | None = None

    @property
    def db(self) -> str:
        """The archive's file (an absolute path), or its database URL without the password."""
        store = self._store
        return store.database if isinstance(store, PostgresSink) else str(store.path)

    @property
    def complete_until(self) -> datetime | None:
        """Every series is in the archive, without a gap, up to here (``None`` before the
        catch-up)."""
        return min(self.marks.values()) if self.marks else None

    # -- lifetime ----------------------------------------------------------------------------

    async def list_series(self) -> list[SeriesKey]:
        """List the series to archive (``"all"`` from the API); metrics this client does not know
        are left out (``left_out``)."""
        found = await self._selection.resolve(self._client.apps, self._client.metrics)
        self.left_out = tuple(sorted({metric for _, metric in found if metric not in APP_METRICS}))
        self.series = [key for key in found if key[1] in APP_METRICS]
        self._listed = True
        return self.series

    async def __aenter__(self) -> Archive:
        """List the series (unless listed), then open the database: a bad key or an app that does
        not exist fails before the file is created. ``ScoutError`` if there is no series."""
        if not self._listed:
            await self.list_series()
        if not self.series:
            raise ScoutError("no series to archive: the apps offer none of the metrics asked for")
        with step_scope(self._sink):
            await self._sink.open(None)
            self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._open:
            self._open = False
            with cleanup_scope(self._sink, "closing the archive"):
                await self._sink.close()

    # -- the catch-up ------------------------------------------------------------------------

    def _horizon(self) -> datetime:
        """The end of the last complete bucket now (as ``poll`` counts it)."""
        return floor_to_grid(self._clock.now() - self._lateness, self._step)

    async def catch_up(self) -> ArchiveRound:
        """Bring every series up to the last complete bucket (inside ``async with archive``)."""
        if not self._open:
            raise RuntimeError("catch_up() runs inside `async with archive:`")
        stored = await self._sink.read_watermarks(self.series, self._step)
        newest = await self._sink.newest_times()
        end = self._horizon()
        floor = ceil_to_grid(self._clock.now() - self._lookback, self._step)
        starts: dict[SeriesKey, datetime] = {}
        for key in self.series:
            held = stored.get(key)
            if held is None and key in newest:  # written by a backfill: a prefix of its window
                held = newest[key] + self._step
            starts[key] = floor if held is None else max(held, floor)
        self.marks = {key: min(start, end) for key, start in starts.items()}
        report = await self._backfill_each(starts, end)
        self._since = end
        self._behind = {key: mark for key, mark in self.marks.items() if mark < end}
        return self._report("catch-up", report)

    async def _backfill_each(self, starts: Mapping[SeriesKey, datetime], end: datetime) -> _Round:
        """Backfill each series from its start to ``end``; returns what was written and failed.

        Series sharing a start and a metric list go into one backfill.
        """
        report = _Round()
        groups: dict[tuple[datetime, tuple[str, ...]], list[int]] = {}
        by_start: dict[tuple[datetime, int], list[str]] = {}
        for (app_id, metric), start in starts.items():
            if start < end:
                by_start.setdefault((start, app_id), []).append(metric)
        for (start, app_id), names in by_start.items():
            groups.setdefault((start, tuple(sorted(names))), []).append(app_id)
        done: dict[SeriesKey, datetime] = {}
        for (start, metrics), app_ids in sorted(groups.items()):
            result = await self._backfill(sorted(app_ids), list(metrics), start, end)
            for series in result.series:
                key = (series.app_id, series.metric)
                report.rows += series.points
                if series.status == "ok":
                    done[key] = end
                    report.series.add(key)
                else:
                    done[key] = series.resume_from or start
                    report.errors[key] = series.error or ScoutError(
                        f"not finished ({result.stopped})"
                    )
        with step_scope(self._sink):
            await self._record(done)
        return report

    async def _backfill(
        self, app_ids: list[int], metrics: list[str], start: datetime, end: datetime
    ) -> BackfillResult:
        if self._watch is None:
            return await self._backfill_watched(app_ids, metrics, start, end, None)
        with self._watch(len(plan_range(start, end, self._step))) as watcher:
            return await self._backfill_watched(app_ids, metrics, start, end, watcher)

    async def _backfill_watched(
        self,
        app_ids: list[int],
        metrics: list[str],
        start: datetime,
        end: datetime,
        watcher: BackfillWatch | None,
    ) -> BackfillResult:
        return await self._client.backfill(
            apps=app_ids,
            metrics=metrics,
            start=start,
            end=end,
            resolution=self._step,
            sink=_Lent(self._sink, None if watcher is None else watcher.chunk_written),
            progress=None if watcher is None else watcher.update,
            # ``end`` is this archive's horizon already (its own lateness): nothing to cut.
            lateness=timedelta(0),
        )

    async def _record(self, marks: Mapping[SeriesKey, datetime]) -> None:
        """Commit what was written, then move the watermarks to ``marks``."""
        await self._sink.commit_watermarks(marks, self._step)
        self.marks.update(marks)

    def _report(self, kind: RoundKind, report: _Round) -> ArchiveRound:
        done = ArchiveRound(
            kind=kind,
            at=self._clock.now(),
            rows=report.rows,
            series=frozenset(report.series),
            errors=dict(report.errors),
            complete_until=min(self.marks.values()),
        )
        if self._on_round is not None:
            self._on_round(done)
        return done

    # -- polling -----------------------------------------------------------------------------

    async def poll(self) -> None:
        """Poll from the catch-up's end until cancelled, one ``ArchiveRound`` per round."""
        since = self._since
        if since is None:
            raise RuntimeError("poll() continues a catch-up: call catch_up() first")
        apps = sorted({app_id for app_id, _ in self.series})
        offered: dict[int, tuple[str, ...]] = {}
        for app_id, metric in self.series:
            offered[app_id] = (*offered.get(app_id, ()), metric)
        lists = set(offered.values())
        metrics: MetricsArg = lists.pop() if len(lists) == 1 else "all"
        updates = self._client.poll(
            apps=apps,
            metrics=metrics,
            interval=self._interval,
            resolution=self._step,
            since=since,
            lateness=self._lateness,
        )
        send, receive = anyio.create_memory_object_stream[PollUpdate | Exception](16)
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_forward, updates, send)
            try:
                async with receive:
                    await self._rounds(receive, since)
            except Exception as exc:  # raised below, outside the task group (no group)
                failure = exc
            tg.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _rounds(
        self, receive: anyio.abc.ObjectReceiveStream[PollUpdate | Exception], since: datetime
    ) -> None:
        report = _Round()
        reported: dict[SeriesKey, datetime] = {}
        newest = since
        try:
            while True:
                item: PollUpdate | Exception | None = None
                with anyio.move_on_after(_QUIET if not report.empty else math.inf):
                    item = await receive.receive()
                if isinstance(item, Exception):
                    raise item
                if item is not None:
                    with step_scope(self._sink):
                        await self._take(item, report)
                    key = (item.app_id, item.metric)
                    reported[key] = max(reported.get(key, item.end), item.end)
                    newest = max(newest, item.end)
                    if not all(reported.get(key, since) >= newest for key in self.series):
                        continue
                if not report.empty:
                    ending, report = report, _Round()  # cut short, it is not ended twice
                    with step_scope(self._sink):
                        await self._end_round(ending)
                if self._behind:
                    await self._fill_gaps(since)
        except BaseException as exc:
            if not report.empty:
                await self._end_cut_round(report, exc)
            raise

    async def _end_cut_round(self, report: _Round, exc: BaseException) -> None:
        """Commit what a round cut short by ``exc`` wrote. Cancelled, an interruptible sink gets
        ``_GRACE`` seconds, and its failure (its connection given up by the cancellation) is left
        to the cancellation; otherwise shielded, and a failure raised (chained to ``exc``)."""
        if isinstance(exc, anyio.get_cancelled_exc_class()) and interruptible(self._sink):
            with (
                cleanup_scope(self._sink, "the last round's commit"),
                contextlib.suppress(Exception),
            ):
                await self._end_round(report)
            return
        with anyio.CancelScope(shield=True):
            await self._end_round(report)

    async def _take(self, update: PollUpdate, report: _Round) -> None:
        key = (update.app_id, update.metric)
        if key not in self.marks:
            return  # a metric this client does not know (polled as part of "all"): left out
        if update.error is not None:
            report.errors[key] = update.error
            return
        await self._sink.write(update.app_id, update.metric, update.points)
        report.rows += len(update.points)
        report.series.add(key)
        self._polled_to[key] = max(self._polled_to.get(key, update.end), update.end)

    async def _end_round(self, report: _Round) -> None:
        gapless = {key: end for key, end in self._polled_to.items() if key not in self._behind}
        await self._record(gapless)
        self._report("poll", report)

    async def _fill_gaps(self, since: datetime) -> None:
        """Retry the catch-up of the series that missed it, up to where polling began."""
        report = await self._backfill_each(dict(self._behind), since)
        for key in list(self._behind):
            if key not in report.series:
                self._behind[key] = self.marks[key]  # what the retry got, if anything
                continue
            del self._behind[key]
            polled = self._polled_to.get(key)
            if polled is not None and polled > since:
                with step_scope(self._sink):
                    await self._record({key: polled})
        self._report("gap-fill", report)


async def _forward(
    updates: AsyncGenerator[PollUpdate, None],
    send: anyio.abc.ObjectSendStream[PollUpdate | Exception],
) -> None:
    async with send, contextlib.aclosing(updates):
        try:
            async for update in updates:
                await send.send(update)
        except Exception as exc:  # the consumer raises it
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await send.send(exc)
