"""``client.usage``: the organization's usage in the current billing period."""

from __future__ import annotations

from .._core import Core
from ..types._models import Usage
from .shape import parse

__all__ = ["UsageResource"]


class UsageResource:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def get(self) -> Usage:
        """The usage of the current billing period.

        >>> usage = await client.usage.get()
        >>> usage.billing_period.start, usage.apm.total_transactions
        """
        path = "/usage"
        results = await self._core.get(path)
        # Undocumented answer: read it bare, or wrapped in ``{"usage": {...}}``.
        if isinstance(results, dict) and set(results) == {"usage"}:
            results = results["usage"]
        return parse(results, Usage, path)
