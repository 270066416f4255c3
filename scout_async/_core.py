"""The core of a client: the one object every resource, backfill and poll holds.

It owns the httpx client, auth, the retry loop, the client-wide limiter and 429 pause, the
background jobs of streams and polls, the clock, and the closed state. It is the only place that
talks HTTP, and it knows no endpoint: resources hand it a path and parameters and get ``results``
back, or a typed error after bounded retries. (httpx's own word for the layer below, "transport",
is left to httpx.)
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import random
import ssl
import sys
import urllib.request
import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import anyio
import attrs
import httpx
import sniffio

from ._background import BackgroundJobs
from ._clock import Clock, SystemClock
from ._config import ClientConfig
from ._constants import AUTH_HEADER, AUTH_QUERY_PARAM, LOGGER_NAME, MAX_RETRY_AFTER
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    ResponseFormatError,
    ScoutError,
)
from ._protocol import backoff_delay, decode_envelope, is_transient, parse_retry_after
from ._redact import Secret, redacting_logs
from ._version import __version__

__all__ = ["ClientStats", "Core"]

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - anyio brings the backport on 3.10
    from exceptiongroup import BaseExceptionGroup

logger = logging.getLogger(LOGGER_NAME)
# A library leaves output to its application (logging HOWTO, "Configuring Logging for a
# Library"): without a handler of the application's, warnings go nowhere instead of to stderr
# through logging's last resort, where they interleaved with the CLI's own notes.
logger.addHandler(logging.NullHandler())

USER_AGENT = f"scout-async/{__version__}"


@attrs.define
class ClientStats:
    """Counters of one client's traffic (read them for progress; never reset behind your back)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_limit_wait: float = 0.0
    in_flight: int = 0
    peak_in_flight: int = 0


class Core:
    """One per ``ScoutClient``; resources, backfill and poll take it and nothing else."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        max_retry_after: float = MAX_RETRY_AFTER,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._key = config.api_key
        self._base_url = config.base_url
        self._auth = config.auth
        self._timeout = config.timeout
        self._max_retries = config.max_retries
        self._max_retry_after = max_retry_after
        self._owns_http = http_client is None
        # The HTTP path: "httpx" (several of httpx's pools), "aiohttp" (httpx-aiohttp's
        # transport) or "given" (the caller's ``http_client``); None until it can be chosen.
        # "auto" needs the running async library, unknown while no event loop runs (a client
        # made at import time): then the first request chooses, in ``_settle_http``.
        self._http: str | None = None
        self._http_checked = False
        self._pools: list[httpx.AsyncClient] = []
        self._pool_load: list[int] = []
        self._plain_headers: dict[str, str] | None = None
        self._timeout_extension: dict[str, Any] = {}
        if http_client is not None:
            self._use_pools("given", [http_client])
            self._http_checked = True
        else:
            library = _running_library()
            backend = _choose_http(config.http_backend, library)
            if backend is not None:
                self._use_pools(backend, _make_pools(config, backend))
                # aiohttp's path chosen outside an event loop is checked to run on asyncio.
                self._http_checked = backend == "httpx" or library is not None
        # A request's slot is taken without a trip through the event loop when one is free
        # (``fast_acquire``): every request takes one, and sends right after.
        self.limiter = anyio.Semaphore(config.max_concurrency, fast_acquire=True)
        self._jobs = BackgroundJobs()
        self._rng = rng or random.Random()
        # Client-wide pause after a 429: a rate limit is about the key, not one request.
        self._resume_at = 0.0
        # Client-wide pacing for ``rate_limit`` (requests per second): the next free start time.
        self._interval = 1.0 / config.rate_limit if config.rate_limit else 0.0
        self._next_start = 0.0
        self.stats = ClientStats()
        # Steps whose band's upper edge Scout answered at the next step (the planner's lesson,
        # kept for the client's life: ``_series.planner.heal_chunk``).
        self.exclusive_edges: set[timedelta] = set()
        self._closed = False
        guard = redacting_logs(config.api_key)
        guard.__enter__()
        # Closed with the client, or when a client never closed is collected: the key's
        # redaction must not outlive it (a short key would mask its letters in every later log
        # line of the process). The finalizer holds the guard, never the core.
        self._end_redaction = weakref.finalize(self, guard.__exit__, None, None, None)

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def auth(self) -> str:
        return self._auth

    @property
    def max_concurrency(self) -> int:
        return self.config.max_concurrency

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running_jobs(self) -> int:
        """How many background jobs (stream and poll producers) are still running."""
        return self._jobs.running

    def require_open(self) -> None:
        if self._closed:
            raise RuntimeError("this ScoutClient is closed; open a new one")

    def spawn(self, job: Callable[[], Awaitable[None]]) -> anyio.CancelScope:
        """Run ``job`` in the background of this client; cancel it with the scope returned.

        Streams and polls run their producers here, so no task group spans a consumer's
        ``yield``; ``aclose()`` cancels whatever is still running."""
        self.require_open()
        return self._jobs.spawn(job)

    async def aclose(self) -> None:
        """End background jobs, then close the connection pool (if this core made it)."""
        if self._closed:
            return
        try:
            await self._jobs.aclose()
        finally:
            self._closed = True
            try:
                if self._owns_http:
                    for pool in self._pools:
                        await pool.aclose()
            finally:
                self._end_redaction()

    @property
    def pool_count(self) -> int:
        """How many connection pools this core spreads its requests over (httpx clients, each
        with its own pool); 0 while the HTTP path waits for the first request to be chosen."""
        return len(self._pools)

    @property
    def http_backend(self) -> str | None:
        """The HTTP path in use: ``"httpx"``, ``"aiohttp"`` (httpx-aiohttp's transport) or
        ``"given"`` (the ``http_client`` passed in); ``None`` until the first request chooses
        (``http_backend="auto"`` with no event loop running at construction)."""
        return self._http

    def _use_pools(self, backend: str, pools: list[httpx.AsyncClient]) -> None:
        self._http = backend
        self._pools = pools
        self._pool_load = [0] * len(pools)
        # Our own pools carry no cookies, params, auth or hooks of their own: a request for them
        # is built directly from their default headers (``_build_request``).
        self._plain_headers = (
            None
            if backend == "given"
            else {name.lower(): value for name, value in pools[0].headers.items()}
        )
        self._timeout_extension = {"timeout": self._timeout.as_dict()}

    def _settle_http(self) -> None:
        """Choose the HTTP path now that an async library runs (the first request's task), or
        check that the one chosen at construction runs on it; raises ``ConfigurationError``."""
        library = _running_library()
        if self._http is None:
            backend = _choose_http(self.config.http_backend, library) or "httpx"
            self._use_pools(backend, _make_pools(self.config, backend))
        elif self._http == "aiohttp":
            _choose_http("aiohttp", library)  # raises off asyncio
        self._http_checked = True

    def _build_request(
        self, http: httpx.AsyncClient, path: str, params: Mapping[str, str] | None
    ) -> httpx.Request:
        query = dict(params or {})
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        content: bytes | None = None
        key = self._key.reveal()
        if self._auth == "header":
            headers[AUTH_HEADER] = key
        elif self._auth == "query":
            query[AUTH_QUERY_PARAM] = key
        else:
            content = json.dumps({"key": key}).encode()
            headers["Content-Type"] = "application/json"
        plain = self._plain_headers
        if plain is None:  # the caller's client: its own cookies, params, auth and headers apply
            return http.build_request(
                "GET",
                self._base_url + path,
                params=query,
                headers=headers,
                content=content,
                timeout=self._timeout,
            )
        # The same request ``build_request`` makes from one of our pools (a test holds them
        # equal), in half its CPU: the URL is parsed once, and no cookie jar is merged.
        url = self._base_url + path
        if query:
            url += "?" + str(httpx.QueryParams(query))
        return httpx.Request(
            "GET",
            url,
            headers={**plain, **{name.lower(): value for name, value in headers.items()}},
            content=content,
            extensions=self._timeout_extension,
        )

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET ``path`` (relative to the base URL) and return the envelope's ``results``.

        Retries connection errors, timeouts, 408, 429, 5xx and a success whose body is not JSON
        up to ``max_retries`` times; the concurrency limit is held per attempt, never across the
        sleep between attempts. Whatever fails, the caller gets a ``ScoutError`` whose traceback
        starts here: the frames below held the built request (the key, with query auth).
        """
        self.require_open()
        if not self._http_checked:
            self._settle_http()
        retry = 0
        while True:
            await self._wait_for_pause()
            try:
                async with self.limiter:
                    # A 429 may have paused the client while this task queued for a slot.
                    if self._paused():
                        continue
                    await self._wait_for_pace()
                    # Closed while this task waited (a slot, a pause, the pace, a retry's
                    # backoff): its pools are closed, and must not open a connection again.
                    self.require_open()
                    return await self._attempt(path, params, retry)
            except ScoutError as exc:
                error = _bare(exc, self._key)
                delay = backoff_delay(retry, rng=self._rng)
                server_wait = error.retry_after if isinstance(error, APIStatusError) else None
                if server_wait is not None:
                    delay = max(delay, server_wait)  # Retry-After is the minimum wait
                if isinstance(error, RateLimitError):
                    # A 429 is about the key: every task of the client waits, even when this one
                    # gives up below.
                    self.stats.rate_limited += 1
                    self._pause_everyone(min(delay, self._max_retry_after))
                if (
                    retry >= self._max_retries
                    or not is_transient(error)
                    or (server_wait is not None and server_wait > self._max_retry_after)
                ):
                    raise error from exc.__cause__
                retry += 1
                self.stats.retries += 1
                logger.info(
                    "GET %s failed (%s); retry %d of %d in %.2fs",
                    path,
                    _short(error),
                    retry,
                    self._max_retries,
                    delay,
                )
                await self.clock.sleep(delay)

    async def _attempt(self, path: str, params: Mapping[str, str] | None, retry: int) -> Any:
        stats = self.stats
        stats.requests += 1
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            response, content = await self._exchange(path, params)
        finally:
            stats.in_flight -= 1
        if 300 <= response.status_code < 400:
            target = response.headers.get("Location", "").split("?", 1)[0]
            raise APIStatusError(
                f"HTTP {response.status_code}: the server redirects to {target or '?'}; not "
                "followed, so the API key stays with the configured host: set base_url to the "
                "final URL",
                status_code=response.status_code,
                method="GET",
                path=path,
            )
        logger.debug(
            "GET %s -> %d (attempt %d, %d bytes)",
            path,
            response.status_code,
            retry + 1,
            len(content),
        )
        return decode_envelope(
            response.status_code,
            content,
            method="GET",
            path=path,
            http_reason=response.reason_phrase,
            # An HTTP-date Retry-After is judged by the client's clock, like every time read.
            retry_after=parse_retry_after(
                response.headers.get("Retry-After"), now=self.clock.now()
            ),
        )

    async def _exchange(
        self, path: str, params: Mapping[str, str] | None
    ) -> tuple[httpx.Response, bytes]:
        """Send one request and read its body; any failure of the way is a ``ScoutError``.

        The built request is never bound to a name here: a frame's locals show in error trackers
        that capture them, and with query auth its URL holds the key."""
        load = self._pool_load
        index = load.index(min(load)) if len(load) > 1 else 0
        http = self._pools[index]
        load[index] += 1
        try:
            if self._plain_headers is None:  # the caller's client: its auth, hooks, cookies
                # Never follow a redirect: httpx strips only ``Authorization`` across origins,
                # so the X-SCOUT-API header would go to wherever the redirect points.
                response = await http.send(
                    self._build_request(http, path, params), stream=True, follow_redirects=False
                )
            else:
                response = await _send_plain(http, self._build_request(http, path, params))
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"timed out ({type(exc).__name__})", method="GET", path=path
            ) from exc
        except httpx.DecodingError as exc:
            raise ResponseFormatError(
                f"the body could not be decoded ({exc})", method="GET", path=path
            ) from exc
        except httpx.RequestError as exc:
            raise APIConnectionError(
                f"connection failed ({type(exc).__name__}: {exc})", method="GET", path=path
            ) from exc
        except Exception as exc:  # whatever else the HTTP stack raises is still a ScoutError
            raise _transport_failure(exc, path) from exc
        finally:
            load[index] -= 1
        return response, content

    def pause_remaining(self) -> float:
        """Seconds left in the client-wide pause after a 429, on ``clock`` (0.0: none)."""
        return max(0.0, self._resume_at - self.clock.monotonic())

    def _paused(self) -> bool:
        return self._resume_at > self.clock.monotonic()

    async def _wait_for_pause(self) -> None:
        # The pause can be extended by another task's 429 while we sleep: check again after.
        while True:
            wait = self._resume_at - self.clock.monotonic()
            if wait <= 0:
                return
            self.stats.rate_limit_wait += wait
            await self.clock.sleep(wait)

    async def _wait_for_pace(self) -> None:
        # Reserved while holding a slot, so queued tasks cannot burst past ``rate_limit``.
        if self._interval:
            now = self.clock.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
            if start > now:
                await self.clock.sleep(start - now)

    def _pause_everyone(self, delay: float) -> None:
        self._resume_at = max(self._resume_at, self.clock.monotonic() + delay)


async def _send_plain(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request`` on one of the client's own pools, the response's body still to read.

    ``AsyncClient.send`` would run it through the auth flow, the redirect loop, the event
    hooks and the cookie jar: our pools have no auth, hooks or cookies and never follow a
    redirect, and that machinery costs about as much CPU as the exchange itself on the aiohttp
    path (measured: ~130 µs a request). What is left of ``send`` is the transport it would pick
    for the URL (a proxy's, from the environment, or the pool's own), which is what this asks.
    """
    return await http._transport_for_url(request.url).handle_async_request(request)


#: Connections per httpx pool at most: httpcore scans a pool's every connection for every
#: request, so the client spreads over pools of 8. Measured (``nox -s bench --only sweep``,
#: 2 cores): client CPU per request at 64 in flight is 0.92x that at 8 with pools of 8, 1.35x
#: with pools of 16, 3.6x with one pool of 64 (the hand-written httpx job).
POOL_SIZE = 8


def pool_sizes(max_concurrency: int, pool_size: int = POOL_SIZE) -> list[int]:
    """The connection limits of the pools for ``max_concurrency``: as few pools as keep each
    at most ``pool_size``, sized as evenly as possible, adding up to ``max_concurrency``."""
    count = -(-max_concurrency // pool_size)
    base, extra = divmod(max_concurrency, count)
    return [base + 1 if i < extra else base for i in range(count)]


AIOHTTP_HINT = "pip install 'scout-async[aiohttp]'"


def _make_pools(config: ClientConfig, backend: str) -> list[httpx.AsyncClient]:
    # Every connection a pool may open stays alive for reuse: the limiter never lets more
    # requests in flight than the pools hold together, so none waits for a pool's connection.
    if backend == "aiohttp":
        # One aiohttp connector holds them all: it takes an idle connection off a list instead
        # of scanning the pool, so a large one costs no more per request than a small one
        # (measured at 16 and 64 in flight: one connector and several small ones cost the same).
        make_client = _aiohttp_maker()
        if make_client is None:  # pragma: no cover - _choose_http checked it just now
            raise ConfigurationError(f"http_backend='aiohttp' needs httpx-aiohttp: {AIOHTTP_HINT}")
        return [
            make_client(
                timeout=config.timeout,
                connections=config.max_concurrency,
                verify=_tls_context(),
            )
        ]
    # Several small httpx pools rather than one large one: httpcore scans every connection of
    # a pool for every request (quadratic in the pool's size), which collapses one pool of 32
    # or more (benchmarks/bench_concurrency.py). A request goes to the least busy pool. They
    # share one TLS context: each of httpx's own loads the CA bundle again (~50 ms of CPU).
    tls = _tls_context()
    return [
        httpx.AsyncClient(
            timeout=config.timeout,
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            verify=tls,
        )
        for size in pool_sizes(config.max_concurrency)
    ]


def _tls_context() -> ssl.SSLContext:
    """The TLS context httpx makes by default (certifi's CA bundle, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` from the environment), made once for all of a client's pools."""
    return httpx.create_ssl_context(verify=True, trust_env=True)


def _running_library() -> str | None:
    """``"asyncio"``, ``"trio"``, ...; ``None`` outside any event loop."""
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None


def _environment_proxies() -> bool:
    return bool(urllib.request.getproxies())


def _aiohttp_installed() -> bool:
    try:
        return importlib.util.find_spec("httpx_aiohttp") is not None
    except (ImportError, ValueError):  # pragma: no cover - a broken install
        return False


def _aiohttp_maker() -> Callable[..., httpx.AsyncClient] | None:
    """What makes an ``httpx.AsyncClient`` on aiohttp (``_aiohttp.make_client``), or ``None``
    when httpx-aiohttp (or aiohttp) cannot be imported."""
    try:
        from ._aiohttp import make_client
    except ImportError:
        return None
    return make_client


def _choose_http(requested: str, library: str | None) -> str | None:
    """The HTTP path for ``http_backend=requested`` on ``library`` (``None``: no event loop
    runs yet): ``"httpx"``, ``"aiohttp"``, or ``None`` when only the first request can tell.
    Raises ``ConfigurationError`` for ``"aiohttp"`` off asyncio or without httpx-aiohttp."""
    if requested == "httpx":
        return "httpx"
    on_asyncio = library in (None, "asyncio")
    if requested == "aiohttp":
        if not on_asyncio:
            raise ConfigurationError(
                f"http_backend='aiohttp' runs on asyncio only, and this is {library}: pass "
                "http_backend='auto' or 'httpx'"
            )
        if _aiohttp_maker() is None:
            raise ConfigurationError(
                f"http_backend='aiohttp' needs httpx-aiohttp, which is not installed: "
                f"{AIOHTTP_HINT}"
            )
        return "aiohttp"
    # "auto": aiohttp's transport only on asyncio, and only when installed (imported only
    # once it is taken: a client made before trio runs never imports aiohttp). Not behind a
    # proxy from the environment: httpx's own proxy support is the one a user of httpx
    # expects (``_aiohttp.VerbatimTransport`` reads the same variables, through urllib).
    if not on_asyncio or not _aiohttp_installed() or _environment_proxies():
        return "httpx"
    if library is None:
        return None
    return "aiohttp" if _aiohttp_maker() is not None else "httpx"


# What asyncio and aiohttp raise for a timeout (``asyncio.TimeoutError`` is the builtin from 3.11).
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _transport_failure(exc: Exception, path: str) -> ScoutError:
    """The ``ScoutError`` for what the HTTP stack raised beyond httpx's own errors: failed
    connection attempts (an ``OSError``, or a group of them from concurrent attempts) are a
    connection error, retried; anything else (an ``OverflowError``, an invalid URL) would fail
    the same way again, so it is not."""
    leaves = _leaves(exc)
    said = _said(leaves[0])
    if all(isinstance(leaf, _TIMEOUTS) for leaf in leaves):
        return APITimeoutError(f"timed out ({said})", method="GET", path=path)
    if all(isinstance(leaf, (OSError, httpx.RequestError)) for leaf in leaves):
        return APIConnectionError(f"connection failed ({said})", method="GET", path=path)
    return ScoutError(f"the HTTP request could not be made ({said})", method="GET", path=path)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _bare(error: ScoutError, key: Secret) -> ScoutError:
    """``error`` without the key in its messages and with no traceback, and so every exception
    in its chain of causes and in its groups.

    Their frames (httpx's, httpcore's, this module's) hold the built request, its headers and
    the body read: an error tracker that captures frame locals (Sentry-style,
    ``traceback.TracebackException(capture_locals=True)``) would show the key in any auth mode,
    or a server's message echoing it. The messages say what failed; raising ``error`` again
    starts a fresh traceback at the caller's frame."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        key.scrub_exception(current)
        current.__traceback__ = None
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
    return error


def _short(error: ScoutError) -> str:
    if isinstance(error, APIStatusError):
        return f"{error.status_code}"
    return type(error).__name__
