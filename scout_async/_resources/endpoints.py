"""``client.endpoints``: an app's endpoints, listed or paged through (their series are in
``client.metrics`` with ``endpoint_id=``, their traces in ``client.traces``)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from .._core import Core
from .._exceptions import ResponseFormatError
from .._time import format_time
from ..types._models import Endpoint, Page
from .checks import check_count, check_id, check_optional_name
from .shape import field, parse_list
from .windows import short_window

__all__ = ["ENDPOINT_SORT_KEYS", "Endpoints"]

#: ``sort_by`` of ``endpoints.iter``: Scout sorts descending by the field.
ENDPOINT_SORT_KEYS = ("time_consumed", "response_time", "throughput", "error_rate")


def _window_params(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": format_time(start), "to": format_time(end)}


def _endpoint_page(results: Any, path: str) -> Page[Endpoint]:
    """The endpoints of one answer, whether more follow, and Scout's figures (where it sends
    them). Reads both shapes (quirk 5): the bare list, and ``{endpoints, count, total_count,
    has_more}``."""
    if isinstance(results, builtins.list):
        return Page(items=parse_list(results, Endpoint, path), has_more=False)
    items = parse_list(field(results, "endpoints", builtins.list, path), Endpoint, path)
    has_more = results.get("has_more", False)
    if not isinstance(has_more, bool):
        raise ResponseFormatError(
            f"expected results.has_more to be a bool, got {has_more!r}", method="GET", path=path
        )
    # Informational (paging goes by has_more): kept when they are counts.
    return Page(
        items=items,
        has_more=has_more,
        total_count=_count(results.get("total_count")),
        count=_count(results.get("count")),
    )


def _count(value: Any) -> int | None:
    return None if isinstance(value, bool) or not isinstance(value, int) else value


class Endpoints:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, app_id: int, *, start: datetime, end: datetime) -> builtins.list[Endpoint]:
        """Every endpoint of the app with its figures over ``[start, end)`` (at most 14 days),
        in Scout's order, in one request.

        >>> endpoints = await client.endpoints.list(101, start=t0, end=t1)
        >>> [(e.name, e.id, e.p95) for e in endpoints]
        """
        check_id(app_id)
        start_utc, end_utc = short_window(start, end, "endpoints.list")
        path = f"/apps/{app_id}/endpoints"
        results = await self._core.get(path, _window_params(start_utc, end_utc))
        return _endpoint_page(results, path).items

    async def page(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        sort_by: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Endpoint]:
        """One page of the app's endpoints over ``[start, end)``: at most ``limit`` from
        ``offset`` on, optionally sorted descending by ``sort_by``, with Scout's paging figures
        (``total_count`` across all pages, ``count`` of this page, ``has_more``).

        >>> page = await client.endpoints.page(101, start=t0, end=t1, sort_by="throughput")
        >>> page.total_count, [e.name for e in page.items], page.has_more
        """
        check_id(app_id)
        start_utc, end_utc = short_window(start, end, "endpoints.page")
        check_optional_name(sort_by, ENDPOINT_SORT_KEYS, "sort_by")
        check_count(limit, "limit", 1)
        check_count(offset, "offset", 0)
        return await self._page(app_id, start_utc, end_utc, sort_by, limit, offset)

    async def _page(
        self,
        app_id: int,
        start: datetime,
        end: datetime,
        sort_by: str | None,
        limit: int,
        offset: int,
    ) -> Page[Endpoint]:
        path = f"/apps/{app_id}/endpoints"
        params = _window_params(start, end) | {"limit": str(limit), "offset": str(offset)}
        if sort_by is not None:
            params["sort_by"] = sort_by
        return _endpoint_page(await self._core.get(path, params), path)

    def iter(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        sort_by: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AsyncGenerator[Endpoint, None]:
        """Every endpoint from ``offset`` on, page by page (``limit`` per request), optionally
        sorted descending by ``sort_by`` (``time_consumed``, ``response_time``, ``throughput``,
        ``error_rate``). Pages are fetched as you iterate; arguments are checked now.

        A server that does not page as it says cannot make this loop forever: a page of only
        endpoints already yielded, or ``has_more`` past ``total_count``, raises
        ``ResponseFormatError`` (what came before was yielded).

        >>> pages = client.endpoints.iter(101, start=t0, end=t1, sort_by="throughput")
        >>> async for endpoint in pages:
        ...     print(endpoint.name, endpoint.throughput)
        """
        check_id(app_id)
        start_utc, end_utc = short_window(start, end, "endpoints.iter")
        check_optional_name(sort_by, ENDPOINT_SORT_KEYS, "sort_by")
        check_count(limit, "limit", 1)
        check_count(offset, "offset", 0)
        return self._pages(app_id, start_utc, end_utc, sort_by, limit, offset)

    async def _pages(
        self,
        app_id: int,
        start: datetime,
        end: datetime,
        sort_by: str | None,
        limit: int,
        offset: int,
    ) -> AsyncGenerator[Endpoint, None]:
        path = f"/apps/{app_id}/endpoints"
        seen: set[str] = set()
        while True:
            page = await self._page(app_id, start, end, sort_by, limit, offset)
            items, has_more, total = page.items, page.has_more, page.total_count
            ids = {item.id for item in items}
            if items and ids <= seen:
                raise ResponseFormatError(
                    f"the page at offset {offset} repeats only endpoints already listed: the "
                    "server ignores offset, so paging would never end",
                    method="GET",
                    path=path,
                )
            seen |= ids
            for item in items:
                yield item
            if not has_more or not items:  # an empty page ends it even if has_more says not
                return
            offset += len(items)
            if total is not None and offset >= total:
                raise ResponseFormatError(
                    f"has_more is still true at offset {offset}, but total_count is {total}: "
                    "paging would never end",
                    method="GET",
                    path=path,
                )
