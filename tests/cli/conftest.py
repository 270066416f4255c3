"""Every CLI test runs without the developer's config file, profile or default app."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "scout-config" / "config.json"
    monkeypatch.setenv("SCOUT_CONFIG", str(path))
    for name in ("SCOUT_PROFILE", "SCOUT_APP", "SCOUT_HEARTBEAT"):
        monkeypatch.delenv(name, raising=False)
    return path
