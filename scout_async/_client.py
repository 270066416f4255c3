"""``ScoutClient``: configuration, lifetime, and the resources hanging off it."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._clock import Clock, check_clock
from ._config import ClientConfig
from ._constants import (
    DEFAULT_LATENESS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ._core import ClientStats, Core
from ._resources.anomalies import Anomalies
from ._resources.apps import Apps
from ._resources.endpoints import Endpoints
from ._resources.errors import ErrorGroups
from ._resources.insights import Insights
from ._resources.jobs import Jobs
from ._resources.metrics import Metrics
from ._resources.traces import Traces
from ._resources.usage import UsageResource

if TYPE_CHECKING:
    from ._bulk.checkpoint import CheckpointStore
    from ._bulk.poll import PollUpdate
    from ._bulk.report import BackfillResult, Progress
    from ._bulk.selection import AppsArg, MetricsArg
    from .sinks import Sink

__all__ = ["ScoutClient"]


class ScoutClient:
    """The async client for the Scout APM read API.

    >>> async with ScoutClient(api_key="...") as client:
    ...     apps = await client.apps.list()
    ...     series = await client.metrics.get(apps[0].id, "response_time", start=t0, end=t1)

    Every request made through one client shares ``max_concurrency`` (requests in flight) and,
    after a 429, one client-wide pause. Use it as ``async with`` or call ``aclose()`` when done.

    ``http_backend`` picks what carries the requests (retries, limits, timeouts, redirects and
    the key's redaction behave the same on each): ``"httpx"``, httpx's own connection pools;
    ``"aiohttp"``, httpx-aiohttp's transport: less client CPU per request, the more so the
    more requests are in flight; asyncio only (``pip install 'scout-async[aiohttp]'``);
    ``"auto"`` (the default), aiohttp's when it is installed and the client runs on asyncio,
    httpx's otherwise (trio included). An ``http_client`` passed in is used as it is,
    whatever ``http_backend`` says. Mocking with respx: its default patches httpcore, under
    httpx's path only; ``respx.mock(using="httpx")`` answers on both.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        auth: str = "header",
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        rate_limit: float | None = None,
        clock: Clock | None = None,
        http_backend: str = "auto",
    ) -> None:
        config = ClientConfig.from_arguments(
            api_key,
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            rate_limit=rate_limit,
            http_backend=http_backend,
        )
        self._core = Core(
            config, http_client=http_client, clock=None if clock is None else check_clock(clock)
        )
        self.apps = Apps(self._core)
        self.metrics = Metrics(self._core)
        self.endpoints = Endpoints(self._core)
        self.jobs = Jobs(self._core)
        self.traces = Traces(self._core)
        self.errors = ErrorGroups(self._core)
        self.anomalies = Anomalies(self._core)
        self.insights = Insights(self._core)
        self.usage = UsageResource(self._core)

    def __repr__(self) -> str:
        config = self._core.config
        return (
            f"ScoutClient(base_url={config.base_url!r}, auth={config.auth!r}, "
            f"max_concurrency={config.max_concurrency})"
        )

    @property
    def base_url(self) -> str:
        return self._core.config.base_url

    @property
    def max_concurrency(self) -> int:
        return self._core.config.max_concurrency

    @property
    def clock(self) -> Clock:
        """Where this client takes the time from (``ScoutClient(clock=...)``)."""
        return self._core.clock

    @property
    def stats(self) -> ClientStats:
        """Counters of this client's traffic: requests, retries, 429s, peak in flight."""
        return self._core.stats

    def rate_limit_pause_remaining(self) -> float:
        """Seconds, on this client's clock, until its requests may leave again after a 429
        paused them all (the pause lasts at least the answer's ``Retry-After``); 0.0 when not
        paused. With the system clock, call it from the event loop's thread."""
        return self._core.pause_remaining()

    async def __aenter__(self) -> ScoutClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End unfinished streams and close the connection pool (not an ``http_client`` you
        passed in: that one is yours). Idempotent."""
        await self._core.aclose()

    async def backfill(
        self,
        *,
        apps: AppsArg = "all",
        metrics: MetricsArg = "all",
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = "1m",
        sink: Sink | str | os.PathLike[str],
        checkpoint: str | os.PathLike[str] | CheckpointStore | None = None,
        progress: Callable[[Progress], object] | None = None,
        checkpoint_every: float | None = None,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
        shard: tuple[int, int] | None = None,
        lateness: timedelta = DEFAULT_LATENESS,
    ) -> BackfillResult:
        """Every (app, metric) series over ``[start, end)`` at one step into ``sink``, resumable.

        ``apps``/``metrics``: ``"all"`` (listed from the API) or lists. ``sink``: a ``Sink`` or a
        path for ``open_sink``. ``checkpoint``: a state file; rerunning the same call after a
        crash, a cancellation or a failed series continues where the output is durable, and the
        output ends up as an uninterrupted run's. ``progress`` gets a ``Progress`` after each
        chunk (it may be async). ``checkpoint_every``: seconds between flush-and-checkpoint
        (default 1 s, or the sink's preference: Parquet checkpoints each minute, as every flush
        ends a part file). Series fail one by one (see the result; an app whose metrics cannot be
        listed shows as a failed series with metric ``"*"``, listed again on resume); after
        ``max_consecutive_failures`` series in a row fail with connection or server errors the
        job stops (``result.stopped``), leaving a valid checkpoint. Sink errors are raised.
        A database sink (``"postgresql://..."``) keeps the checkpoint itself when ``checkpoint``
        is ``None``: in the transaction of the rows it covers, one per plan. ``shard=(i, n)``:
        only the series of shard ``i`` of ``n`` (0-based; a stable hash of app and metric), with
        a checkpoint of its own, so ``n`` jobs split one backfill between them. ``lateness``
        (as ``poll``'s): a bucket that ended less than this before the client's clock has not
        closed; it is not written, the series' watermark stops before it, and a rerun with the
        checkpoint fetches it once it has closed. ``result.unavailable_before`` tells where Scout's
        metric retention (about 30 days) cut the window's start off.

        >>> result = await client.backfill(
        ...     apps="all", metrics=["throughput", "errors"], start=t0, end=t0 + timedelta(days=30),
        ...     sink="points.db", checkpoint="points.state.json")
        >>> result.ok, result.points

        Raises ``CheckpointMismatchError`` if ``checkpoint`` belongs to another plan or output.
        """
        # Imported on first use: the backfill machinery and every sink, ~25 ms.
        from ._bulk import backfill as _backfill

        return await _backfill.backfill(
            self._core,
            apps=apps,
            metrics=metrics,
            start=start,
            end=end,
            resolution=resolution,
            sink=sink,
            checkpoint=checkpoint,
            progress=progress,
            checkpoint_every=checkpoint_every,
            max_consecutive_failures=max_consecutive_failures,
            shard=shard,
            lateness=lateness,
        )

    def poll(
        self,
        *,
        apps: AppsArg = "all",
        metrics: MetricsArg = "all",
        interval: timedelta = DEFAULT_POLL_INTERVAL,
        resolution: timedelta | str = "1m",
        since: datetime | None = None,
        lateness: timedelta = DEFAULT_LATENESS,
        timeout: float | None = None,
    ) -> AsyncGenerator[PollUpdate, None]:
        """Every ``interval``, the newly completed buckets of each (app, metric) series.

        A bucket is complete once it ended ``lateness`` ago; each is yielded exactly once across
        polls, later revisions by Scout are not. The first poll starts at ``since`` (default: one
        interval back). Series are fetched independently: one that fails or takes longer than
        ``timeout`` seconds (default: the interval; real seconds, whatever the client's clock
        says) yields a
        ``PollUpdate`` with ``error`` and retries from its own watermark next time (an app whose
        metrics cannot be listed yields one with metric ``"*"`` and is listed again); the others
        are not held up. Time comes from the client's clock (``ScoutClient(clock=...)``).
        Arguments are checked now; close the generator (``aclosing``) to stop.

        >>> async with aclosing(client.poll(apps=[101, 102], metrics=["throughput"])) as updates:
        ...     async for update in updates:
        ...         print(update.app_id, update.metric, update.error or len(update.points))
        """
        from ._bulk import poll as _poll  # imported on first use: ~5 ms

        return _poll.poll(
            self._core,
            apps=apps,
            metrics=metrics,
            interval=interval,
            resolution=resolution,
            since=since,
            lateness=lateness,
            timeout=timeout,
        )
