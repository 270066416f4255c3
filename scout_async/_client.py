"""``ScoutClient``: configuration, lifetime, and the resources hanging off it."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime, timedelta
from types import TracebackType

import anyio
import httpx

from . import _backfill, _poll
from ._background import BackgroundJobs
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_LATENESS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ._exceptions import ConfigurationError
from ._models_api import Usage
from ._redact import Secret, check_key
from ._report import BackfillResult, Progress
from ._resources.anomalies import Anomalies
from ._resources.apps import Apps
from ._resources.endpoints import Endpoints
from ._resources.errors import ErrorGroups
from ._resources.insights import Insights
from ._resources.jobs import Jobs
from ._resources.metrics import Metrics
from ._resources.traces import Traces
from ._resources.usage import UsageResource
from ._selection import AppsArg, MetricsArg
from ._sinks import Sink
from ._transport import Transport, TransportStats

__all__ = ["ScoutClient"]


class ScoutClient:
    """The async client for the Scout APM read API.

    >>> async with ScoutClient(api_key="...") as client:
    ...     apps = await client.apps.list()
    ...     series = await client.metrics.get(apps[0].id, "response_time", start=t0, end=t1)

    Every request made through one client shares ``max_concurrency`` (requests in flight) and,
    after a 429, one client-wide pause. Use it as ``async with`` or call ``aclose()`` when done.
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
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key:
            raise ConfigurationError(
                f"no API key: pass ScoutClient(api_key=...) or set the {API_KEY_ENV} environment "
                "variable (Scout: organization settings -> API tokens)"
            )
        if not isinstance(key, str):
            raise ConfigurationError(f"api_key must be a string, got {type(key).__name__}")
        problem = check_key(key)
        if problem is not None:
            raise ConfigurationError(problem)
        url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or "?" in url:
            # Never echo a query: it may be someone's ``?key=``.
            shown = (
                url.split("?", 1)[0] + ("?..." if "?" in url else "")
                if isinstance(url, str)
                else url
            )
            raise ConfigurationError(
                f"base_url must be an http(s) URL without a query, such as {DEFAULT_BASE_URL!r}; "
                f"got {shown!r}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise ConfigurationError(
                f"max_concurrency must be an int >= 1, got {max_concurrency!r}"
            )
        if rate_limit is not None and not (isinstance(rate_limit, (int, float)) and rate_limit > 0):
            raise ConfigurationError(
                f"rate_limit must be requests per second > 0, or None; got {rate_limit!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float, httpx.Timeout)):
            raise ConfigurationError(
                f"timeout must be seconds or an httpx.Timeout, got {timeout!r}"
            )
        if not isinstance(timeout, httpx.Timeout):
            if timeout <= 0:
                raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
            timeout = httpx.Timeout(float(timeout))
        if auth not in ("header", "query", "body"):
            raise ConfigurationError(f"auth must be 'header', 'query' or 'body'; got {auth!r}")
        secret = Secret(key)
        self._max_concurrency = max_concurrency
        self._transport = Transport(
            api_key=secret,
            base_url=url,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            http_client=http_client,
            rate_limit=rate_limit,
        )
        self._jobs = BackgroundJobs()
        self.apps = Apps(self._transport)
        self.metrics = Metrics(self._transport, self)
        self.endpoints = Endpoints(self._transport, self)
        self.jobs = Jobs(self._transport, self)
        self.traces = Traces(self._transport)
        self.errors = ErrorGroups(self._transport)
        self.anomalies = Anomalies(self._transport)
        self.insights = Insights(self._transport)
        self._usage = UsageResource(self._transport)

    def __repr__(self) -> str:
        return (
            f"ScoutClient(base_url={self._transport.base_url!r}, auth={self._transport.auth!r}, "
            f"max_concurrency={self._max_concurrency})"
        )

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    @property
    def stats(self) -> TransportStats:
        """Counters of this client's traffic: requests, retries, 429s, peak in flight."""
        return self._transport.stats

    async def usage(self) -> Usage:
        """The organization's usage in the current billing period.

        >>> usage = await client.usage()
        >>> usage.billing_period.start, usage.apm.total_transactions
        """
        return await self._usage.get()

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
        try:
            await self._jobs.aclose()
        finally:
            await self._transport.aclose()

    def _require_open(self) -> None:
        if self._transport.closed:
            raise RuntimeError("this ScoutClient is closed; open a new one")

    def _spawn(self, job: Callable[[], Awaitable[None]]) -> anyio.CancelScope:
        """Run ``job`` in the background of this client; cancel it with the scope returned."""
        self._require_open()
        return self._jobs.spawn(job)

    async def backfill(
        self,
        *,
        apps: AppsArg = "all",
        metrics: MetricsArg = "all",
        start: datetime,
        end: datetime,
        resolution: timedelta | str | None = "1m",
        sink: Sink | str | os.PathLike[str],
        checkpoint: str | os.PathLike[str] | None = None,
        progress: Callable[[Progress], object] | None = None,
        checkpoint_every: float | None = None,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
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

        >>> result = await client.backfill(
        ...     apps="all", metrics=["throughput", "errors"], start=t0, end=t0 + timedelta(days=30),
        ...     sink="points.db", checkpoint="points.state.json")
        >>> result.ok, result.points

        Raises ``CheckpointMismatchError`` if ``checkpoint`` belongs to another plan or output.
        """
        return await _backfill.backfill(
            self,
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
        clock: _poll.Clock | None = None,
    ) -> AsyncGenerator[_poll.PollUpdate, None]:
        """Every ``interval``, the newly completed buckets of each (app, metric) series.

        A bucket is complete once it ended ``lateness`` ago; each is yielded exactly once across
        polls, later revisions by Scout are not. The first poll starts at ``since`` (default: one
        interval back). Series are fetched independently: one that fails or takes longer than
        ``timeout`` seconds (default: the interval; real seconds, whatever ``clock`` says) yields a
        ``PollUpdate`` with ``error`` and retries from its own watermark next time (an app whose
        metrics cannot be listed yields one with metric ``"*"`` and is listed again); the others
        are not held up. ``clock`` (``now()``, async ``sleep(seconds)``) replaces the wall clock,
        e.g. in tests. Arguments are checked now; close the generator (``aclosing``) to stop.

        >>> async with aclosing(client.poll(apps=[101, 102], metrics=["throughput"])) as updates:
        ...     async for update in updates:
        ...         print(update.app_id, update.metric, update.error or len(update.points))
        """
        return _poll.poll(
            self,
            apps=apps,
            metrics=metrics,
            interval=interval,
            resolution=resolution,
            since=since,
            lateness=lateness,
            timeout=timeout,
            clock=clock,
        )
