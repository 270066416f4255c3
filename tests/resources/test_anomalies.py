"""client.anomalies: filters, detail, unknown values, the 30-day lookback and 14-day splits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from scout_async import ScoutClient
from scout_async.types import AnomalyDeploy, AnomalyEvent, AnomalySmartMonitor
from tests.conftest import BASE_URL, VirtualClock, envelope
from tests.resources.conftest import assert_argument_error

UTC = timezone.utc
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
EVENTS = f"{BASE_URL}/apps/101/anomaly_events"


@pytest.fixture
def clock() -> VirtualClock:
    """The ``client`` fixture's clock: its wall time is ``NOW``."""
    return VirtualClock(wall=NOW)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event(ident: int, started: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "metric": "response_time",
        "endpoint": None,
        "direction": "high",
        "severity": "warning",
        "started_at": iso(started),
        "ended_at": None,
        "last_seen_at": iso(started + timedelta(minutes=30)),
        "z_score": 4.2,
        "current_value": 300.0,
        "baseline_value": 100.0,
        "multiplier": 3.0,
        "open": True,
        "description": "Response time is 3.0x its baseline (high)",
        "smart_monitor_id": 10101,
        "deploy_id": None,
        **extra,
    }


async def test_list_with_filters_and_unknown_values(client: ScoutClient) -> None:
    start = NOW - timedelta(days=3)
    body = {
        "anomaly_events": [
            event(1, NOW - timedelta(days=2)),
            event(2, NOW - timedelta(hours=2), severity="catastrophic", direction="sideways"),
        ]
    }
    with respx.mock() as router:
        route = router.get(EVENTS).respond(json=envelope(body))
        events = await client.anomalies.list(
            101,
            start=start,
            end=NOW,
            state="open",
            metric="error_rate",
            endpoint="users/show",  # a plain name: sent scoped, as Scout stores it
        )
    assert [(e.id, e.severity, e.direction) for e in events] == [
        (2, "catastrophic", "sideways"),
        (1, "warning", "high"),
    ]
    assert events[1].started_at == NOW - timedelta(days=2)
    assert events[1].smart_monitor is None
    assert dict(route.calls.last.request.url.params) == {
        "from": iso(start),
        "to": iso(NOW),
        "state": "open",
        "metric": "error_rate",
        "endpoint": "Controller/users/show",
    }


async def test_get_has_the_detail(client: ScoutClient) -> None:
    detail = event(
        7,
        NOW - timedelta(hours=3),
        ended_at=iso(NOW - timedelta(hours=1)),
        open=False,
        deploy_id=9001,
        baseline_std_dev=47.6,
        duration_minutes=120,
        smart_monitor={
            "id": 10101,
            "name": "Response time anomalies",
            "kind": "response_time",
            "severity_threshold": 3.0,
            "duration_minutes": 10,
        },
        deploy={"id": 9001, "sha": "abc123", "deployed_at": iso(NOW - timedelta(hours=4))},
    )
    with respx.mock() as router:
        router.get(f"{EVENTS}/7").respond(json=envelope({"anomaly_event": detail}))
        got = await client.anomalies.get(101, 7)
    assert got == AnomalyEvent(
        id=7,
        metric="response_time",
        endpoint=None,
        direction="high",
        severity="warning",
        started_at=NOW - timedelta(hours=3),
        ended_at=NOW - timedelta(hours=1),
        last_seen_at=NOW - timedelta(hours=2, minutes=30),
        z_score=4.2,
        current_value=300.0,
        baseline_value=100.0,
        multiplier=3.0,
        open=False,
        description="Response time is 3.0x its baseline (high)",
        smart_monitor_id=10101,
        deploy_id=9001,
        baseline_std_dev=47.6,
        duration_minutes=120,
        smart_monitor=AnomalySmartMonitor(
            id=10101,
            name="Response time anomalies",
            kind="response_time",
            severity_threshold=3.0,
            duration_minutes=10,
        ),
        deploy=AnomalyDeploy(id=9001, sha="abc123", deployed_at=NOW - timedelta(hours=4)),
    )


async def test_twenty_days_split_and_an_event_across_the_boundary_kept_once(
    client: ScoutClient,
) -> None:
    start = NOW - timedelta(days=20)
    cut = start + timedelta(days=14)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["from"] == iso(start):
            events = [event(1, start + timedelta(days=1)), event(2, cut - timedelta(hours=1))]
        else:  # event 2 overlaps both windows; the newer window saw it end
            events = [
                event(
                    2, cut - timedelta(hours=1), open=False, ended_at=iso(cut + timedelta(hours=2))
                ),
                event(3, NOW - timedelta(days=1)),
            ]
        return httpx.Response(200, json=envelope({"anomaly_events": events}))

    with respx.mock() as router:
        route = router.get(EVENTS).mock(side_effect=answer)
        events = await client.anomalies.list(101, start=start, end=NOW, state="all")
    assert [(c.request.url.params["from"], c.request.url.params["to"]) for c in route.calls] == [
        (iso(start), iso(cut)),  # the oldest window first, while its start is surely in range
        (iso(cut), iso(NOW)),
    ]
    assert all(c.request.url.params["state"] == "all" for c in route.calls)
    assert [e.id for e in events] == [3, 2, 1]
    assert events[1].open is False


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"state": "opened"}, ValueError, "closed"),
        ({"metric": ""}, ValueError, "metric"),
        ({"endpoint": 5}, TypeError, "endpoint"),
        ({"start": NOW - timedelta(days=31)}, ValueError, "30 days"),
        ({"end": NOW - timedelta(days=3)}, ValueError, "before"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str, client: ScoutClient
) -> None:
    args: dict[str, Any] = {"app_id": 101, "start": NOW - timedelta(days=3), "end": NOW} | kwargs
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(error, match=match) as info:
            await client.anomalies.list(**args)
    assert route.call_count == 0
    assert_argument_error(info, error)
