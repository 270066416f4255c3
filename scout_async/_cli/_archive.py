"""``archive``: keep a local SQLite archive of metric series up to date at one (fine) step.

A run first catches up: each series is backfilled from where the archive ends (its watermark,
see ``_watermarks``), or from ``--lookback`` ago for a series it does not hold yet, up to the last
complete bucket. Then, unless ``--once``, it polls every ``--every`` from there and writes each
update as it comes, one line per round. Everything is written through one ``SqliteSink`` (an
upsert), so running it again, or twice over the same window, never duplicates a row.

Stopping (Ctrl-C, SIGTERM) lets the write in progress and its commit finish, records the
watermarks, and exits 0: the next run continues from there.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import attrs
import click

from .._client import ScoutClient
from .._models import Point
from .._planner import plan_range
from .._poll import Clock, PollUpdate, SystemClock
from .._report import BackfillResult
from .._resources.metrics import APP_METRICS
from .._selection import SeriesKey, select
from .._sinks import Position, Sink, SqliteSink
from .._steps import ceil_to_grid, floor_to_grid
from ._context import Settings, pass_settings, scrub, stderr_console, stdout_console
from ._errors import CliError
from ._params import DURATION, DURATION_OR_ZERO, RESOLUTION, IdList, Ids, NameList, Names
from ._progress import BackfillBars, WatchedSink, make_progress
from ._stop import run_until_signalled
from ._summary import error_text
from ._times import format_instant
from ._watermarks import StepConflict, read_watermarks, save_watermarks

__all__ = ["archive", "archive_clock"]

_QUIET = 10.0  # seconds without an update that end a poll round early (a series is slow)


def archive_clock() -> Clock:
    """Where the archive reads the time (and polling sleeps); tests put a virtual clock here."""
    return SystemClock()


class _Lent:
    """The archive's open sink, lent to one backfill: opening and closing it stay the archive's."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    @property
    def location(self) -> str:
        return self._sink.location

    async def open(self, resume: Mapping[str, Any] | None = None) -> None:
        pass

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        await self._sink.write(app_id, metric, points)

    async def flush(self) -> Position:
        return await self._sink.flush()

    async def close(self) -> None:
        pass


@attrs.frozen
class _Options:
    db: Path
    apps: Ids
    metrics: Names
    every: timedelta
    step: timedelta
    lookback: timedelta
    lateness: timedelta
    once: bool


@attrs.define
class _Round:
    """What a catch-up or a poll round wrote, for its one line."""

    rows: int = 0
    series: set[SeriesKey] = attrs.field(factory=set)
    errors: dict[SeriesKey, str] = attrs.field(factory=dict)

    @property
    def empty(self) -> bool:
        return not self.series and not self.errors


class _Archive:
    def __init__(
        self,
        client: ScoutClient,
        sink: Sink,
        options: _Options,
        clock: Clock,
        secret: str | None,
    ) -> None:
        self._client = client
        self._sink = sink
        self._options = options
        self._clock = clock
        self._secret = secret
        self._out = stdout_console()
        self.series: list[SeriesKey] = []
        #: Per series: the archive holds every bucket before this, without a gap.
        self.marks: dict[SeriesKey, datetime] = {}
        #: Series whose catch-up did not finish: polled anyway, but with a gap before ``since``.
        self.behind: dict[SeriesKey, datetime] = {}
        self._polled_to: dict[SeriesKey, datetime] = {}
        #: Where polling starts: the end of the catch-up.
        self.since = self.horizon()

    # -- the parts -------------------------------------------------------------------------

    async def list_series(self) -> None:
        options = self._options
        found = await select(options.apps, options.metrics).resolve(self._client)
        unknown = sorted({metric for _, metric in found if metric not in APP_METRICS})
        if unknown:
            stderr_console().print(
                f"note: leaving out metrics this client does not know: {', '.join(unknown)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        self.series = [key for key in found if key[1] in APP_METRICS]
        if not self.series:
            raise CliError("no series to archive: the apps offer none of the metrics asked for")

    def horizon(self) -> datetime:
        """The end of the last complete bucket now (as ``poll`` counts it)."""
        return floor_to_grid(self._clock.now() - self._options.lateness, self._options.step)

    async def catch_up(self, starts: Mapping[SeriesKey, datetime], end: datetime) -> _Round:
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
                    if series.error is not None:
                        report.errors[key] = error_text(series.error, self._secret)
                    else:
                        why = f"not finished ({result.stopped})"
                        report.errors[key] = scrub(why, self._secret)
        with anyio.CancelScope(shield=True):
            await self._record(done)
        return report

    async def _backfill(
        self, app_ids: list[int], metrics: list[str], start: datetime, end: datetime
    ) -> BackfillResult:
        with make_progress(stderr_console(), transient=True) as progress:
            bars = BackfillBars(
                progress,
                chunks_per_series=len(plan_range(start, end, self._options.step)),
                rows=self._client.max_concurrency,
            )
            return await self._client.backfill(
                apps=app_ids,
                metrics=metrics,
                start=start,
                end=end,
                resolution=self._options.step,
                sink=WatchedSink(_Lent(self._sink), bars),
                progress=bars.update,
            )

    async def _record(self, marks: Mapping[SeriesKey, datetime]) -> None:
        """Commit what was written, then move the watermarks to ``marks``."""
        await self._sink.flush()
        await anyio.to_thread.run_sync(save_watermarks, self._options.db, marks, self._options.step)
        self.marks.update(marks)

    def say(self, what: str, report: _Round, *, series: int | None = None) -> None:
        """One line: when, what, how many series and rows, how far the archive is complete, and
        each series' error."""
        held = format_instant(min(self.marks.values()))
        count = len(report.series) if series is None else series
        line = (
            f"{format_instant(self._clock.now())}  {what:<8} {count:,} series, "
            f"{report.rows:,} rows written; complete up to {held}"
        )
        if report.errors:
            count = len(report.errors)
            listed = "; ".join(
                f"app {app_id} {metric}: {error}"
                for (app_id, metric), error in sorted(report.errors.items())
            )
            line += f"; {count} error{'s' if count > 1 else ''}: {listed}"
        self._out.print(line, markup=False, highlight=False, soft_wrap=True)

    # -- the job ---------------------------------------------------------------------------

    async def start(self) -> _Round:
        """Catch up to the last complete bucket (the series are listed, the sink is open)."""
        options = self._options
        stored = await anyio.to_thread.run_sync(
            read_watermarks, options.db, self.series, options.step
        )
        end = self.horizon()
        floor = ceil_to_grid(self._clock.now() - options.lookback, options.step)
        starts = {key: max(stored.get(key, floor), floor) for key in self.series}
        self.marks = {key: min(start, end) for key, start in starts.items()}
        report = await self.catch_up(starts, end)
        self.since = end
        self.behind = {key: mark for key, mark in self.marks.items() if mark < end}
        self.say("catch-up", report, series=len(self.series))
        return report

    async def poll(self) -> None:
        """Poll from the catch-up's end until cancelled, one line per round."""
        options = self._options
        apps = sorted({app_id for app_id, _ in self.series})
        offered: dict[int, tuple[str, ...]] = {}
        for app_id, metric in self.series:
            offered[app_id] = (*offered.get(app_id, ()), metric)
        lists = set(offered.values())
        metrics: Names = lists.pop() if len(lists) == 1 else "all"
        updates = self._client.poll(
            apps=apps,
            metrics=metrics,
            interval=options.every,
            resolution=options.step,
            since=self.since,
            lateness=options.lateness,
            clock=self._clock,
        )
        send, receive = anyio.create_memory_object_stream[PollUpdate | Exception](16)
        failure: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_forward, updates, send)
            try:
                async with receive:
                    await self._rounds(receive)
            except Exception as exc:  # raised below, outside the task group (no group)
                failure = exc
            tg.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _rounds(self, receive: anyio.abc.ObjectReceiveStream[PollUpdate | Exception]) -> None:
        report = _Round()
        reported: dict[SeriesKey, datetime] = {}
        newest = self.since
        try:
            while True:
                item: PollUpdate | Exception | None = None
                with anyio.move_on_after(_QUIET if not report.empty else math.inf):
                    item = await receive.receive()
                if isinstance(item, Exception):
                    raise item
                if item is not None:
                    with anyio.CancelScope(shield=True):
                        await self._take(item, report)
                    key = (item.app_id, item.metric)
                    reported[key] = max(reported.get(key, item.end), item.end)
                    newest = max(newest, item.end)
                    if not all(reported.get(key, self.since) >= newest for key in self.series):
                        continue
                if not report.empty:
                    with anyio.CancelScope(shield=True):
                        await self._end_round(report)
                    report = _Round()
                if self.behind:
                    await self._fill_gaps()
        finally:
            if not report.empty:
                with anyio.CancelScope(shield=True):
                    await self._end_round(report)

    async def _take(self, update: PollUpdate, report: _Round) -> None:
        key = (update.app_id, update.metric)
        if key not in self.marks:
            return  # a metric this client does not know (polled as part of "all"): left out
        if update.error is not None:
            report.errors[key] = error_text(update.error, self._secret)
            return
        await self._sink.write(update.app_id, update.metric, update.points)
        report.rows += len(update.points)
        report.series.add(key)
        self._polled_to[key] = max(self._polled_to.get(key, update.end), update.end)

    async def _end_round(self, report: _Round) -> None:
        gapless = {key: end for key, end in self._polled_to.items() if key not in self.behind}
        await self._record(gapless)
        self.say("poll", report)

    async def _fill_gaps(self) -> None:
        """Retry the catch-up of the series that missed it, up to where polling began."""
        report = await self.catch_up(dict(self.behind), self.since)
        for key in list(self.behind):
            if key not in report.series:
                self.behind[key] = self.marks[key]  # what the retry got, if anything
                continue
            del self.behind[key]
            polled = self._polled_to.get(key)
            if polled is not None and polled > self.since:
                with anyio.CancelScope(shield=True):
                    await self._record({key: polled})
        self.say("gap-fill", report)


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


async def _run(settings: Settings, options: _Options) -> tuple[_Archive, _Round | None, str | None]:
    sink = SqliteSink(options.db)
    async with settings.client() as client:
        archive = _Archive(client, sink, options, archive_clock(), settings.api_key)
        opened = False

        async def work() -> _Round:
            nonlocal opened
            await archive.list_series()  # before the database is created: a bad key, a typo
            with anyio.CancelScope(shield=True):
                await sink.open(None)
                opened = True
            first = await archive.start()
            if not options.once:
                await archive.poll()
            return first

        try:
            first, signalled = await run_until_signalled(work)
        finally:
            if opened:
                with anyio.CancelScope(shield=True):
                    await sink.close()
    return archive, first, signalled


def _check_reach(
    now: datetime, *, lookback: timedelta, lateness: timedelta, every: timedelta
) -> None:
    """A usage error for a duration that counts from ``now`` past the calendar (years 1-9999)."""
    for option, length, sign in (
        ("--lookback", lookback, -1),
        ("--lateness", lateness, -1),
        ("--every", every, 1),
    ):
        try:
            now + sign * length
        except OverflowError:
            raise click.BadParameter(
                f"{length.days:,} days {'before' if sign < 0 else 'after'} now is outside the "
                "years 1 to 9999; give a shorter one",
                param_hint=f"'{option}'",
            ) from None


EPILOG = """\b
Examples:
  scout-async archive --db scout.sqlite                         # every app and metric, 1m, every 5m
  scout-async archive --db scout.sqlite --apps 101,102 --metrics throughput,errors --every 1m
  scout-async archive --db scout.sqlite --once                  # catch up and exit (cron)
  sqlite3 scout.sqlite "SELECT time, value FROM points WHERE app_id = 101 AND metric = 'apdex'"
"""


@click.command(epilog=EPILOG)
@click.option(
    "--db",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The SQLite archive (created if missing): table points(app_id, metric, time, value), "
    "one row per bucket, plus archive_watermarks.",
)
@click.option(
    "--apps",
    type=IdList(allow_all=True),
    default="all",
    show_default=True,
    help="Comma-separated app ids (see `apps`), or all (listed when the command starts).",
)
@click.option(
    "--metrics",
    type=NameList(APP_METRICS, allow_all=True),
    default="all",
    show_default=True,
    help="Comma-separated metrics (" + ", ".join(APP_METRICS) + "), or all that each app offers.",
)
@click.option(
    "--every",
    type=DURATION,
    default="5m",
    show_default=True,
    help="How often to poll for the newly completed buckets.",
)
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="1m",
    show_default=True,
    help="Step of every series; one archive keeps one step.",
)
@click.option(
    "--lookback",
    type=DURATION,
    default="30d",
    show_default=True,
    help="How far back a series the archive does not hold yet starts (Scout keeps about 30 days).",
)
@click.option(
    "--lateness",
    type=DURATION_OR_ZERO,
    default="2m",
    show_default=True,
    help="A bucket is complete, and archived, once it ended this long ago (agents report late).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Catch up to the last complete bucket, then exit (for cron); exit 1 if a series failed.",
)
@pass_settings
def archive(
    settings: Settings,
    db: Path,
    apps: Ids,
    metrics: Names,
    every: timedelta,
    resolution: timedelta,
    lookback: timedelta,
    lateness: timedelta,
    once: bool,
) -> None:
    """Keep an SQLite archive of metric series up to date, at the finest step, for good.

    On start it catches up: every series from where the archive ends (or --lookback ago, for a
    series it does not hold yet) up to the last complete bucket. Then it polls every --every and
    writes the new buckets as they complete, one line per round (rows written, errors per
    series). Rows are upserted on (app_id, metric, time): no duplicates, whenever and however
    often it runs. Stop it at any moment (Ctrl-C, SIGTERM): the current write finishes and it
    exits 0; the next start continues from there.
    """
    settings.require_key()
    if not db.parent.is_dir():
        raise click.BadParameter(f"the directory {db.parent} does not exist", param_hint="'--db'")
    _check_reach(archive_clock().now(), lookback=lookback, lateness=lateness, every=every)
    options = _Options(
        db=db,
        apps=apps,
        metrics=metrics,
        every=every,
        step=resolution,
        lookback=lookback,
        lateness=lateness,
        once=once,
    )
    try:
        archive, first, signalled = anyio.run(_run, settings, options)
    except StepConflict as exc:
        raise click.UsageError(str(exc)) from None
    if signalled is not None:
        held = format_instant(min(archive.marks.values())) if archive.marks else "-"
        stderr_console().print(
            f"archive stopped ({signalled}); {db} is complete up to {held}: run it again to "
            "continue",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    if first is not None and first.errors:
        count = len(first.errors)
        raise CliError(
            f"{count} series could not be brought up to date (see above); the next run retries "
            f"{'them' if count > 1 else 'it'} from where {db} ends"
        )
