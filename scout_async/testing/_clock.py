"""The simulator's time as a clock a client can take, so both read one "now".

A client's clock is anything with ``now()`` (an aware UTC datetime), ``monotonic()`` (seconds)
and ``async sleep(seconds)``: duck-typed, so the simulator needs nothing from the client. Hand
``sim.clock`` to ``ScoutClient(clock=...)``, or build both on one clock of your own
(``ScoutSimulator(now=clock)`` and ``ScoutClient(clock=clock)``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "SimulatorClock"]


@runtime_checkable
class Clock(Protocol):
    """What a client takes as its clock (the simulator's own copy of the protocol)."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SimulatorClock:
    """``now()`` is the simulator's now (pinned or real); ``monotonic()`` and ``sleep()`` are the
    running event loop's, as a real client's are.

    >>> async with ScoutClient(api_key=DEFAULT_API_KEY, base_url=url, clock=sim.clock) as c:
    ...     ...  # "now" is the simulator's now for every lookback check and poll tick
    """

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return f"SimulatorClock(now={self.now().isoformat()})"
