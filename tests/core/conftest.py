"""What the core's tests over real localhost HTTP share: a simulator, its server, a count of
this process's open connections to it, and the HTTP paths the transport tests run on."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timezone
from typing import Any, TypeVar

import anyio
import attrs
import psutil
import pytest

import scout_async
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator, SimulatorServer

T = TypeVar("T")

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(now=NOW)


@pytest.fixture
async def server(sim: ScoutSimulator) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(sim) as running:
        yield running


def open_connections(port: int) -> int:
    """This process's established TCP connections to ``port``."""
    return sum(
        1
        for c in psutil.Process(os.getpid()).net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


@pytest.fixture
def live(sim: ScoutSimulator) -> Iterator[SimulatorServer]:
    """The simulator served for a test that runs its own event loop (``HttpPath.run``)."""
    with SimulatorServer(sim) as running:
        yield running


@attrs.frozen
class HttpPath:
    """One way a client's requests travel: the async library that runs it, and the
    ``http_backend`` it is given (``backend``), which must end on ``expected``."""

    library: str
    backend: str
    expected: str

    def __str__(self) -> str:
        return f"{self.library}-{self.backend}"

    def client(self, url: str, **kwargs: Any) -> scout_async.ScoutClient:
        kwargs.setdefault("api_key", DEFAULT_API_KEY)
        return scout_async.ScoutClient(base_url=url, http_backend=self.backend, **kwargs)

    def run(self, main: Callable[..., Awaitable[T]], *args: object) -> T:
        return anyio.run(main, *args, backend=self.library)


#: Every transport test runs on each HTTP path: httpx's pools and httpx-aiohttp's transport on
#: asyncio, and on trio, where ``"auto"`` takes httpx's.
HTTP_PATHS = [
    HttpPath("asyncio", "httpx", "httpx"),
    HttpPath("asyncio", "aiohttp", "aiohttp"),
    HttpPath("trio", "auto", "httpx"),
]


@pytest.fixture(params=HTTP_PATHS, ids=str)
def http(request: pytest.FixtureRequest) -> HttpPath:
    path: HttpPath = request.param
    return path
