"""``client.insights``: current insights (N+1 queries, memory bloat, slow queries) and history."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Any

from .._core import Core
from .._exceptions import ResponseFormatError
from .._time import format_time
from ..types._models import Insight, InsightGroup, InsightsOverview, InsightTimeframe
from .checks import check_count, check_id, check_name, check_optional_name
from .shape import field, parse, parse_list
from .windows import checked_window, split_window

__all__ = ["INSIGHT_TYPES", "Insights"]

INSIGHT_TYPES = ("n_plus_one", "memory_bloat", "slow_query")


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
    ) -> AsyncGenerator[Insight, None]:
        """Every insight first seen in ``[start, end)`` (of one ``type``, or all), newest first,
        fetched page by page (``limit`` per request) as you iterate. Arguments are checked now.

        Pages follow Scout's cursor until ``has_more`` is false. A window over 14 days is read
        as consecutive windows, newest first, without duplicates. History pages are large (each
        item carries a trace): keep ``limit`` modest.

        >>> async for insight in client.insights.history(101, start=t0, end=t1, type="n_plus_one"):
        ...     print(insight.first_seen_at, insight.metric_name, insight.trace.uri)
        """
        check_id(app_id)
        start_utc, end_utc = checked_window(start, end)
        kind = check_optional_name(type, INSIGHT_TYPES, "insight type")
        check_count(limit, "limit", 1)
        path = f"/apps/{app_id}/insights/history" + ("" if kind is None else f"/{kind}")
        return self._history(path, start_utc, end_utc, limit)

    async def _history(
        self, path: str, start: datetime, end: datetime, limit: int
    ) -> AsyncGenerator[Insight, None]:
        seen: set[Any] = set()
        for window_start, window_end in reversed(split_window(start, end)):
            async with aclosing(self._window(path, window_start, window_end, limit)) as pages:
                async for insight in pages:
                    if insight.id is None or insight.id not in seen:
                        seen.add(insight.id)
                        yield insight

    async def _window(
        self, path: str, start: datetime, end: datetime, limit: int
    ) -> AsyncGenerator[Insight, None]:
        base = {"from": format_time(start), "to": format_time(end), "limit": str(limit)}
        params = dict(base)
        cursors: set[Any] = set()
        while True:
            results = await self._core.get(path, params)
            items = parse_list(field(results, "insights", list, path), Insight, path)
            pagination = field(results, "pagination", dict, path)
            for item in items:
                yield item
            if pagination.get("has_more") is not True or not items:
                return
            cursor = pagination.get("pagination_cursor")
            if cursor is None or cursor in cursors:
                raise ResponseFormatError(
                    "has_more is true but the answer gives no new pagination_cursor "
                    f"({cursor!r}); the rest of the history cannot be fetched",
                    method="GET",
                    path=path,
                )
            cursors.add(cursor)
            params = base | {"pagination_cursor": str(cursor), "pagination_direction": "forward"}
            next_page = pagination.get("next_pagination_page")
            if next_page is not None:
                params["pagination_page"] = str(next_page)


def _timeframe(raw: Any, path: str) -> InsightTimeframe | None:
    return None if raw is None else parse(raw, InsightTimeframe, path)


def _type_name(value: Any) -> str:
    return type(value).__name__
