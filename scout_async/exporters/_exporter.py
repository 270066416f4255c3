"""``ScoutExporter``: Scout's newest complete buckets as Prometheus gauges, fed by ``poll``."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import anyio
import anyio.abc
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry

from .._bulk.selection import AppsArg, MetricsArg
from .._client import ScoutClient
from .._constants import DEFAULT_LATENESS
from .._exceptions import ArgumentError, AuthenticationError, ScoutError
from .._series.steps import parse_step
from ._collect import ExportSettings, describe, families
from ._defaults import (
    DEFAULT_HOST,
    DEFAULT_INTERVAL,
    DEFAULT_PORT,
    INITIAL_LOOKBACK,
    NAMES_REFRESH,
    RESTART_DELAY,
)
from ._http import ASGIApp, Routes, asgi_app, bind, require_asyncio, serve_asgi
from ._state import ExporterState

__all__ = ["ScoutExporter"]


class ScoutExporter:
    """Scout's metrics for Prometheus: every app x metric's newest complete bucket as a gauge.

    A background task (``run``) polls Scout with ``client.poll`` and keeps the newest value of
    each series in memory; a scrape (``collect``, the ``/metrics`` route) reads that memory and
    never waits on Scout. Mount it in an asyncio (or trio) application in one of three ways (the
    third, ``serve``, on asyncio only):

    >>> exporter = ScoutExporter(client, apps="all", metrics="all", interval=timedelta(minutes=1))
    >>> REGISTRY.register(exporter)          # 1. a prometheus_client collector, or
    >>> app.mount("/scout", exporter.asgi_app())   # 2. /metrics, /healthz, /readyz as ASGI
    >>> async with anyio.create_task_group() as tg:
    ...     tg.start_soon(exporter.run)      # 1./2.: the poll task, until cancelled
    >>> await exporter.serve("0.0.0.0", 9793)  # 3. or both in one: poll, and serve with uvicorn

    Values are gauges named after the metric and its unit (``scout_app_response_time_seconds``,
    see ``EXPORTED_METRICS``) with labels ``app_id``, ``app_name`` and ``metric``;
    ``scout_app_bucket_timestamp_seconds`` says which bucket each shows. Self-metrics
    (``scout_exporter_*``): polls and errors per app, the client's requests, retries, 429s and
    pause, the last successful poll and staleness of each series, build info.

    Ageing: a series whose latest poll failed, or that has not been polled successfully for
    ``stale_after`` (default two polls, ``2 x max(interval, resolution)``, plus the poll's
    timeout), is marked stale (``scout_exporter_series_stale``) and keeps its value; a value whose
    bucket ended more than ``max_age`` ago (default ``lateness + resolution + 3 x max(interval,
    resolution)``: three missed polls) is dropped. A 429 pauses every request of the client
    (``Retry-After`` at least), so the exporter slows down; a series that fails or hangs past
    ``timeout`` (default: the interval) never holds up the others. Time comes from the client's
    clock. The exposition holds names and numbers only: no key, no URL, no error message.
    """

    def __init__(
        self,
        client: ScoutClient,
        *,
        apps: AppsArg = "all",
        metrics: MetricsArg = "all",
        interval: timedelta = DEFAULT_INTERVAL,
        resolution: timedelta | str = "1m",
        lateness: timedelta = DEFAULT_LATENESS,
        timeout: float | None = None,
        max_age: timedelta | None = None,
        stale_after: timedelta | None = None,
    ) -> None:
        # The poll checks its own arguments when it is made: make one now (it sends nothing
        # until iterated) so a mistake shows here, not in the background task.
        client.poll(
            apps=apps,
            metrics=metrics,
            interval=interval,
            resolution=resolution,
            lateness=lateness,
            timeout=timeout,
        )
        step = parse_step(resolution)
        cadence = max(interval, step)
        wait = timedelta(seconds=interval.total_seconds() if timeout is None else timeout)
        # The age the newest bucket's end reaches between two successful polls.
        between = lateness + step + cadence
        if max_age is None:
            max_age = between + 2 * cadence
        elif not isinstance(max_age, timedelta) or max_age < between:
            raise ArgumentError(
                f"max_age must be a timedelta of at least {between} (lateness + resolution + "
                f"one poll: the age of the newest bucket between two polls), got {max_age!r}"
            )
        if stale_after is None:
            stale_after = 2 * cadence + wait
        elif not isinstance(stale_after, timedelta) or stale_after <= timedelta(0):
            raise ArgumentError(f"stale_after must be a positive timedelta, got {stale_after!r}")
        self._client = client
        self._apps = apps
        self._metrics = metrics
        self._interval = interval
        self._resolution = resolution
        self._lateness = lateness
        self._timeout = timeout
        # The first poll reaches back far enough for a complete bucket at any step.
        self._lookback = min(max_age, max(INITIAL_LOOKBACK, lateness + 2 * step))
        self._settings = ExportSettings(
            interval=interval, step=step, max_age=max_age, stale_after=stale_after
        )
        self._state = ExporterState(step=step, stale_after=stale_after, max_age=max_age)
        self._registry = CollectorRegistry(auto_describe=True)
        self._registry.register(self)
        self._running = False
        self._stopped: str | None = None  # why polling stopped for good (an error's type)
        self._named_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"ScoutExporter(apps={self._apps!r}, metrics={self._metrics!r}, "
            f"interval={self._interval}, resolution={self._settings.step})"
        )

    # -- what a scrape reads -----------------------------------------------------------------

    @property
    def registry(self) -> CollectorRegistry:
        """A registry holding this exporter alone (``generate_latest(exporter.registry)``,
        ``make_asgi_app(exporter.registry)``)."""
        return self._registry

    @property
    def max_age(self) -> timedelta:
        return self._settings.max_age

    @property
    def stale_after(self) -> timedelta:
        return self._settings.stale_after

    def collect(self) -> Iterator[Metric]:
        """The metric families of one scrape (``prometheus_client``'s ``Collector``); reads
        memory only. Safe to call from another thread than the poll task's."""
        snapshot = self._state.snapshot(self._client.clock.now())
        yield from families(snapshot, self._client.stats, self._settings, pause=self._pause_left())

    def describe(self) -> Iterator[Metric]:
        """The families this collector exposes, without samples (for a registry's checks)."""
        return describe(self._settings)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition and its content type for an ``Accept`` header, written by
        ``prometheus_client``: the Prometheus text format (0.0.4, ``generate_latest``), which
        every Prometheus reads, unless the client takes OpenMetrics only (then the OpenMetrics
        encoder ``choose_encoder`` picks for it)."""
        kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if "application/openmetrics-text" in kinds and not kinds & {"text/plain", "*/*", "text/*"}:
            encoder, content_type = choose_encoder(accept)
            return encoder(self._registry), content_type
        return generate_latest(self._registry), CONTENT_TYPE_PLAIN_0_0_4

    @property
    def healthy(self) -> bool:
        """True while polling runs (a failing start is retried: still healthy); False before
        ``run`` and once polling stopped for good (the key was refused)."""
        return self._running and self._stopped is None

    @property
    def ready(self) -> bool:
        """True once polling runs and a poll of some series has succeeded: there is data."""
        return self.healthy and self._state.has_data

    def asgi_app(self) -> ASGIApp:
        """``/metrics``, ``/healthz`` and ``/readyz`` as an ASGI app (Starlette's ``Mount``,
        FastAPI's ``app.mount``); the poll task (``run``) is yours to start."""
        return asgi_app(self._routes())

    # -- the background work -----------------------------------------------------------------

    async def run(self) -> None:
        """Poll Scout until cancelled, keeping the newest value of each series.

        Per-series failures are counted and retried at the next interval; polling that ends
        with an error (listing the apps failed) starts again. Raises ``AuthenticationError``
        when Scout refuses the key for the apps' listing (made at the start, and every
        ``NAMES_REFRESH``), and ``RuntimeError`` for a closed client.
        """
        if self._running:
            raise RuntimeError("this ScoutExporter is already running")
        self._running, self._stopped = True, None
        failures: list[Exception] = []

        async def guard(work: Callable[[], Awaitable[None]]) -> None:
            try:
                await work()
            except Exception as exc:  # raised below, outside the task group (no group)
                failures.append(exc)
                tg.cancel_scope.cancel()

        try:
            await self._name_apps()
            async with anyio.create_task_group() as tg:
                tg.start_soon(guard, self._keep_names)
                await guard(self._poll_forever)
                tg.cancel_scope.cancel()  # never reached but by a failure: the names go too
            if failures:
                self._stopped = type(failures[0]).__name__
                raise failures[0]
        except AuthenticationError as exc:
            self._stopped = type(exc).__name__
            raise
        finally:
            self._running = False

    async def serve(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        task_status: anyio.abc.TaskStatus[tuple[str, int]] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Poll (``run``) and serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port``
        with uvicorn, in this event loop, until cancelled; ``port=0`` picks a free port, given
        to ``task_status`` (``host, port = await tg.start(exporter.serve, "127.0.0.1", 0)``).

        asyncio only, as uvicorn: on trio it raises ``RuntimeError`` at once (there, run ``run``
        and serve ``asgi_app()`` with a trio ASGI server such as hypercorn). A host with a colon
        is IPv6, else IPv4 (a name is bound at its IPv4 address). ``OSError`` if the address
        cannot be listened on; what ``run`` raises, after the server stopped. Cancelling it
        stops uvicorn gracefully (answers being written finish) and closes the socket; the
        process's signal handlers are left alone.
        """
        require_asyncio()
        sock = bind(host, port)
        with sock:  # uvicorn closes it too; this covers a cancellation before it starts
            address = sock.getsockname()
            failure: BaseException | None = None
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve_asgi, self.asgi_app(), sock)
                task_status.started((str(address[0]), int(address[1])))
                try:
                    await self.run()
                except Exception as exc:  # raised below, outside the task group (no group)
                    failure = exc
                tg.cancel_scope.cancel()
        if failure is not None:
            raise failure

    async def _poll_forever(self) -> None:
        clock = self._client.clock
        delay = RESTART_DELAY
        while True:
            updates = self._client.poll(
                apps=self._apps,
                metrics=self._metrics,
                interval=self._interval,
                resolution=self._resolution,
                since=clock.now() - self._lookback,
                lateness=self._lateness,
                timeout=self._timeout,
            )
            try:
                async with contextlib.aclosing(updates):
                    async for update in updates:
                        self._state.apply(update, clock.now())
                        delay = RESTART_DELAY
            except AuthenticationError:
                raise
            except ScoutError:  # a closed client ends it below: the next poll() refuses
                self._state.count_restart()
            await clock.sleep(delay)
            delay = min(delay * 2, self._interval.total_seconds())

    async def _name_apps(self) -> None:
        self._named_at = self._client.clock.monotonic()
        try:
            apps = await self._client.apps.list()
        except AuthenticationError:  # the key is refused: nothing will work
            raise
        except ScoutError:  # the names are labels: go on with those known
            self._state.count_app_list_error()
            return
        self._state.set_names({app.id: app.name for app in apps})

    async def _keep_names(self) -> None:
        clock = self._client.clock
        while True:
            await clock.sleep(self._interval.total_seconds())
            since = clock.monotonic() - (self._named_at or 0.0)
            if self._state.unnamed() or since >= NAMES_REFRESH.total_seconds():
                await self._name_apps()

    # -- helpers -----------------------------------------------------------------------------

    def _routes(self) -> Routes:
        return Routes(exposition=self.exposition, health=self._health, readiness=self._readiness)

    def _health(self) -> tuple[bool, str]:
        if self._stopped is not None:
            return False, f"polling stopped: {self._stopped}"
        if not self._running:
            return False, "not polling"
        return True, "ok"

    def _readiness(self) -> tuple[bool, str]:
        healthy, why = self._health()
        if not healthy:
            return False, why
        if not self._state.has_data:
            return False, "waiting for the first successful poll"
        return True, "ready"

    def _pause_left(self) -> float | None:
        """Seconds left in the client's 429 pause; None when it cannot be read here (off the
        event loop's thread the system clock is not readable)."""
        try:
            return self._client.rate_limit_pause_remaining()
        except RuntimeError:  # no event loop in this thread (a threaded HTTP server)
            return None
