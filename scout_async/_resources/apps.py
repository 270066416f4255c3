"""``client.apps``: the applications the key can see."""

from __future__ import annotations

from .._core import Core
from ..types._models import App
from .checks import check_id
from .shape import field, parse, parse_list

__all__ = ["Apps"]


class Apps:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self) -> list[App]:
        """Every app the key can see.

        >>> [app.name for app in await client.apps.list()]
        """
        path = "/apps"
        results = await self._core.get(path)
        return parse_list(field(results, "apps", list, path), App, path)

    async def get(self, app_id: int) -> App:
        """One app; an unknown id raises ``NotFoundError``.

        >>> app = await client.apps.get(101)
        """
        path = f"/apps/{check_id(app_id)}"
        results = await self._core.get(path)
        return parse(field(results, "app", dict, path), App, path)
