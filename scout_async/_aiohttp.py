"""The aiohttp path (``ScoutClient(http_backend="aiohttp")``): httpx-aiohttp's client, on its
transport with one change, so that each URL leaves exactly as httpx encoded it.

Imported only when that path is taken: it imports aiohttp (a few hundred ms, once).
"""

from __future__ import annotations

import ssl
from urllib.request import getproxies

import httpx
from aiohttp import (
    ClientResponse,
    ClientResponseError,
    ClientSession,
    ClientTimeout,
    TCPConnector,
)
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions
from yarl import URL

__all__ = ["make_client"]


def make_client(
    *, timeout: httpx.Timeout, connections: int, verify: ssl.SSLContext
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on aiohttp, holding up to ``connections`` alive for reuse."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # httpx mounts no proxy from the environment over a transport passed in: aiohttp takes
    # them (``VerbatimTransport.get_client``).
    return HttpxAiohttpClient(
        timeout=timeout,
        limits=limits,
        verify=verify,
        transport=VerbatimTransport(limits=limits, verify=verify),
    )


class VerbatimTransport(AiohttpTransport):
    """httpx-aiohttp's transport, handing aiohttp the URL as httpx encoded it.

    httpx-aiohttp passes ``str(request.url)``, which aiohttp parses again with yarl, and yarl
    "requotes" it: ``%3D`` in a path becomes ``=`` (aio-libs/aiohttp#2188, #4307), so an
    endpoint id's base64 padding would leave differently than on httpx's path. A
    ``yarl.URL(..., encoded=True)`` is sent as it is. The rest is httpx-aiohttp's request
    handling for what the client sends: a GET with at most a small body; a proxy from the
    environment is aiohttp's to take (``get_client``)."""

    def get_client(self) -> ClientSession:
        # httpx mounts no proxy from the environment over a transport passed in, so aiohttp
        # takes them itself (``trust_env``: HTTP_PROXY, HTTPS_PROXY, NO_PROXY), and the URL
        # still leaves verbatim through one. Only when there are some: ``trust_env`` also
        # looks for a ~/.netrc, in a thread, at every request.
        connector = TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        return ClientSession(connector=connector, trust_env=bool(getproxies()))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
        failure: str | None = None
        try:
            response = await self._send(self.client, request)
        except ClientResponseError as exc:
            # An answer aiohttp cannot parse (a bad status line, a header over its limit). Its
            # error carries the request's URL and headers (the key, in either auth mode) and
            # httpx-aiohttp does not map it: say what was wrong, and keep nothing of it (raised
            # outside this block, so that it is not even the new error's context).
            failure = f"malformed answer ({exc.status}, {exc.message})"
        if failure is not None:
            raise httpx.RemoteProtocolError(failure)
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpResponseStream(response),
            request=request,
            extensions=extensions,
        )

    async def _send(self, session: ClientSession, request: httpx.Request) -> ClientResponse:
        timeout = request.extensions.get("timeout", {})
        connect, pool = timeout.get("connect"), timeout.get("pool")
        with map_aiohttp_exceptions():
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
                    # aiohttp's ``connect`` spans the wait for a pool slot and the connecting
                    # itself, httpx's ``pool`` the wait alone: both of httpx's bounds, summed.
                    connect=None if connect is None or pool is None else connect + pool,
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            ).__aenter__()
