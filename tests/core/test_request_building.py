"""The requests the core builds for its own pools are the ones httpx's build_request makes."""

from __future__ import annotations

import json

import httpx
import pytest

from scout_async import ScoutClient

KEY = "sk-build-0123456789abcdef"


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("auth", ["header", "query", "body"])
@pytest.mark.parametrize(
    "params",
    [
        None,
        {"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T12:00:00Z"},
        {"sort_by": "a b&c=d/é", "limit": "50"},
    ],
)
async def test_a_request_for_our_pools_is_what_build_request_makes(
    backend: str, auth: str, params: dict[str, str] | None
) -> None:
    async with ScoutClient(
        api_key=KEY, base_url="http://127.0.0.1:1/api/v0", auth=auth, http_backend=backend
    ) as client:
        core = client._core
        core._settle_http()
        pool = core._pools[0]
        path = "/apps/101/endpoints/R0VUIC9hK2I%3D/metrics/response_time"
        built = core._build_request(pool, path, params)
        core._plain_headers = None  # the path a caller's own client takes: httpx's own
        reference = core._build_request(pool, path, params)
    assert str(built.url) == str(reference.url)
    assert sorted(built.headers.multi_items()) == sorted(reference.headers.multi_items())
    assert built.content == reference.content
    assert built.extensions == reference.extensions
    if auth == "body":
        assert json.loads(built.content) == {"key": KEY}


async def test_a_given_client_keeps_its_own_cookies_and_headers() -> None:
    given = httpx.AsyncClient(headers={"X-Team": "blue"}, cookies={"session": "s1"})
    async with ScoutClient(
        api_key=KEY, base_url="http://127.0.0.1:1/api/v0", http_client=given
    ) as client:
        request = client._core._build_request(given, "/apps", None)
    await given.aclose()
    assert request.headers["X-Team"] == "blue"
    assert request.headers["Cookie"] == "session=s1"
