"""A seeded fault soak over real localhost HTTP: every transient fault is retried, and not one
point is lost or duplicated (issue 15).

Eight series of two days at 1 minute (48 requests each) are read concurrently, half with
``metrics.get`` and half with ``metrics.stream``, while the simulator answers a seeded choice of
chunks with up to three faults in a row (one fewer than the client's four attempts): 5xx and 408,
429 with ``Retry-After``, errors in the body only, connections dropped mid-body, timeouts,
truncated and non-JSON bodies at 200, and slow answers. The points must equal a fault-free
run's, on asyncio and on trio. The client's clock is virtual, so backoff and 429 pauses take no
real time; only the timeouts do (a few tenths of a second each, overlapped).
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import anyio
import attrs
import pytest

import scout_async
from scout_async import Point
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer
from tests.conftest import VirtualClock

NOW = datetime(2026, 7, 5, 17, 20, tzinfo=timezone.utc)
START = NOW - timedelta(days=2)
SERIES = [
    (101, "throughput"),
    (101, "apdex"),
    (101, "response_time"),
    (102, "errors"),
    (102, "throughput"),
    (103, "response_time_95th"),
    (103, "queue_time"),
    (104, "apdex"),
]
SEED = 15
# A "timeout" fault answers after LATE seconds, past the client's TIMEOUT: the only faults that
# take real time (overlapped), so a run has a few. TIMEOUT is long enough that a busy machine
# does not time out answers on its own; if it does, the retry (MAX_RETRIES leaves room for two
# such on top of a chunk's three faults) still gets the points, which is what is asserted.
TIMEOUT = 1.0
LATE = 3.0
MAX_TIMEOUTS = 6
MAX_RETRIES = 5

# Each kind, as the simulator serves it; "slow" is an answer late but within the timeout.
KINDS: dict[str, dict[str, object]] = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "408": {"status": 408},
    "429": {"status": 429, "retry_after": "1"},
    "429-no-wait": {"status": 429, "retry_after": "0"},
    "body-500": {"body_status": 500},
    "body-503": {"body_status": 503},
    "body-429": {"body_status": 429},
    "drop": {"drop": True},
    "truncated": {"malformed": "truncated"},
    "not-json": {"malformed": "not-json"},
    "timeout": {"latency": LATE},
    "slow": {"latency": 0.02},
}


@attrs.frozen
class Soak:
    points: dict[tuple[int, str], list[Point]]
    requests: int
    faults: Counter[str]
    retries: int


def plan_faults(sim: ScoutSimulator, seed: int) -> Counter[str]:
    """Arm up to three faults in a row on a seeded choice of chunks; how many of each kind."""
    rng = random.Random(seed)
    armed: Counter[str] = Counter()
    for app_id, metric in SERIES:
        for chunk in scout_async.plan_range(START, NOW, "1m"):
            for _ in range(rng.choices([0, 1, 2, 3], weights=[3, 3, 2, 1])[0]):
                kind = rng.choice(list(KINDS))
                if kind == "timeout" and armed["timeout"] >= MAX_TIMEOUTS:
                    kind = "503"
                sim.add_fault(
                    Fault(
                        path=f"/apps/{app_id}/metrics/{metric}",
                        from_=chunk.start,
                        **KINDS[kind],  # type: ignore[arg-type]
                    )
                )
                armed[kind] += 1
                if kind == "slow":
                    break  # answered, late: the chunk's next fault would never be reached
    return armed


async def read_all(client: scout_async.ScoutClient) -> dict[tuple[int, str], list[Point]]:
    points: dict[tuple[int, str], list[Point]] = {}
    async with client:

        async def one(number: int, app_id: int, metric: str) -> None:
            if number % 2:
                series = await client.metrics.get(
                    app_id, metric, start=START, end=NOW, resolution="1m"
                )
                points[(app_id, metric)] = list(series.points)
            else:
                points[(app_id, metric)] = [
                    p
                    async for p in client.metrics.stream(
                        app_id, metric, start=START, end=NOW, resolution="1m"
                    )
                ]

        async with anyio.create_task_group() as tg:
            for number, (app_id, metric) in enumerate(SERIES):
                tg.start_soon(one, number, app_id, metric)
    return points


def soak(backend: str) -> Soak:
    """The series read over real localhost HTTP from a simulator armed with seeded faults."""
    sim = ScoutSimulator(now=NOW)
    armed = plan_faults(sim, SEED)
    with SimulatorServer(sim) as server:
        client = scout_async.ScoutClient(
            api_key=DEFAULT_API_KEY,
            base_url=server.url,
            clock=VirtualClock(wall=NOW),
            timeout=TIMEOUT,
            max_retries=MAX_RETRIES,
            max_concurrency=8,
        )
        points = anyio.run(read_all, client, backend=backend)
    hit = Counter(r.fault for r in sim.requests if r.fault is not None)
    assert sum(hit.values()) == sum(armed.values())  # every fault armed was served
    return Soak(
        points=points, requests=len(sim.requests), faults=armed, retries=client.stats.retries
    )


@functools.cache
def fault_free() -> Soak:
    """The same series from a simulator without faults (in-process: the data is the same)."""
    sim = ScoutSimulator(now=NOW)
    client = scout_async.ScoutClient(
        api_key=DEFAULT_API_KEY, http_client=sim.http_client(), clock=VirtualClock(wall=NOW)
    )
    points = anyio.run(read_all, client)
    return Soak(points=points, requests=len(sim.requests), faults=Counter(), retries=0)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_seeded_fault_soak_loses_and_repeats_nothing(backend: str) -> None:
    reference = fault_free()
    chunks = len(SERIES) * len(scout_async.plan_range(START, NOW, "1m"))
    assert reference.requests == chunks
    # Two days up to now at 1 min, less the two buckets not closed yet (lateness 2 min).
    assert all(len(points) == 2 * 24 * 60 - 2 for points in reference.points.values())

    run = soak(backend)
    assert set(run.faults) == set(KINDS)  # every kind of fault, truncated bodies among them
    failed_answers = sum(run.faults.values()) - run.faults["slow"]
    # Each failed answer was retried (more only if a busy machine timed out an answer too).
    assert run.retries >= failed_answers
    assert run.requests == chunks + run.retries
    for key, expected in reference.points.items():
        got = run.points[key]
        times = [p.time for p in got]
        assert len(set(times)) == len(times), f"{key}: duplicated points"
        assert got == expected, f"{key}: points lost or changed"
