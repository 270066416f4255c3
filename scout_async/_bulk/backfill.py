"""``ScoutClient.backfill``: every (app, metric) series over one window into a sink, resumable.

How a job runs:

* **Checked first.** apps, metrics, window, resolution, sink, checkpoint and the checkpoint's
  fingerprint are checked before any request; then ``"all"`` is listed (or, on resume, the
  series are taken from the checkpoint), and the sink is opened.
* **An app that cannot be listed is set aside.** With ``metrics="all"``, an app whose metrics
  cannot be listed (after the transport's retries) does not stop the job: its series cannot be
  known, so it stands as one series with metric ``"*"`` (``ALL_METRICS``), ``"failed"`` with the
  listing's error, and ``result.ok`` is false. The checkpoint keeps it, and a rerun lists that
  app again and backfills its series. A refused key (401/403) still fails the job at once.
* **One plan, one limit.** The window is planned once (``plan_series``) and every series uses that
  plan. Series run concurrently, at most ``max_concurrency`` open at a time (a memory bound: each
  holds at most ``max_concurrency`` chunks ahead of its writer); their requests share the client's
  one limit on requests in flight, its 429 pause (which also holds requests already queued for a
  slot) and its ``rate_limit``.
* **In order, then checkpointed.** Each series' chunks reach the sink in time order. A chunk's
  write and its watermark (the chunk's ``owned_end``) are one step that cancellation cannot split;
  at most every ``checkpoint_every`` seconds the sink is flushed (durable) and then the checkpoint
  is replaced. Left at its default, the cadence is ``DEFAULT_CHECKPOINT_EVERY`` or, if longer, the
  sink's ``min_flush_interval`` (``ParquetSink`` asks for a minute: each flush ends a part file).
  A crash in between re-fetches chunks, never loses or repeats one: on resume the sink drops what
  was written after the checkpoint (see each sink) and the series continue from their
  watermarks, skipping the chunks whose ``owned_end`` is at or before it (the plan is never
  recomputed from what is left). Cancelling the job flushes and checkpoints what was written.
* **Failures stay per series.** A series whose request fails after the transport's retries is
  ``"failed"`` and the others go on. A dead server stops the job: after
  ``max_consecutive_failures`` series in a row fail with a connection error, a 5xx or an exhausted
  429 (or once the key is refused), nothing new starts, series in flight are cancelled and become
  ``"skipped"``, the checkpoint is written, and the result says why in ``stopped``. Rerunning the
  same call later resumes. Errors of the sink or of the ``progress`` callback end the job and are
  raised; the last checkpoint stays valid.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial

import anyio
import anyio.abc
import anyio.to_thread

from .._constants import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_LATENESS,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    FUTURE_MARGIN,
    LOGGER_NAME,
    METRIC_RETENTION,
)
from .._core import ClientStats, Core
from .._exceptions import (
    APIConnectionError,
    ArgumentError,
    ArgumentTypeError,
    AuthenticationError,
    RateLimitError,
    ScoutError,
    ServerError,
)
from .._resources.apps import Apps
from .._resources.metrics import Metrics, series_reader, warn_past_retention
from .._series.instants import require_aware
from .._series.planner import Chunk, plan_series
from .._series.steps import floor_to_grid
from ..sinks import Sink, open_sink
from ..types._points import Points, ceil_seconds
from .checkpoint import (
    Checkpoint,
    CheckpointStore,
    Plan,
    checkpoint_store,
)
from .report import BackfillResult, Progress, SeriesResult, SeriesStatus
from .selection import (
    ALL_METRICS,
    AppsArg,
    MetricsArg,
    Selection,
    SeriesKey,
    select,
)

__all__ = ["DEFAULT_CHECKPOINT_EVERY", "DEFAULT_MAX_CONSECUTIVE_FAILURES", "backfill"]


ProgressCallback = Callable[[Progress], object]

# Errors that say "the server (or the way to it) is down", not "this series is wrong".
_DEAD_SERVER_ERRORS = (APIConnectionError, ServerError, RateLimitError)
_log = logging.getLogger(LOGGER_NAME)
#: Seconds an ``interruptible`` sink's cancel-time checkpoint and its close may take.
_GRACE = 10.0


def interruptible(sink: object) -> bool:
    """Whether a cancellation may cut ``sink``'s calls short harmlessly (see ``Sink``)."""
    return getattr(sink, "interruptible", False) is True


def step_scope(sink: object) -> anyio.CancelScope:
    """The scope of a step on ``sink`` that a cancellation must not cut short (a write and its
    watermark, a checkpoint): shielded, unless ``sink`` is interruptible."""
    return anyio.CancelScope(shield=not interruptible(sink))


@contextlib.contextmanager
def cleanup_scope(sink: Sink, what: str) -> Iterator[None]:
    """The scope of ``what`` runs on ``sink`` though cancelled (the last checkpoint, the close):
    shielded; an interruptible sink's for ``_GRACE`` seconds, so a database that stopped
    answering cannot hold a cancelled job (a warning says when it was given up)."""
    if not interruptible(sink):
        with anyio.CancelScope(shield=True):
            yield
        return
    with anyio.move_on_after(_GRACE, shield=True) as scope:
        yield
    if scope.cancelled_caught:
        _log.warning(
            "%s: %s did not finish within %g s and was given up; a rerun resumes from the last "
            "commit",
            sink.location,
            what,
            _GRACE,
        )


async def backfill(
    core: Core,
    *,
    apps: AppsArg,
    metrics: MetricsArg,
    start: datetime,
    end: datetime,
    resolution: timedelta | str | None,
    sink: Sink | str | os.PathLike[str],
    checkpoint: str | os.PathLike[str] | CheckpointStore | None,
    progress: ProgressCallback | None,
    checkpoint_every: float | None = None,
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    shard: tuple[int, int] | None = None,
    lateness: timedelta = DEFAULT_LATENESS,
) -> BackfillResult:
    """The job behind ``ScoutClient.backfill`` (see there and the module notes).

    ``checkpoint_every``: ``None`` lets a sink with a ``min_flush_interval`` lengthen the default
    cadence; a number is used as given. ``lateness``: a bucket that ended less than this before
    the client's clock has not closed: it is not written, and a series' watermark stops before
    it, so a rerun of the same call fetches it once it has closed.
    """
    selection = select(apps, metrics, shard)
    if not isinstance(lateness, timedelta) or not timedelta(0) <= lateness <= FUTURE_MARGIN:
        raise ArgumentError(f"lateness must be a timedelta from 0 to 1 day, got {lateness!r}")
    chunks = plan_series(start, end, resolution, now=core.clock.now())
    step = chunks[0].step
    horizon = floor_to_grid(core.clock.now() - lateness, step)
    target = _as_sink(sink)
    await _check_sink(target)
    store = checkpoint_store(checkpoint, target)
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"progress must be a callable taking a Progress, got {progress!r}")
    every = _cadence(checkpoint_every, target)
    if (
        isinstance(max_consecutive_failures, bool)
        or not isinstance(max_consecutive_failures, int)
        or max_consecutive_failures < 1
    ):
        raise ArgumentError(
            f"max_consecutive_failures must be an int >= 1, got {max_consecutive_failures!r}"
        )
    core.require_open()
    plan = Plan(
        selection=selection,
        start=require_aware(start, "start"),
        end=require_aware(end, "end"),
        step=chunks[0].step,
        sink=target.location,
    )
    state = None
    if store is not None:
        state = await store.read(plan, _boundaries(chunks, lateness, core.clock.now()))
    if state is not None:
        series, unlisted = await _relist(core, state.series, selection)
    else:
        series, unlisted = await _list(core, selection)
    job = _Job(
        core,
        plan,
        chunks,
        series,
        target,
        store,
        progress,
        unlisted=unlisted,
        checkpoint_every=every,
        max_consecutive_failures=max_consecutive_failures,
        done_until=state.done_until if state is not None else {},
        horizon=horizon,
        unavailable_before=warn_past_retention(core, chunks[0].owned_start, "the backfill"),
    )
    return await job.run(state.sink if state is not None else None)


def _boundaries(chunks: Sequence[Chunk], lateness: timedelta, now: datetime) -> list[datetime]:
    """Where a watermark of the plan may be: a chunk's end, or, where a run ended at the
    bucket in progress, any grid point of the tail that the clock of a run could reach (the
    plan ends at most a day after the clock, ``require_reachable``) while Scout still holds
    the data there (resuming further back could fetch nothing)."""
    step, end = chunks[0].step, chunks[-1].owned_end
    if end <= now - METRIC_RETENTION:
        return [c.owned_end for c in chunks]
    first = max(chunks[0].owned_start, floor_to_grid(end - FUTURE_MARGIN - lateness, step) - step)
    tail = [first + i * step for i in range((end - first) // step + 1)]
    return [*(c.owned_end for c in chunks), *tail]


def _seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{name} must be seconds, got {value!r}")
    if not (value >= 0 and math.isfinite(value)):
        raise ArgumentError(f"{name} must be >= 0 seconds, got {value!r}")
    return float(value)


def _cadence(checkpoint_every: object, sink: Sink) -> float:
    """Seconds between checkpoints: as given, or by default the longer of the default cadence
    and the sink's ``min_flush_interval`` (if it has one)."""
    given = None if checkpoint_every is None else _seconds(checkpoint_every, "checkpoint_every")
    if given is not None:
        return given
    preferred = getattr(sink, "min_flush_interval", None)
    if preferred is None:
        return DEFAULT_CHECKPOINT_EVERY
    return max(DEFAULT_CHECKPOINT_EVERY, _seconds(preferred, "sink.min_flush_interval"))


async def _list(
    core: Core, selection: Selection
) -> tuple[list[SeriesKey], dict[SeriesKey, ScoutError]]:
    """The job's series, with an ``(app, ALL_METRICS)`` stand-in where an app's metrics could
    not be listed (and why)."""
    resolved = await selection.resolve_each(Apps(core), Metrics(core))
    unlisted = {(app_id, ALL_METRICS): error for app_id, error in resolved.failed.items()}
    return sorted([*resolved.series, *unlisted]), unlisted


async def _relist(
    core: Core, series: list[SeriesKey], selection: Selection
) -> tuple[list[SeriesKey], dict[SeriesKey, ScoutError]]:
    """The checkpoint's series, each stand-in replaced by its app's series if they can be
    listed now (they start from the beginning); a refused key is raised."""
    listed: dict[SeriesKey, list[SeriesKey]] = {}
    unlisted: dict[SeriesKey, ScoutError] = {}
    for key in series:
        if key[1] == ALL_METRICS:
            try:
                listed[key] = await selection.app_series(Metrics(core), key[0])
            except AuthenticationError:
                raise
            except ScoutError as exc:
                unlisted[key] = exc
    known = set(series)
    result: list[SeriesKey] = []
    for key in series:
        if key in listed:
            result.extend(k for k in listed[key] if k not in known)
        else:
            result.append(key)
    return result, unlisted


async def _check_sink(sink: Sink) -> None:
    """Ask a sink that can tell (``check()``: the file sinks) whether it could be opened, now,
    before any request: a read-only output directory must not be found out after listing."""
    check = getattr(sink, "check", None)
    if callable(check):
        await anyio.to_thread.run_sync(check)


def _as_sink(sink: object) -> Sink:
    if isinstance(sink, (str, os.PathLike)):
        return open_sink(sink)
    if not isinstance(sink, Sink):
        raise ArgumentTypeError(
            "sink must be a path or a Sink (location, open, write, flush, close), "
            f"got {type(sink).__name__}"
        )
    if not isinstance(sink.location, str) or not sink.location:
        raise ArgumentTypeError(f"sink.location must be a non-empty str, got {sink.location!r}")
    return sink


class _JobFailure(Exception):
    """The sink or the progress callback failed: the job ends (wraps the cause)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Job:
    def __init__(
        self,
        core: Core,
        plan: Plan,
        chunks: Sequence[Chunk],
        series: Sequence[SeriesKey],
        sink: Sink,
        store: CheckpointStore | None,
        progress: ProgressCallback | None,
        *,
        unlisted: dict[SeriesKey, ScoutError],
        checkpoint_every: float,
        max_consecutive_failures: int,
        done_until: dict[SeriesKey, datetime | None],
        horizon: datetime,
        unavailable_before: datetime | None,
    ) -> None:
        self._core = core
        self._horizon = horizon
        self._unavailable_before = unavailable_before
        self._plan = plan
        self._chunks = chunks
        self._series = list(series)
        self._sink = sink
        self._store = store
        self._progress = progress
        self._every = checkpoint_every
        self._max_failures = max_consecutive_failures
        self._marks: dict[SeriesKey, datetime | None] = {
            key: done_until.get(key) for key in self._series
        }
        # Apps whose metrics could not be listed: failed from the start, nothing to fetch.
        self._status: dict[SeriesKey, SeriesStatus] = dict.fromkeys(unlisted, "failed")
        self._errors: dict[SeriesKey, ScoutError] = dict(unlisted)
        self._fetched = [key for key in self._series if key not in unlisted]
        self._points = dict.fromkeys(self._series, 0)
        self._written = dict.fromkeys(self._series, 0)
        self._chunks_done = sum(len(chunks) - len(self._todo(key)) for key in self._fetched)
        self._lock = anyio.Lock()
        self._series_slots = anyio.CapacityLimiter(core.max_concurrency)
        self._consecutive_failures = 0
        self._stopped: str | None = None
        self._fatal: Exception | None = None
        self._broken = False
        self._tg: anyio.abc.TaskGroup | None = None
        self._cancelling = False
        self._started = self._core.clock.monotonic()
        self._last_checkpoint = self._started
        stats = core.stats
        self._base = ClientStats(
            retries=stats.retries,
            rate_limited=stats.rate_limited,
            rate_limit_wait=stats.rate_limit_wait,
        )

    def _todo(self, key: SeriesKey) -> list[Chunk]:
        mark = self._marks[key]
        return [c for c in self._chunks if mark is None or c.owned_end > mark]

    async def run(self, resume: dict[str, object] | None) -> BackfillResult:
        # Opened means closed again, even if cancelled now (an interruptible sink cancelled
        # while opening is left closed).
        with step_scope(self._sink):
            await self._sink.open(resume)
        try:
            if self._store is not None and resume is None:
                async with self._lock:
                    await self._checkpoint()  # the series list and the sink's starting point
            async with anyio.create_task_group() as tg:
                self._tg = tg
                for key in self._fetched:
                    tg.start_soon(self._run_series, key)
            if self._fatal is not None:
                raise self._fatal
            async with self._lock:
                await self._checkpoint()
        except BaseException:
            if self._fatal is None and not self._broken:
                # Cancelled (or the final checkpoint failed): keep what was written so far.
                with cleanup_scope(self._sink, "the last checkpoint"):
                    async with self._lock:
                        # If this fails too, the error being raised says more; the last
                        # checkpoint still holds.
                        with contextlib.suppress(Exception):
                            await self._checkpoint()
            raise
        finally:
            with cleanup_scope(self._sink, "closing"):
                await self._sink.close()
        return self._result()

    async def _run_series(self, key: SeriesKey) -> None:
        todo = self._todo(key)
        if not todo:
            self._status[key] = "ok"
            return
        async with self._series_slots:
            reader = series_reader(
                self._core,
                key[0],
                key[1],
                todo,
                window=self._core.max_concurrency,
                horizon=self._horizon,
            )
            try:
                await reader.read_chunks(partial(self._write, key))
            except _JobFailure as failure:
                self._fail_job(failure.error)
                return
            except ScoutError as exc:
                self._series_failed(key, exc)
            except Exception as exc:  # e.g. the client was closed under the job
                self._fail_job(exc)
                return
            else:
                self._status[key] = "ok"
                self._consecutive_failures = 0
            try:
                async with self._lock:
                    await self._report()
            except _JobFailure as failure:
                self._fail_job(failure.error)

    async def _write(self, key: SeriesKey, chunk: Chunk, points: Points) -> None:
        async with self._lock:
            try:
                # The write and its watermark are one step: a cancellation between them would
                # leave rows in the output that the checkpoint says are still to come. (Not for
                # an interruptible sink: its rows count only once flushed with the checkpoint.)
                with step_scope(self._sink):
                    mark = self._marks[key]
                    if mark is not None and points:
                        # The chunk an earlier run stopped inside (at the bucket then in
                        # progress): its points before the watermark are written already.
                        done = bisect_left(points.times, ceil_seconds(mark))
                        if done:
                            points = points[done:]
                    await self._sink.write(key[0], key[1], points)
                    # Never past the bucket in progress: the next run fetches it once closed.
                    self._marks[key] = min(
                        chunk.owned_end, max(self._horizon, mark or self._horizon)
                    )
                    self._points[key] += len(points)
                    self._written[key] += 1
                    self._chunks_done += 1
                    due = self._core.clock.monotonic() - self._last_checkpoint >= self._every
                    if self._store is not None and due:
                        await self._checkpoint()
            except Exception as exc:
                raise _JobFailure(exc) from exc
            await self._report()

    async def _checkpoint(self) -> None:
        """Flush the sink, then record the watermarks with its position (lock held)."""
        try:
            if self._store is None:
                await self._sink.flush()
            else:
                state = Checkpoint(series=self._series, done_until=dict(self._marks), sink={})
                await self._store.commit(self._sink, self._plan, state)
        except Exception:
            self._broken = True
            raise
        self._last_checkpoint = self._core.clock.monotonic()

    async def _report(self) -> None:
        if self._progress is None:
            return
        try:
            outcome = self._progress(self._snapshot())
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            raise _JobFailure(exc) from exc

    def _snapshot(self) -> Progress:
        stats = self._core.stats
        statuses = list(self._status.values())
        return Progress(
            chunks_done=self._chunks_done,
            chunks_total=len(self._chunks) * len(self._fetched),
            points_written=sum(self._points.values()),
            series_done=statuses.count("ok"),
            series_failed=statuses.count("failed"),
            series_total=len(self._series),
            retries=stats.retries - self._base.retries,
            rate_limited=stats.rate_limited - self._base.rate_limited,
            rate_limit_wait=stats.rate_limit_wait - self._base.rate_limit_wait,
            elapsed=self._core.clock.monotonic() - self._started,
        )

    def _series_failed(self, key: SeriesKey, error: ScoutError) -> None:
        self._status[key] = "failed"
        self._errors[key] = error
        if isinstance(error, AuthenticationError):
            self._stop(f"the API key was refused: {error}")
        elif isinstance(error, _DEAD_SERVER_ERRORS):
            self._consecutive_failures += 1
            if self._consecutive_failures >= self._max_failures:
                self._stop(
                    f"{self._consecutive_failures} series in a row failed with connection or "
                    f"server errors; the last: {error}"
                )
        else:
            self._consecutive_failures = 0  # the server answered: it is the series, not it

    def _stop(self, reason: str) -> None:
        if self._stopped is None:
            self._stopped = reason
        self._cancel_tasks()

    def _fail_job(self, error: Exception) -> None:
        if self._fatal is None:
            self._fatal = error
        self._cancel_tasks()

    def _cancel_tasks(self) -> None:
        """Cancel the job's tasks once no write or checkpoint is under way (they hold the lock):
        the job's own stop must not cut a sink call short, which an interruptible sink's
        connection would not survive (the final checkpoint would then fail)."""
        if self._tg is None or self._cancelling:
            return
        self._cancelling = True
        self._tg.start_soon(self._cancel_when_idle)

    async def _cancel_when_idle(self) -> None:
        async with self._lock:
            assert self._tg is not None
            self._tg.cancel_scope.cancel()

    def _result(self) -> BackfillResult:
        results = []
        for key in self._series:
            status = self._status.get(key, "skipped")
            mark = self._marks[key]
            results.append(
                SeriesResult(
                    app_id=key[0],
                    metric=key[1],
                    status=status,
                    points=self._points[key],
                    chunks=self._written[key],
                    error=self._errors.get(key),
                    resume_from=None
                    if status == "ok"
                    else (mark if mark is not None else self._chunks[0].owned_start),
                )
            )
        return BackfillResult(
            series=tuple(results),
            start=self._plan.start,
            end=self._plan.end,
            step=self._plan.step,
            stopped=self._stopped,
            unavailable_before=self._unavailable_before,
        )
