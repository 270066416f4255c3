"""``client.insights``: current insights (N+1 queries, memory bloat, slow queries) and history."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime, timezone
from typing import Any

from .._core import Core
from .._exceptions import ResponseFormatError
from .._time import format_time
from ..types._models import Insight, InsightGroup, InsightsOverview, InsightTimeframe, Page
from .checks import check_count, check_id, check_name, check_optional_name
from .shape import field, parse, parse_list
from .windows import checked_window, short_window, split_window

__all__ = ["DIRECTIONS", "INSIGHT_TYPES", "Insights"]

INSIGHT_TYPES = ("n_plus_one", "memory_bloat", "slow_query")
#: ``pagination_direction`` of insights history (openapi.yaml: ``forward``, the default, or
#: ``backward``).
DIRECTIONS = ("forward", "backward")


def _items(raw: Any, kind: str) -> Any:
    # The spec calls a type's items an object, Scout's CLI reads a list: take either.
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        return items  # not a list: the structuring reports it
    return [{"insight_type": kind, **item} if isinstance(item, dict) else item for item in items]


def _group(raw: Any, kind: str, timeframe: Any, path: str) -> InsightGroup:
    if not isinstance(raw, dict):
        raise ResponseFormatError(
            f"expected the {kind} insights to be an object, got {type(raw).__name__}",
            method="GET",
            path=path,
        )
    group = {
        "insight_type": raw.get("insight_type", kind),
        "count": raw.get("count", raw.get("total_count")),
        "new_count": raw.get("new_count"),
        "items": _items(raw.get("items"), kind),
        "timeframe": timeframe,
    }
    return parse(group, InsightGroup, path)


class Insights:
    def __init__(self, core: Core) -> None:
        self._core = core

    async def list(self, app_id: int, *, limit: int = 20) -> InsightsOverview:
        """Every type's current insights, at most ``limit`` items per type.

        >>> overview = await client.insights.list(101)
        >>> overview.groups["n_plus_one"].items[0].fields
        """
        path = f"/apps/{check_id(app_id)}/insights"
        params = {"limit": str(check_count(limit, "limit", 1))}
        results = await self._core.get(path, params)
        timeframe = results.get("timeframe") if isinstance(results, dict) else None
        groups = {
            str(kind): _group(raw, str(kind), timeframe, path)
            for kind, raw in field(results, "insights", dict, path).items()
        }
        return InsightsOverview(timeframe=_timeframe(timeframe, path), groups=groups)

    async def get(self, app_id: int, type: str, *, limit: int = 20) -> InsightGroup:
        """The current insights of one type (``n_plus_one``, ``memory_bloat``, ``slow_query``),
        at most ``limit`` items.

        >>> slow = await client.insights.get(101, "slow_query", limit=5)
        >>> slow.count, [item.fields.get("sql") for item in slow.items]
        """
        check_id(app_id)
        kind = check_name(type, INSIGHT_TYPES, "insight type")
        path = f"/apps/{app_id}/insights/{kind}"
        params = {"limit": str(check_count(limit, "limit", 1))}
        results = await self._core.get(path, params)
        if not isinstance(results, dict):
            raise ResponseFormatError(
                f"expected an object, got {_type_name(results)}", method="GET", path=path
            )
        return _group(results, kind, results.get("timeframe"), path)

    def history(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        type: str | None = None,
        limit: int = 20,
        direction: str = "forward",
        cursor: int | str | None = None,
    ) -> AsyncGenerator[Insight, None]:
        """Every insight first seen in ``[start, end)`` (of one ``type``, or all), fetched page by
        page (``limit`` per request) as you iterate. Arguments are checked now.

        ``direction="forward"`` (Scout's default) reads from the newest insight to the oldest;
        ``"backward"`` from the oldest to the newest (each page sorted oldest first). ``cursor``
        (an ``Insight.id``, or a ``Page.cursor`` of ``history_page``) starts after that insight
        in the chosen direction: ``direction="backward", cursor=last_seen.id`` gives what is new
        since. Pages follow Scout's cursor until ``has_more`` is false. A window over 14 days is
        read as consecutive windows (newest first forward, oldest first backward), without
        duplicates. History pages are large (each item carries a trace): keep ``limit`` modest.

        >>> async for insight in client.insights.history(101, start=t0, end=t1, type="n_plus_one"):
        ...     print(insight.first_seen_at, insight.metric_name, insight.trace.uri)
        """
        path, start_utc, end_utc = self._history_args(app_id, start, end, type, limit, direction)
        _check_cursor(cursor)
        return self._history(path, start_utc, end_utc, limit, direction, cursor)

    async def history_page(
        self,
        app_id: int,
        *,
        start: datetime,
        end: datetime,
        type: str | None = None,
        limit: int = 20,
        direction: str = "forward",
        cursor: int | str | None = None,
        page: int | None = None,
    ) -> Page[Insight]:
        """One page of insight history over ``[start, end)`` (at most 14 days), with Scout's
        figures: ``total_count`` (insights in the window), ``has_more``, and the ``cursor`` and
        ``next_page`` to pass for the following page in the same ``direction``.

        >>> first = await client.insights.history_page(101, start=t0, end=t1, limit=10)
        >>> first.total_count, len(first.items)
        >>> second = await client.insights.history_page(
        ...     101, start=t0, end=t1, limit=10, cursor=first.cursor, page=first.next_page
        ... )
        """
        path, start_utc, end_utc = self._history_args(app_id, start, end, type, limit, direction)
        short_window(start_utc, end_utc, "insights.history_page")
        _check_cursor(cursor)
        if page is not None:
            check_count(page, "page", 1)
        return await self._page(path, start_utc, end_utc, limit, direction, cursor, page)

    def _history_args(
        self,
        app_id: int,
        start: datetime,
        end: datetime,
        type: str | None,
        limit: int,
        direction: str,
    ) -> tuple[str, datetime, datetime]:
        check_id(app_id)
        start_utc, end_utc = checked_window(start, end)
        kind = check_optional_name(type, INSIGHT_TYPES, "insight type")
        check_count(limit, "limit", 1)
        check_name(direction, DIRECTIONS, "direction")
        path = f"/apps/{app_id}/insights/history" + ("" if kind is None else f"/{kind}")
        return path, start_utc, end_utc

    async def _history(
        self,
        path: str,
        start: datetime,
        end: datetime,
        limit: int,
        direction: str,
        cursor: int | str | None,
    ) -> AsyncGenerator[Insight, None]:
        seen: set[Any] = set()
        windows = split_window(start, end)
        for window_start, window_end in windows if direction == "backward" else windows[::-1]:
            pages = self._window(path, window_start, window_end, limit, direction, cursor)
            async with aclosing(pages) as insights:
                async for insight in insights:
                    if insight.id is None or insight.id not in seen:
                        seen.add(insight.id)
                        yield insight

    async def _window(
        self,
        path: str,
        start: datetime,
        end: datetime,
        limit: int,
        direction: str,
        cursor: int | str | None,
    ) -> AsyncGenerator[Insight, None]:
        cursors: set[Any] = set()
        page_number: int | None = None
        while True:
            page = await self._page(path, start, end, limit, direction, cursor, page_number)
            for item in page.items:
                yield item
            if not page.has_more or not page.items:
                return
            if page.cursor is None or page.cursor in cursors:
                raise ResponseFormatError(
                    "has_more is true but the answer gives no new pagination_cursor "
                    f"({page.cursor!r}); the rest of the history cannot be fetched",
                    method="GET",
                    path=path,
                )
            cursors.add(page.cursor)
            cursor, page_number = page.cursor, page.next_page

    async def _page(
        self,
        path: str,
        start: datetime,
        end: datetime,
        limit: int,
        direction: str,
        cursor: int | str | None,
        page: int | None,
    ) -> Page[Insight]:
        params = {"from": format_time(start), "to": format_time(end), "limit": str(limit)}
        if cursor is not None or direction != "forward":
            if cursor is not None:
                params["pagination_cursor"] = str(cursor)
            params["pagination_direction"] = direction
        if page is not None:
            params["pagination_page"] = str(page)
        results = await self._core.get(path, params)
        items = parse_list(field(results, "insights", list, path), Insight, path)
        pagination = field(results, "pagination", dict, path)
        if direction == "backward":
            # Oldest first across pages, so within each page too (by when first seen).
            items.sort(key=lambda item: _first_seen(item))
        return Page(
            items=items,
            has_more=pagination.get("has_more") is True,
            total_count=_count(results.get("total_count")),
            count=len(items),
            cursor=_cursor(pagination.get("pagination_cursor")),
            next_page=_count(pagination.get("next_pagination_page")),
        )


_FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


def _first_seen(item: Insight) -> datetime:
    return item.first_seen_at or _FAR_FUTURE


def _count(value: Any) -> int | None:
    """A count or cursor as Scout sends it (an integer, or its digits), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _cursor(value: Any) -> int | str | None:
    """Scout's cursor (an insight id, says the spec), kept as sent if it is one at all."""
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int) or (isinstance(value, str) and value) else None


def _check_cursor(value: object) -> None:
    if value is None or (isinstance(value, str) and value.strip()):
        return
    check_count(value, "cursor", 0)


def _timeframe(raw: Any, path: str) -> InsightTimeframe | None:
    return None if raw is None else parse(raw, InsightTimeframe, path)


def _type_name(value: Any) -> str:
    return type(value).__name__
