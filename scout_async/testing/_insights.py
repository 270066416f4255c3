"""Insights (N+1 queries, memory bloat, slow queries): the current set and their history.

Documented: the three types, ``limit``, the history's cursor paging and ``total_count``
(openapi.yaml); "cached for 5 minutes" (openapi.yaml getAllInsights). Observed: an item's ``id``,
``name`` and type-specific ``fields`` (Scout's Go CLI internal/api/types.go, InsightItem). The
timeframe's 24 hours and what a backward page holds are assumed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs

from ._catalog import AppModel, EndpointModel, formatted_method_name
from ._facts import INSIGHT_TYPES
from ._noise import mix, unit
from ._rules import EPOCH, format_time
from ._traces import TraceRef, trace_detail

__all__ = ["HistoryPage", "current_insights", "history_page", "insight_timeframe"]

_SLOT = 3 * 3600  # at most one insight is first seen per app and three-hour slot
_TAG = 0x15
_SQL = (
    'SELECT "line_items".* FROM "line_items" WHERE "line_items"."order_id" = $1',
    'SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2',
    'SELECT COUNT(*) FROM "events" WHERE "events"."account_id" = $1 AND "events"."created_at" > $2',
    'SELECT "products".* FROM "products" ORDER BY "products"."updated_at" DESC',
)
# How many current insights of each type an app has, before `limit`.
_CURRENT = {"n_plus_one": (3, 9), "memory_bloat": (1, 4), "slow_query": (4, 25)}


def insight_timeframe(now: datetime) -> dict[str, Any]:
    """The last 24 hours, ending at a 5-minute mark: Scout caches insights for 5 minutes."""
    end = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    start = end - timedelta(days=1)
    return {
        "start_time": format_time(start),
        "end_time": format_time(end),
        "duration_minutes": 1440,
    }


def _fields(kind: str, seed: int, key: int) -> dict[str, Any]:
    """The type-specific facts of an insight."""

    def draw(tag: int) -> float:
        return unit(seed, key, tag, _TAG)

    sql = _SQL[mix(seed, key, _TAG) % len(_SQL)]
    if kind == "n_plus_one":
        calls = 20 + int(draw(1) * 400)
        return {
            "call_count": calls,
            "sql": sql,
            "time_impact_ms": round(calls * (0.4 + 2 * draw(2)), 2),
        }
    if kind == "memory_bloat":
        return {
            "allocations": int(500_000 + draw(3) * 4_000_000),
            "mem_delta_mb": round(40 + 300 * draw(4), 1),
        }
    return {
        "sql": sql,
        "duration_ms": round(300 + 4_000 * draw(5), 2),
        "call_count": 1 + int(draw(6) * 50),
    }


def _current(app: AppModel, kind: str, now: datetime) -> list[dict[str, Any]]:
    seed = app.source.seed
    low, high = _CURRENT[kind]
    count = low + mix(seed, app.id, INSIGHT_TYPES.index(kind), _TAG) % (high - low + 1)
    items = []
    for n in range(count):
        endpoint = app.endpoints[mix(seed, app.id, kind == "slow_query", n) % len(app.endpoints)]
        age_hours = int(unit(seed, app.id, n, INSIGHT_TYPES.index(kind)) * 24 * 14)
        first_seen = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=age_hours)
        items.append(
            {
                "id": app.id * 1000 + INSIGHT_TYPES.index(kind) * 100 + n,
                "name": formatted_method_name(endpoint.name),
                "metric_name": f"Controller/{endpoint.name}",
                "first_seen_at": format_time(first_seen),
                "new": age_hours < 24,
                "fields": _fields(kind, seed, app.id * 1000 + n),
            }
        )
    return items


def current_insights(app: AppModel, kind: str, now: datetime, limit: int) -> dict[str, Any]:
    """``{count, new_count, items}`` of one type, at most ``limit`` items.

    An item is ``{id, name, metric_name, first_seen_at, new, fields}``: Scout's CLI reads
    ``id``, ``name`` and the type-specific ``fields`` object; the spec leaves items open.
    """
    items = _current(app, kind, now)
    return {
        "count": len(items),
        "new_count": sum(1 for i in items if i["new"]),
        "items": items[:limit],
    }


@attrs.frozen
class _Historic:
    id: int
    kind: str
    time: int
    endpoint: EndpointModel


def _history(
    app: AppModel, start: datetime, end: datetime, now: datetime, kind: str | None
) -> list[_Historic]:
    seed = app.source.seed
    lo = (start - EPOCH) // timedelta(seconds=1)
    hi = min((end - EPOCH) // timedelta(seconds=1), (now - EPOCH) // timedelta(seconds=1) + 1)
    found = []
    for slot in range(lo // _SLOT, (hi - 1) // _SLOT + 1):
        if unit(seed, app.id, slot, _TAG) >= 0.75:
            continue
        t = slot * _SLOT + mix(seed, app.id, slot, _TAG + 1) % _SLOT
        index = mix(seed, app.id, slot, _TAG + 2) % len(INSIGHT_TYPES)
        if lo <= t < hi and (kind is None or INSIGHT_TYPES[index] == kind):
            endpoint = app.endpoints[mix(seed, app.id, slot, _TAG + 3) % len(app.endpoints)]
            # Ids grow with time, as database ids would; the cursor is such an id.
            found.append(_Historic((t // 60) * 4 + index, INSIGHT_TYPES[index], t, endpoint))
    found.sort(key=lambda h: h.id, reverse=True)
    return found


def _historic_json(item: _Historic) -> dict[str, Any]:
    # Slot number 3 is never used by sampled traces, so this id cannot collide with one.
    trace = trace_detail(TraceRef(item.endpoint, item.time, 3))
    return {
        "id": item.id,
        "insight_type": item.kind,
        "first_seen_at": format_time(EPOCH + timedelta(seconds=item.time)),
        "metric_name": f"Controller/{item.endpoint.name}",
        "trace": trace,
        "fields": _fields(item.kind, item.endpoint.source.seed, item.id),
    }


@attrs.frozen
class HistoryPage:
    """The arguments of one history call, after checking."""

    limit: int = 10
    cursor: int | None = None
    direction: str = "forward"
    page: int = 1


def history_page(
    app: AppModel,
    start: datetime,
    end: datetime,
    now: datetime,
    kind: str | None,
    page: HistoryPage,
) -> dict[str, Any]:
    """One page of insight history, newest first.

    Forward pages continue after the cursor (older insights), backward pages come before it
    (newer ones). The answer's ``pagination_cursor`` is the id to pass for the following page in
    the same direction, and null with ``has_more`` false on the last page.

    Assumed: the spec names the parameters (``pagination_cursor`` "insight ID",
    ``pagination_direction`` forward|backward) but not what a backward page holds; this reading
    (the ``limit`` insights just newer than the cursor, or the oldest ones without a cursor) is
    the simulator's. Ids grow with time, as database ids would.
    """
    items = _history(app, start, end, now, kind)
    if page.direction == "forward":
        rest = items if page.cursor is None else [i for i in items if i.id < page.cursor]
        chosen, has_more = rest[: page.limit], len(rest) > page.limit
        cursor = chosen[-1].id if has_more else None
        next_page = page.page + 1 if has_more else None
    else:
        rest = items if page.cursor is None else [i for i in items if i.id > page.cursor]
        chosen, has_more = rest[-page.limit :], len(rest) > page.limit
        cursor = chosen[0].id if has_more else None
        next_page = max(1, page.page - 1) if has_more else None
    return {
        "total_count": len(items),
        "insights": [_historic_json(i) for i in chosen],
        "pagination": {
            "has_more": has_more,
            "pagination_cursor": cursor,
            "next_pagination_page": next_page,
        },
    }
