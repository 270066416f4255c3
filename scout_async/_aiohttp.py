"""The aiohttp path (``ScoutClient(http_backend="aiohttp")``): httpx-aiohttp's client, on its
transport with a few changes: each URL leaves exactly as httpx encoded it, through the proxy the
environment names, and aiohttp's errors become httpx's as they mean (``_errors``).

Imported only when that path is taken: it imports aiohttp (a few hundred ms, once).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.request import getproxies, proxy_bypass

import httpx
from aiohttp import (
    ClientConnectionError,
    ClientHttpProxyError,
    ClientResponse,
    ClientResponseError,
    ClientSession,
    ClientTimeout,
    ServerTimeoutError,
    TCPConnector,
)
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient
from httpx_aiohttp.transport import map_aiohttp_exceptions
from yarl import URL

__all__ = ["make_client"]


def make_client(
    *, timeout: httpx.Timeout, connections: int, verify: ssl.SSLContext
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on aiohttp, holding up to ``connections`` alive for reuse."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # httpx mounts no proxy from the environment over a transport passed in: the transport
    # takes them (``VerbatimTransport._proxy_for``).
    return HttpxAiohttpClient(
        timeout=timeout,
        limits=limits,
        transport=VerbatimTransport(limits=limits, verify=verify),
    )


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """httpx-aiohttp's mapping of aiohttp's errors to httpx's, but for one: it makes every
    connection error that is not a timeout (refused, reset, the server hanging up) an
    ``httpx.ConnectTimeout``. Those are connection failures: ``httpx.ConnectError`` here."""
    with map_aiohttp_exceptions():
        try:
            yield
        except ClientConnectionError as exc:
            if isinstance(exc, ServerTimeoutError):
                raise  # a timeout, mapped as one
            said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise httpx.ConnectError(said) from exc


class _Body(httpx.AsyncByteStream):
    """An answer's body, read from aiohttp under ``_errors``."""

    def __init__(self, response: ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _errors():
            async for chunk in self._response.content.iter_chunked(16 * 1024):
                yield chunk

    async def aclose(self) -> None:
        with _errors():
            await self._response.__aexit__(None, None, None)


class VerbatimTransport(AiohttpTransport):
    """httpx-aiohttp's transport, handing aiohttp the URL as httpx encoded it.

    httpx-aiohttp passes ``str(request.url)``, which aiohttp parses again with yarl, and yarl
    "requotes" it: ``%3D`` in a path becomes ``=`` (aio-libs/aiohttp#2188, #4307), so an
    endpoint id's base64 padding would leave differently than on httpx's path. A
    ``yarl.URL(..., encoded=True)`` is sent as it is. The rest is httpx-aiohttp's request
    handling for what the client sends: a GET with at most a small body, through the proxy
    the environment names for it (``_proxy_for``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._proxies: dict[tuple[str, str], str | None] = {}

    def get_client(self) -> ClientSession:
        # Not ``trust_env``: with it aiohttp also sends ~/.netrc credentials to the host, and
        # reads them in a thread at every request. Proxies are ``_proxy_for``'s.
        connector = TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        return ClientSession(connector=connector)

    def _proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy the environment names for ``url``, as httpx reads it (``HTTP_PROXY`` for
        http, ``HTTPS_PROXY`` for https, else ``ALL_PROXY``; none for a host in ``NO_PROXY``):
        httpx mounts none over a transport passed in. Read once per scheme and host."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            found = getproxies()
            proxy = found.get(url.scheme) or found.get("all")
            self._proxies[key] = None if not proxy or proxy_bypass(url.host) else proxy
        return self._proxies[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
        response = await self._send(self.client, request)
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions=extensions,
        )

    async def _send(self, session: ClientSession, request: httpx.Request) -> ClientResponse:
        timeout = request.extensions.get("timeout", {})
        connect, pool = timeout.get("connect"), timeout.get("pool")
        failure: httpx.TransportError | None = None
        with _errors():
            try:
                return await session.request(
                    method=request.method,
                    url=URL(str(request.url), encoded=True),
                    headers=request.headers,
                    data=request.content or None,
                    allow_redirects=False,
                    auto_decompress=False,  # httpx decodes, as on its own path
                    compress=False,
                    timeout=ClientTimeout(
                        sock_connect=connect,
                        sock_read=timeout.get("read"),
                        # aiohttp's ``connect`` spans the wait for a pool slot and the
                        # connecting itself, httpx's ``pool`` the wait alone: both, summed.
                        connect=None if connect is None or pool is None else connect + pool,
                    ),
                    server_hostname=request.extensions.get("sni_hostname"),
                    proxy=self._proxy_for(request.url),
                ).__aenter__()
            except ClientResponseError as exc:
                # An answer aiohttp cannot parse (a bad status line, a header over its limit),
                # or a proxy refusing to connect. aiohttp's error carries the request's URL and
                # headers (the key, in either auth mode), and httpx-aiohttp maps it with its
                # text: say what was wrong, and keep nothing of it (raised outside this block,
                # so that it is not even the new error's context).
                said = f"({exc.status}, {exc.message})"
                if isinstance(exc, ClientHttpProxyError):
                    failure = httpx.ProxyError(f"the proxy refused {said}")
                else:
                    failure = httpx.RemoteProtocolError(f"malformed answer {said}")
        if failure is None:  # pragma: no cover - the block returns or raises
            failure = httpx.RemoteProtocolError("no answer")
        raise failure
