"""Time windows of list calls: checks, Scout's lookback limits, 14-day splitting and the merge.

Lookback limits are checked before anything is sent: traces only within the last 7 days, error
groups and anomaly events within 30 days. The live API refused a ``from`` of exactly 7 x 24 h ago,
so the earliest start allowed here is ``now - limit + LOOKBACK_MARGIN``, rounded up to a whole
second (times are sent in whole seconds). The margin also absorbs the request's time in flight
and clock skew between this machine and Scout.

"Now" comes from ``_now()``, which tests replace to be exact at the limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from .._constants import ERROR_LOOKBACK, LOOKBACK_MARGIN, TRACE_LOOKBACK
from .._steps import MAX_WINDOW
from .._time import format_time
from .._time import sent_window as checked_window
from .._transport import Transport
from ._shape import field, parse_list

__all__ = [
    "ERROR_LOOKBACK",
    "LOOKBACK_MARGIN",
    "TRACE_LOOKBACK",
    "checked_window",
    "fetch_split",
    "list_in_windows",
    "lookback_window",
    "short_window",
    "split_window",
]

T = TypeVar("T")


_SECOND = timedelta(seconds=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def short_window(start: object, end: object, what: str) -> tuple[datetime, datetime]:
    """A checked window of at most 14 days: ``what`` is a summary over the window, so it cannot
    be split into requests and merged."""
    start_utc, end_utc = checked_window(start, end)
    if end_utc - start_utc > MAX_WINDOW:
        raise ValueError(
            f"{what} covers at most 14 days per call (Scout's limit), got "
            f"{_iso(start_utc)}..{_iso(end_utc)} ({end_utc - start_utc}); pass a shorter window"
        )
    return start_utc, end_utc


def _earliest(lookback: timedelta) -> datetime:
    earliest = _now().astimezone(timezone.utc) - lookback + LOOKBACK_MARGIN
    if earliest.microsecond:
        earliest = earliest.replace(microsecond=0) + _SECOND
    return earliest


def lookback_window(
    start: object, end: object, *, lookback: timedelta, what: str, clamp: bool
) -> tuple[datetime, datetime]:
    """A checked window that starts within ``lookback`` of now.

    With ``clamp=False`` an older ``start`` is a ``ValueError``; with ``clamp=True`` it is moved
    up to the earliest allowed instant, and only a window wholly before it is an error.
    """
    start_utc, end_utc = checked_window(start, end)  # whole seconds, as Scout will see them
    earliest = _earliest(lookback)
    if start_utc >= earliest:
        return start_utc, end_utc
    days = lookback // timedelta(days=1)
    limit = (
        f"Scout serves {what} only within the last {days} days: the earliest start is now "
        f"{_iso(earliest)} (now - {days} days + {LOOKBACK_MARGIN.seconds // 60} minute, as "
        f"exactly {days} x 24 h is refused)"
    )
    if not clamp:
        raise ValueError(
            f"start {_iso(start_utc)} is too old: {limit}. Pass a later start, or clamp=True "
            "to start at the earliest allowed instant"
        )
    if end_utc <= earliest:
        raise ValueError(
            f"the whole window {_iso(start_utc)}..{_iso(end_utc)} is too old, even clamped: {limit}"
        )
    return earliest, end_utc


def split_window(
    start: datetime, end: datetime, longest: timedelta = MAX_WINDOW
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive windows of at most ``longest``, in time order.

    Neighbours share their boundary instant, so nothing between them is lost; the merge drops
    what both return.
    """
    windows: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + longest, end)
        windows.append((cursor, stop))
        cursor = stop
    return windows


async def fetch_split(
    start: datetime,
    end: datetime,
    fetch: Callable[[datetime, datetime], Awaitable[list[T]]],
    *,
    key: Callable[[T], Hashable],
    time: Callable[[T], datetime | None],
) -> list[T]:
    """Every item of ``[start, end)``, fetched in windows of at most 14 days, newest first.

    Windows are fetched one after another: the oldest first, while its start is still within
    the lookback limit it was checked against (a ``start`` clamped to the limit has only
    ``LOOKBACK_MARGIN`` to spare), then the others, newest first. They are merged newest window
    first: an item seen in two windows (an error group active in both, an anomaly spanning the
    boundary) is kept once, as the newest window reported it. The result is ordered by
    ``time``, newest first, items without one last. A window of at most 14 days is a single
    request.
    """
    windows = split_window(start, end)
    if not windows:
        return []
    answers = {0: await fetch(*windows[0])}
    for index in range(len(windows) - 1, 0, -1):
        answers[index] = await fetch(*windows[index])
    seen: set[Hashable] = set()
    merged: list[T] = []
    for index in range(len(windows) - 1, -1, -1):
        for item in answers[index]:
            ident = key(item)
            if ident not in seen:
                seen.add(ident)
                merged.append(item)
    floor = datetime.min.replace(tzinfo=timezone.utc)
    merged.sort(key=lambda item: (time(item) is not None, time(item) or floor), reverse=True)
    return merged


async def list_in_windows(
    transport: Transport,
    path: str,
    name: str,
    cls: type[T],
    start: datetime,
    end: datetime,
    *,
    key: Callable[[T], Hashable],
    time: Callable[[T], datetime | None],
    params: dict[str, str] | None = None,
) -> list[T]:
    """``results[name]`` of ``GET path?from&to`` over ``[start, end)``, as ``fetch_split`` merges
    it; ``params`` are sent with every request."""

    async def fetch(window_start: datetime, window_end: datetime) -> list[T]:
        query = {"from": format_time(window_start), "to": format_time(window_end)}
        results = await transport.get(path, query | (params or {}))
        return parse_list(field(results, name, list, path), cls, path)

    return await fetch_split(start, end, fetch, key=key, time=time)
