"""The one clock of a client: wall time for windows, a monotonic time for pauses, and sleep.

Every piece of the client that asks what time it is (lookback limits, poll ticks, the 429 pause,
backoff, the checkpoint cadence) asks the client's clock, so a test or a simulator can run it on
virtual time by passing ``ScoutClient(clock=...)``: nothing reads a module global.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

import anyio

from ._exceptions import ConfigurationError

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Where a client takes the time from.

    ``now()`` is the wall clock as an aware UTC datetime; ``monotonic()`` seconds that never go
    back (pauses and cadences); ``sleep(seconds)`` waits that long on this clock.
    """

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: UTC wall time, the event loop's monotonic time and ``anyio.sleep``."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


def check_clock(clock: object) -> Clock:
    """``clock`` if it has the three methods of a ``Clock``, else ``ConfigurationError``."""
    if not isinstance(clock, Clock):
        raise ConfigurationError(
            f"clock must have now(), monotonic() and async sleep(seconds), got {clock!r}"
        )
    return clock
