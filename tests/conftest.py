from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.lowlevel
import pytest

import scout_async
from scout_async import _transport

BASE_URL = "https://scout.test/api/v0"
SECRET = "sk-live-S3CR3T-0123456789"
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "scout-api" / "fixtures"


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


class VirtualClock:
    """Stands in for the transport's clock: sleeps advance time at once and are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Let the other tasks run first, at the time the sleep began; then wake at its end.
        self.sleeps.append(seconds)
        wake = self.now + max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
        self.now = max(self.now, wake)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    fake = VirtualClock()
    monkeypatch.setattr(_transport, "_now", fake.time)
    monkeypatch.setattr(_transport, "_sleep", fake.sleep)
    return fake


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[scout_async.ScoutClient]:
    async with scout_async.ScoutClient(api_key=SECRET, base_url=BASE_URL) as c:
        yield c
