from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio.lowlevel
import pytest
import respx.mocks

import scout_async

BASE_URL = "https://scout.test/api/v0"
SECRET = "sk-live-S3CR3T-0123456789"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def envelope(results: Any, code: int = 200, message: str = "OK") -> dict[str, Any]:
    return {
        "header": {"status": {"code": code, "message": message}, "apiVersion": "0.1"},
        "results": results,
    }


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the developer's own Scout and terminal settings."""
    for name in ("SCOUT_API_KEY", "SCOUT_API_URL", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _respx_mocks_any_http_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """``respx.mock()`` intercepts at httpx's client, not httpcore's pool (its default), so its
    routes answer on either HTTP path of the client: ``http_backend="auto"`` takes
    httpx-aiohttp's transport on asyncio, which httpcore's patch never sees."""
    monkeypatch.setattr(respx.mocks, "DEFAULT_MOCKER", "httpx")


class VirtualClock:
    """A ``scout_async.Clock`` on virtual time: sleeps advance it at once and are recorded.

    ``time`` is the monotonic reading in seconds; ``wall`` is what ``now()`` reports at
    ``time == START`` (the wall clock moves with every sleep).
    """

    START = 1000.0

    def __init__(self, wall: datetime = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)) -> None:
        self.now_s = self.START
        self.wall = wall
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now_s

    def monotonic(self) -> float:
        return self.now_s

    def now(self) -> datetime:
        return self.wall + timedelta(seconds=self.now_s - self.START)

    async def sleep(self, seconds: float) -> None:
        # Let the other tasks run first, at the time the sleep began; then wake at its end.
        self.sleeps.append(seconds)
        wake = self.now_s + max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
        self.now_s = max(self.now_s, wake)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[scout_async.ScoutClient]:
    async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL, clock=clock) as c:
        yield c
