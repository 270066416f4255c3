"""client.usage.get(): the billing period's usage, an undocumented answer read tolerantly."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import respx

import scout_async
from scout_async import ScoutClient
from scout_async.types import ApmUsage, BillingPeriod, ErrorUsage, LogUsage, Usage
from tests.conftest import BASE_URL, envelope

UTC = timezone.utc

# The shape Scout's own CLI reads.
USAGE = {
    "billing_period": {"start": "2026-03-01", "end": "2026-03-31"},
    "pricing_style": "transactions",
    "apm": {"total_transactions": 1234, "limit": 5000},
    "errors": {"count": 12, "limit": 1000},
    "logs": {"bytes_used": 2048, "limit_bytes": None},
    "something_new": {"x": 1},
}


async def test_usage(client: ScoutClient) -> None:
    with respx.mock() as router:
        route = router.get(f"{BASE_URL}/usage").respond(json=envelope(USAGE))
        usage = await client.usage.get()
    assert route.call_count == 1
    assert usage == Usage(
        billing_period=BillingPeriod(
            start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 3, 31, tzinfo=UTC)
        ),
        pricing_style="transactions",
        apm=ApmUsage(total_transactions=1234, limit=5000),
        nodes=None,
        errors=ErrorUsage(count=12, limit=1000),
        logs=LogUsage(bytes_used=2048, limit_bytes=None),
    )
    assert usage.raw == USAGE  # everything, the unmodelled too


async def test_usage_wrapped_in_a_usage_key(client: ScoutClient) -> None:
    wrapped = {"usage": {"billing_period": {"start": "2026-03-01T00:00:00Z"}, "apps": []}}
    with respx.mock() as router:
        router.get(f"{BASE_URL}/usage").respond(json=envelope(wrapped))
        usage = await client.usage.get()
    assert usage.billing_period == BillingPeriod(start=datetime(2026, 3, 1, tzinfo=UTC))
    assert usage.apm is None
    assert usage.raw["apps"] == []


@pytest.mark.parametrize("results", [[], "usage", {"apm": {"total_transactions": "many"}}])
async def test_malformed_usage(results: Any, client: ScoutClient) -> None:
    with respx.mock() as router:
        router.get(f"{BASE_URL}/usage").respond(json=envelope(results))
        with pytest.raises(scout_async.ResponseFormatError, match="GET /usage"):
            await client.usage.get()
