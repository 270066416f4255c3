"""``client.apps``: the applications the key can see."""

from __future__ import annotations

from .._models import App
from .._transport import Transport
from ._shape import field, parse, parse_list
from ._validate import check_id

__all__ = ["Apps"]


class Apps:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def list(self) -> list[App]:
        """Every app the key can see.

        >>> [app.name for app in await client.apps.list()]
        """
        path = "/apps"
        results = await self._transport.get(path)
        return parse_list(field(results, "apps", list, path), App, path)

    async def get(self, app_id: int) -> App:
        """One app; an unknown id raises ``NotFoundError``.

        >>> app = await client.apps.get(101)
        """
        path = f"/apps/{check_id(app_id)}"
        results = await self._transport.get(path)
        return parse(field(results, "app", dict, path), App, path)
