from __future__ import annotations

import pytest

from .support import promtool_path


@pytest.fixture
def promtool() -> str:
    """promtool's path: a skip where it is missing, a failure under CI (CI=true)."""
    return promtool_path()
