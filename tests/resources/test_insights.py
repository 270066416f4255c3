"""client.insights: current insights (``list``: every type; ``get``: one) and the cursor-paged
history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

import scout_async
from scout_async import ScoutClient
from scout_async.types import Insight, InsightTimeframe
from tests.conftest import BASE_URL, envelope
from tests.resources.conftest import assert_argument_error

UTC = timezone.utc
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
T0 = NOW - timedelta(days=2)
TIMEFRAME = {
    "start_time": "2026-03-30T12:00:00Z",
    "end_time": "2026-03-31T12:00:00Z",
    "duration_minutes": 1440,
}
HISTORY = f"{BASE_URL}/apps/101/insights/history"


def current(ident: int, **facts: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "metric_name": "Controller/users/index",
        "first_seen_at": "2026-03-29T10:00:00Z",
        "new": False,
        **facts,
    }


async def test_list_keeps_every_type_and_the_facts(client: ScoutClient) -> None:
    body = {
        "timeframe": TIMEFRAME,
        "insights": {
            "n_plus_one": {
                "count": 9,
                "new_count": 1,
                "items": [current(1, call_count=40, sql="SELECT 1")],
            },
            "slow_query": {
                "count": 1,
                "new_count": 0,
                "items": [{"id": 2, "name": "slow", "fields": {"duration_ms": 900}}],
            },
            "cpu_hog": {"count": 0, "new_count": 0, "items": None},  # a type added later
        },
    }
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/insights").respond(json=envelope(body))
        overview = await client.insights.list(101, limit=1)
    assert route.calls.last.request.url.params["limit"] == "1"
    assert overview.timeframe == InsightTimeframe(
        start_time=datetime(2026, 3, 30, 12, tzinfo=UTC),
        end_time=datetime(2026, 3, 31, 12, tzinfo=UTC),
        duration_minutes=1440,
    )
    assert list(overview.groups) == ["n_plus_one", "slow_query", "cpu_hog"]
    n_plus_one = overview.groups["n_plus_one"]
    assert (n_plus_one.insight_type, n_plus_one.count, n_plus_one.new_count) == (
        "n_plus_one",
        9,
        1,
    )
    assert n_plus_one.items == [
        Insight(
            id=1,
            insight_type="n_plus_one",
            metric_name="Controller/users/index",
            first_seen_at=datetime(2026, 3, 29, 10, tzinfo=UTC),
            new=False,
            fields={"call_count": 40, "sql": "SELECT 1"},
        )
    ]
    assert overview.groups["slow_query"].items[0].fields == {"duration_ms": 900}
    assert overview.groups["cpu_hog"].items == []


async def test_get_by_type(client: ScoutClient) -> None:
    body = {
        "timeframe": TIMEFRAME,
        "total_count": 12,
        "insight_type": "slow_query",
        "new_count": 2,
        "items": [current(5, sql="SELECT 2", duration_ms=1200.5)],
    }
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/apps/101/insights/slow_query").respond(json=envelope(body))
        slow = await client.insights.get(101, "slow_query")
    assert route.calls.last.request.url.params["limit"] == "20"
    assert (slow.insight_type, slow.count, slow.new_count) == ("slow_query", 12, 2)
    assert slow.timeframe is not None
    assert slow.timeframe.duration_minutes == 1440
    assert slow.items[0].fields == {"sql": "SELECT 2", "duration_ms": 1200.5}


async def test_get_reads_items_sent_as_an_object(client: ScoutClient) -> None:
    body = {
        "total_count": 1,
        "insight_type": "memory_bloat",
        "new_count": 0,
        "items": {"a": current(3)},
    }
    with respx.mock() as router:
        router.get(f"{BASE_URL}/apps/101/insights/memory_bloat").respond(json=envelope(body))
        bloat = await client.insights.get(101, "memory_bloat", limit=3)
    assert [item.id for item in bloat.items] == [3]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda c: c.insights.get(101, "cpu_hog"), ValueError, "n_plus_one"),
        (lambda c: c.insights.list(101, limit=0), ValueError, "limit"),
        (lambda c: c.insights.get(101, "slow_query", limit=2.5), TypeError, "limit"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    call: Any, error: type[Exception], match: str, client: ScoutClient
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(error, match=match) as info:
            await call(client)
    assert route.call_count == 0
    assert_argument_error(info, error)


# -- history -----------------------------------------------------------------------------------


def historic(ident: int) -> dict[str, Any]:
    return {
        "id": ident,
        "insight_type": "n_plus_one",
        "first_seen_at": "2026-03-30T10:00:00Z",
        "metric_name": "Controller/users/index",
        "fields": {"call_count": 40},
        "trace": {
            "id": ident * 10,
            "time": "2026-03-30T10:00:00Z",
            "spans": [{"id": "1", "parent_id": None, "operation": "Controller/users/index"}],
        },
    }


def history_page(
    ids: list[int], has_more: bool, cursor: int | None, next_page: int | None
) -> httpx.Response:
    body = {
        "total_count": 5,
        "insights": [historic(i) for i in ids],
        "pagination": {
            "has_more": has_more,
            "pagination_cursor": cursor,
            "next_pagination_page": next_page,
        },
    }
    return httpx.Response(200, json=envelope(body))


async def test_history_follows_the_cursor_to_the_last_page(client: ScoutClient) -> None:
    pages = [
        history_page([50, 40], True, 40, 2),
        history_page([30, 20], True, 20, 3),
        history_page([10], False, None, None),
    ]
    with respx.mock() as router:
        route = router.get(f"{HISTORY}/n_plus_one").mock(side_effect=pages)
        insights = [
            i
            async for i in client.insights.history(
                101, start=T0, end=NOW, type="n_plus_one", limit=2
            )
        ]
    assert [i.id for i in insights] == [50, 40, 30, 20, 10]
    assert insights[0].trace is not None
    assert insights[0].trace.root_spans[0].operation == "Controller/users/index"
    assert insights[0].fields == {"call_count": 40}
    sent = [dict(call.request.url.params) for call in route.calls]
    window = {"from": "2026-03-29T12:00:00Z", "to": "2026-03-31T12:00:00Z", "limit": "2"}
    assert sent == [
        window,
        window
        | {"pagination_cursor": "40", "pagination_direction": "forward", "pagination_page": "2"},
        window
        | {"pagination_cursor": "20", "pagination_direction": "forward", "pagination_page": "3"},
    ]


async def test_history_over_fourteen_days_reads_windows_newest_first(client: ScoutClient) -> None:
    start = NOW - timedelta(days=20)
    cut = start + timedelta(days=14)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["from"] == cut.strftime("%Y-%m-%dT%H:%M:%SZ"):
            return history_page([9, 8], False, None, None)
        return history_page([8, 7], False, None, None)  # 8 sits on the shared boundary

    with respx.mock() as router:
        route = router.get(HISTORY).mock(side_effect=answer)
        ids = [i.id async for i in client.insights.history(101, start=start, end=NOW)]
    assert ids == [9, 8, 7]
    assert [c.request.url.params["to"] for c in route.calls] == [
        "2026-03-31T12:00:00Z",
        cut.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


async def test_history_stops_on_an_empty_page(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(HISTORY).mock(
            side_effect=[history_page([3], True, 3, 2), history_page([], True, 1, 3)]
        )
        ids = [i.id async for i in client.insights.history(101, start=T0, end=NOW)]
    assert ids == [3]
    assert route.call_count == 2


@pytest.mark.parametrize(
    "pages",
    [
        [history_page([3], True, None, None)],  # more, but no cursor to get it
        [history_page([3], True, 3, 2), history_page([2], True, 3, 3)],  # the cursor repeats
    ],
)
async def test_history_that_cannot_advance_is_an_error(
    pages: list[httpx.Response], client: ScoutClient
) -> None:
    got: list[int | None] = []

    async def read_all() -> None:
        async for insight in client.insights.history(101, start=T0, end=NOW):
            got.append(insight.id)

    with respx.mock() as router:
        router.get(HISTORY).mock(side_effect=pages)
        with pytest.raises(scout_async.ResponseFormatError, match="pagination_cursor"):
            await read_all()
    assert got[0] == 3  # what came before the failure was delivered


async def test_history_checks_arguments_at_the_call(client: ScoutClient) -> None:
    with pytest.raises(scout_async.ArgumentError, match="insight type"):
        client.insights.history(101, start=T0, end=NOW, type="cpu_hog")
    with pytest.raises(scout_async.ArgumentError, match="limit"):
        client.insights.history(101, start=T0, end=NOW, limit=0)
    with pytest.raises(scout_async.ArgumentError, match="before"):
        client.insights.history(101, start=NOW, end=T0)
