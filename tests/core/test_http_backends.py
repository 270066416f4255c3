"""Which HTTP path a client takes (issue 11, item 4): ``http_backend="auto"`` takes httpx-aiohttp's
transport on asyncio when it is installed, httpx's pools otherwise and always on trio; asking for
``"aiohttp"`` where it cannot run is a ``ConfigurationError`` before any request, with a one-line
install hint when the package is missing; an ``http_client`` passed in wins over all of it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import traceback

import anyio
import httpx
import pytest

import scout_async
from scout_async._core import POOL_SIZE
from scout_async.testing import ScoutSimulator, SimulatorServer
from tests.conftest import SECRET
from tests.core.raw_server import RawServer
from tests.test_install import brought_by

HINT = "pip install 'scout-async[aiohttp]'"


@pytest.fixture
def without_httpx_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx-aiohttp as if it were not installed: importing it (and so the client's module
    that uses it, imported afresh) fails."""
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)
    monkeypatch.delitem(sys.modules, "scout_async._aiohttp", raising=False)


def client(url: str = "http://127.0.0.1:1/api/v0", **kwargs: object) -> scout_async.ScoutClient:
    kwargs.setdefault("api_key", SECRET)
    return scout_async.ScoutClient(base_url=url, **kwargs)  # type: ignore[arg-type]


def test_the_aiohttp_extra_brings_its_packages_and_the_test_extra_brings_them_too() -> None:
    assert {"httpx-aiohttp", "aiohttp"} <= brought_by("aiohttp")
    assert {"httpx-aiohttp", "aiohttp"} <= brought_by("test")


@pytest.mark.parametrize("bad", ["requests", "AIOHTTP", "", None, 1, ["httpx"]])
def test_an_unknown_http_backend_is_refused_at_construction(bad: object) -> None:
    with pytest.raises(scout_async.ConfigurationError, match="http_backend must be") as info:
        client(http_backend=bad)
    assert SECRET not in str(info.value)


def test_aiohttp_asked_for_but_not_installed_says_what_to_install(
    without_httpx_aiohttp: None,
) -> None:
    with pytest.raises(scout_async.ConfigurationError) as info:
        client(http_backend="aiohttp")
    message = str(info.value)
    assert message == (
        f"http_backend='aiohttp' needs httpx-aiohttp, which is not installed: {HINT}"
    )
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


async def test_aiohttp_asked_for_but_not_installed_fails_inside_a_loop_too(
    without_httpx_aiohttp: None,
) -> None:
    with pytest.raises(scout_async.ConfigurationError, match=HINT.replace("[", r"\[")):
        client(http_backend="aiohttp")


async def test_auto_without_httpx_aiohttp_takes_httpx(without_httpx_aiohttp: None) -> None:
    async with client(max_concurrency=2 * POOL_SIZE) as c:
        assert c._core.http_backend == "httpx"
        assert c._core.pool_count == 2


def test_auto_outside_a_loop_without_httpx_aiohttp_takes_httpx_at_once(
    without_httpx_aiohttp: None,
) -> None:
    assert client()._core.http_backend == "httpx"


async def test_auto_on_asyncio_takes_aiohttp_with_one_connector() -> None:
    async with client(max_concurrency=4 * POOL_SIZE) as c:
        assert c._core.http_backend == "aiohttp"
        assert c._core.pool_count == 1


async def test_auto_behind_a_proxy_from_the_environment_takes_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # httpx-aiohttp would send through the proxy on its stock transport, which re-encodes URLs.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    async with client() as c:
        assert c._core.http_backend == "httpx"


@pytest.mark.parametrize("backend", ["auto", "httpx", "aiohttp"])
async def test_requests_go_through_a_proxy_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The client sends past httpx's ``AsyncClient.send`` on its own pools, but still through
    the proxy httpx mounts from the environment: the host below resolves nowhere, so only the
    proxy (a bare server on localhost) can answer, and it sees the request in absolute form."""
    with RawServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        async with client("http://api.scout.invalid/api/v0", http_backend=backend) as c:
            assert [app.id for app in await c.apps.list()] == [101]
    assert proxy.targets == ["http://api.scout.invalid/api/v0/apps"]


@pytest.mark.parametrize("backend", ["auto", "httpx", "aiohttp"])
async def test_a_host_in_no_proxy_is_reached_directly(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    with RawServer() as proxy, RawServer() as direct:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with client(direct.url, http_backend=backend) as c:
            assert [app.id for app in await c.apps.list()] == [101]
    assert (proxy.targets, direct.targets) == ([], ["/api/v0/apps"])


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_a_proxy_refusing_to_connect_gets_no_key_into_the_error(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """aiohttp's error for a refused CONNECT carries the URL (the key, with query auth) and is
    rendered from it, not from its message: none of it may reach the error's chain."""
    refusal = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    with RawServer(answer=refusal) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")
        async with client(
            "https://api.scout.invalid/api/v0", http_backend=backend, auth="query", max_retries=0
        ) as c:
            with pytest.raises(scout_async.APIConnectionError) as info:
                await c.apps.list()
    chain: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    said = "".join(traceback.format_exception(info.value)) + "".join(map(repr, chain))
    assert "403" in said
    assert SECRET not in said


async def test_httpx_asked_for_on_asyncio_takes_httpx() -> None:
    async with client(http_backend="httpx", max_concurrency=4 * POOL_SIZE) as c:
        assert c._core.http_backend == "httpx"
        assert c._core.pool_count == 4


def test_auto_made_outside_a_loop_chooses_at_the_first_request(sim: ScoutSimulator) -> None:
    # A client made at import time: no async library runs yet, so nothing is chosen (and no
    # pool made) until a request is, on the library that runs it.
    with SimulatorServer(sim) as server:
        for library, expected in [("asyncio", "aiohttp"), ("trio", "httpx")]:
            c = client(server.url, api_key=sim.api_key)
            assert c._core.http_backend is None
            assert c._core.pool_count == 0

            async def main(c: scout_async.ScoutClient = c) -> None:
                async with c:
                    assert len(await c.apps.list()) == 5

            anyio.run(main, backend=library)
            assert c._core.http_backend == expected
            assert c._core.pool_count == 1


def test_aiohttp_is_imported_only_once_its_path_is_taken() -> None:
    # Importing aiohttp costs a few hundred ms of CPU: not for a client made before any event
    # loop runs, nor for one on trio; on asyncio, at its first request.
    code = """
        import sys, anyio, scout_async
        def loaded():
            return "aiohttp" in sys.modules
        client = scout_async.ScoutClient(api_key="k", base_url="http://127.0.0.1:1")
        print(client._core.http_backend, loaded())
        async def main(backend):
            async with scout_async.ScoutClient(api_key="k", base_url="http://127.0.0.1:1") as c:
                print(c._core.http_backend, loaded())
        anyio.run(main, "trio", backend="trio")
        anyio.run(main, "asyncio", backend="asyncio")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["None False", "httpx False", "aiohttp True"]


def test_auto_on_trio_takes_httpx() -> None:
    async def main() -> None:
        async with client(max_concurrency=2 * POOL_SIZE) as c:
            assert c._core.http_backend == "httpx"
            assert c._core.pool_count == 2

    anyio.run(main, backend="trio")


def test_aiohttp_asked_for_on_trio_is_a_clear_error_at_construction() -> None:
    async def main() -> None:
        with pytest.raises(scout_async.ConfigurationError) as info:
            client(http_backend="aiohttp")
        assert str(info.value) == (
            "http_backend='aiohttp' runs on asyncio only, and this is trio: pass "
            "http_backend='auto' or 'httpx'"
        )

    anyio.run(main, backend="trio")


def test_aiohttp_made_outside_a_loop_then_run_on_trio_fails_before_any_request(
    sim: ScoutSimulator,
) -> None:
    with SimulatorServer(sim) as server:
        c = client(server.url, api_key=sim.api_key, http_backend="aiohttp")

        async def main() -> None:
            async with c:
                for _ in range(2):  # every call says so, none is retried
                    with pytest.raises(scout_async.ConfigurationError, match="asyncio only"):
                        await c.apps.list()
                assert c.stats.requests == 0

        anyio.run(main, backend="trio")
    assert sim.requests == []


@pytest.mark.parametrize("backend", ["auto", "httpx", "aiohttp"])
async def test_an_http_client_passed_in_wins(backend: str, sim: ScoutSimulator) -> None:
    async with SimulatorServer(sim) as server, httpx.AsyncClient() as http:
        async with client(
            server.url, api_key=sim.api_key, http_client=http, http_backend=backend
        ) as c:
            assert c._core.http_backend == "given"
            assert c._core.pool_count == 1
            assert len(await c.apps.list()) == 5
        assert not http.is_closed  # the caller's to close


def test_an_http_client_passed_in_wins_even_without_httpx_aiohttp(
    without_httpx_aiohttp: None,
) -> None:
    http = httpx.AsyncClient()
    assert client(http_client=http, http_backend="aiohttp")._core.http_backend == "given"
