"""``client.usage()``: the organization's usage in the current billing period."""

from __future__ import annotations

from .._models_api import Usage
from .._transport import Transport
from ._shape import parse

__all__ = ["UsageResource"]


class UsageResource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get(self) -> Usage:
        """The usage of the current billing period (``client.usage()`` calls this).

        >>> usage = await client.usage()
        """
        path = "/usage"
        results = await self._transport.get(path)
        # Undocumented answer: read it bare, or wrapped in ``{"usage": {...}}``.
        if isinstance(results, dict) and set(results) == {"usage"}:
            results = results["usage"]
        return parse(results, Usage, path)
