"""``ScoutClient``: configuration, lifetime, and the resources hanging off it."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio
import httpx

from ._background import BackgroundJobs
from ._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from ._exceptions import ConfigurationError
from ._redact import Secret
from ._resources.apps import Apps
from ._resources.metrics import Metrics
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
        url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")) or "?" in url:
            raise ConfigurationError(
                f"base_url must be an http(s) URL without a query, such as {DEFAULT_BASE_URL!r}; "
                f"got {url!r}"
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
