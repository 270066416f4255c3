"""client.errors, the 30-day lookback and 14-day splitting of list calls, and the typed errors of
every new resource call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

import scout_async
from scout_async import ScoutClient
from scout_async._resources import windows
from scout_async._time import parse_time
from scout_async.types import ErrorGroup, ErrorOccurrence
from tests.conftest import BASE_URL, VirtualClock, envelope

UTC = timezone.utc
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
EARLIEST = NOW - timedelta(days=30) + timedelta(minutes=1)
GROUPS = f"{BASE_URL}/apps/101/error_groups"


@pytest.fixture
def clock() -> VirtualClock:
    """The ``client`` fixture's clock: its wall time is ``NOW``."""
    return VirtualClock(wall=NOW)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def group(ident: int, last: datetime, count: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "name": "NoMethodError",
        "message": "undefined method `x' for nil",
        "status": "open",
        "errors_count": count,
        "last_error_at": iso(last),
        "request_components": ["UsersController", "show"],
        "request_uri": "/users/1",
        "app_environment": "production",
        **extra,
    }


ERROR = {
    "id": 9,
    "message": "undefined method `x' for nil",
    "created_at": "2026-03-30T10:00:00Z",
    "request_params": {"id": "1"},
    "request_uri": "/users/1",
    "location": "app/controllers/users_controller.rb:12",
    "request_session": None,
    "trace": ["app/controllers/users_controller.rb:12", "actionpack/lib/base.rb:224"],
    "context": {"host": "web-1"},
}


async def test_groups_in_one_window(client: ScoutClient) -> None:
    start = NOW - timedelta(days=2)
    body = {
        "error_groups": [
            group(1, NOW - timedelta(hours=5)),
            group(2, NOW - timedelta(hours=1), status="snoozed", request_components={"odd": 1}),
        ]
    }
    with respx.mock() as router:
        route = router.get(GROUPS).respond(json=envelope(body))
        groups = await client.errors.list(101, start=start, end=NOW, endpoint="YWE/YWE+YQ==")
    assert [g.id for g in groups] == [2, 1]  # most recent error first
    assert groups[0].status == "snoozed"  # an unknown value is kept
    assert groups[0].request_components == {"odd": 1}
    assert groups[1] == ErrorGroup(
        id=1,
        name="NoMethodError",
        message="undefined method `x' for nil",
        status="open",
        errors_count=1,
        last_error_at=NOW - timedelta(hours=5),
        request_components=["UsersController", "show"],
        request_uri="/users/1",
        app_environment="production",
    )
    request = route.calls.last.request
    assert dict(request.url.params) == {
        "from": iso(start),
        "to": iso(NOW),
        "endpoint": "YWE/YWE+YQ==",
    }
    assert b"endpoint=YWE%2FYWE%2BYQ%3D%3D" in request.url.raw_path  # "+" must not read as " "


async def test_group_with_latest_error_and_errors(client: ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{GROUPS}/4321").respond(
            json=envelope({"error_group": group(4321, NOW, 3, latest_error=ERROR)})
        )
        router.get(f"{GROUPS}/4321/errors").respond(
            json=envelope({"errors": [ERROR, {**ERROR, "id": 8, "trace": None}]})
        )
        detail = await client.errors.get(101, 4321)
        errors = await client.errors.list_errors(101, 4321)
    assert detail.latest_error == ErrorOccurrence(
        id=9,
        message="undefined method `x' for nil",
        created_at=datetime(2026, 3, 30, 10, tzinfo=UTC),
        location="app/controllers/users_controller.rb:12",
        request_uri="/users/1",
        request_params={"id": "1"},
        request_session=None,
        context={"host": "web-1"},
        trace=["app/controllers/users_controller.rb:12", "actionpack/lib/base.rb:224"],
    )
    assert [e.id for e in errors] == [9, 8]
    assert errors[1].trace == []


# -- lookback and splitting --------------------------------------------------------------------


async def test_thirty_days_at_the_limit_split_and_merged(client: ScoutClient) -> None:
    start = EARLIEST
    first_cut, second_cut = start + timedelta(days=14), start + timedelta(days=28)

    def answer(request: httpx.Request) -> httpx.Response:
        window = (request.url.params["from"], request.url.params["to"])
        body = {
            (iso(start), iso(first_cut)): [group(1, start + timedelta(days=1), 4)],
            (iso(first_cut), iso(second_cut)): [
                group(2, first_cut + timedelta(days=1)),
                group(3, first_cut + timedelta(days=3), 5),  # seen again below
            ],
            (iso(second_cut), iso(NOW)): [
                group(3, second_cut + timedelta(hours=1), 7),
                group(4, NOW - timedelta(minutes=5)),
            ],
        }[window]
        return httpx.Response(200, json=envelope({"error_groups": body}))

    with respx.mock() as router:
        route = router.get(GROUPS).mock(side_effect=answer)
        groups = await client.errors.list(101, start=start, end=NOW)
    windows = [(c.request.url.params["from"], c.request.url.params["to"]) for c in route.calls]
    assert windows == [  # the oldest window first, then newest first; none over 14 days
        (iso(start), iso(first_cut)),
        (iso(second_cut), iso(NOW)),
        (iso(first_cut), iso(second_cut)),
    ]
    # Group 3 keeps the newest window's figures.
    assert [(g.id, g.errors_count) for g in groups] == [(4, 1), (3, 7), (2, 1), (1, 4)]


async def test_a_clamped_start_stays_within_the_limit_however_long_the_windows_take(
    client: ScoutClient, clock: VirtualClock
) -> None:
    # Each answer takes 40 s (on the client's clock): the third request goes out 80 s after the
    # start was clamped, more than the minute of margin. Scout refuses a start older than 30
    # days when it arrives.
    def answer(request: httpx.Request) -> httpx.Response:
        arrived = clock.now()
        clock.now_s += 40
        start = parse_time(request.url.params["from"])
        if start <= arrived - timedelta(days=30):
            return httpx.Response(422, json=envelope({}, 422, "from is too old"))
        # Group 1 is in every window: the newest window's figures win.
        body = [group(1, parse_time(request.url.params["to"]) - timedelta(hours=1))]
        return httpx.Response(200, json=envelope({"error_groups": body}))

    with respx.mock() as router:
        route = router.get(GROUPS).mock(side_effect=answer)
        groups = await client.errors.list(101, start=NOW - timedelta(days=40), end=NOW, clamp=True)
    assert route.call_count == 3
    assert route.calls[0].request.url.params["from"] == iso(EARLIEST)
    assert [(g.id, g.last_error_at) for g in groups] == [(1, NOW - timedelta(hours=1))]


async def test_one_second_past_thirty_days(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(GROUPS).respond(json=envelope({"error_groups": []}))
        with pytest.raises(ValueError, match="30 days") as info:
            await client.errors.list(101, start=EARLIEST - timedelta(seconds=1), end=NOW)
        assert route.call_count == 0
        assert "clamp=True" in str(info.value)
        await client.errors.list(101, start=EARLIEST - timedelta(seconds=1), end=NOW, clamp=True)
    assert route.calls[0].request.url.params["from"] == "2026-03-01T12:01:00Z"  # oldest first
    assert route.call_count == 3  # 30 days less a minute: 14 + 14 + 2


def test_split_window_shares_boundaries() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert windows.split_window(start, start + timedelta(days=14)) == [
        (start, start + timedelta(days=14))
    ]
    parts = windows.split_window(start, start + timedelta(days=14, seconds=1))
    assert parts == [
        (start, start + timedelta(days=14)),
        (start + timedelta(days=14), start + timedelta(days=14, seconds=1)),
    ]


# -- typed errors on every call ----------------------------------------------------------------

DAY = timedelta(days=1)
# A job id as Scout makes them (base64 of "queue/JobName"); one that names no such thing is
# refused before any request (tests/resources/test_live_quirks.py).
JOB_ID = "ZGVmYXVsdC9NeVdvcmtlcg=="  # default/MyWorker

Call = Callable[[ScoutClient], Awaitable[Any]]


async def drain(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


CALLS: list[tuple[str, Call]] = [
    ("endpoints.list", lambda c: c.endpoints.list(1, start=NOW - DAY, end=NOW)),
    ("endpoints.iter", lambda c: drain(c.endpoints.iter(1, start=NOW - DAY, end=NOW))),
    ("metrics.list", lambda c: c.metrics.list(1)),
    ("metrics.get", lambda c: c.metrics.get(1, "apdex", start=NOW - DAY, end=NOW)),
    (
        "metrics.stream",
        lambda c: drain(c.metrics.stream(1, "apdex", start=NOW - DAY, end=NOW)),
    ),
    (
        "metrics.get(endpoint_id)",
        lambda c: c.metrics.get(1, "apdex", endpoint_id="YQ==", start=NOW - DAY, end=NOW),
    ),
    (
        "metrics.stream(endpoint_id)",
        lambda c: drain(c.metrics.stream(1, "apdex", endpoint_id="YQ==", start=NOW - DAY, end=NOW)),
    ),
    ("jobs.list", lambda c: c.jobs.list(1, start=NOW - DAY, end=NOW)),
    ("metrics.list(job_id)", lambda c: c.metrics.list(1, job_id=JOB_ID)),
    (
        "metrics.get(job_id)",
        lambda c: c.metrics.get(1, "latency", job_id=JOB_ID, start=NOW - DAY, end=NOW),
    ),
    (
        "metrics.stream(job_id)",
        lambda c: drain(c.metrics.stream(1, "errors", job_id=JOB_ID, start=NOW - DAY, end=NOW)),
    ),
    (
        "traces.list(job_id)",
        lambda c: c.traces.list(1, job_id=JOB_ID, start=NOW - DAY, end=NOW),
    ),
    (
        "traces.list(endpoint_id)",
        lambda c: c.traces.list(1, endpoint_id="YQ==", start=NOW - DAY, end=NOW),
    ),
    ("traces.get", lambda c: c.traces.get(1, 2)),
    ("errors.list", lambda c: c.errors.list(1, start=NOW - DAY, end=NOW)),
    ("errors.get", lambda c: c.errors.get(1, 2)),
    ("errors.list_errors", lambda c: c.errors.list_errors(1, 2)),
    ("anomalies.list", lambda c: c.anomalies.list(1, start=NOW - DAY, end=NOW)),
    ("anomalies.get", lambda c: c.anomalies.get(1, 2)),
    ("insights.list", lambda c: c.insights.list(1)),
    ("insights.get", lambda c: c.insights.get(1, "slow_query")),
    ("insights.history", lambda c: drain(c.insights.history(1, start=NOW - DAY, end=NOW))),
    ("usage.get", lambda c: c.usage.get()),
]

STATUSES = [
    (404, 404, scout_async.NotFoundError),
    (403, 403, scout_async.AuthenticationError),
    (200, 404, scout_async.NotFoundError),  # only the body says so
    (200, 403, scout_async.AuthenticationError),
    (200, 422, scout_async.InvalidRequestError),
]


@pytest.mark.parametrize(("http_status", "code", "error"), STATUSES)
@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
async def test_every_call_raises_the_typed_error(
    name: str,
    call: Call,
    http_status: int,
    code: int,
    error: type[scout_async.APIStatusError],
    client: ScoutClient,
) -> None:
    message = {403: "Forbidden, check your API key", 404: "Record Not Found"}.get(code, "Invalid")
    with respx.mock() as router:
        route = router.route().respond(http_status, json=envelope({}, code, message))
        with pytest.raises(error) as info:
            await call(client)
    assert info.value.status_code == code
    assert info.value.server_message == message
    assert route.call_count == 1  # never retried
    assert info.value.path is not None
    assert info.value.path.startswith("/apps/1/" if name != "usage.get" else "/usage")
