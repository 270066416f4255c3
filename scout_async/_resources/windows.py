"""Time windows of list calls: checks, Scout's lookback limits, 14-day splitting and the merge.

Lookback limits are checked before anything is sent: traces only within the last 7 days, error
groups and anomaly events within 30 days. The live API refused a ``from`` of exactly 7 x 24 h ago,
so the earliest start allowed here is ``now - limit + LOOKBACK_MARGIN``, rounded up to a whole
second (times are sent in whole seconds). The margin also absorbs the request's time in flight
and clock skew between this machine and Scout.

"Now" is the client's clock (``ScoutClient(clock=...)``), passed in by the resource.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from .._constants import ERROR_LOOKBACK, LOOKBACK_MARGIN, TRACE_LOOKBACK
from .._core import Core
from .._exceptions import ArgumentError
from .._series.instants import sent_window as checked_window
from .._series.steps import MAX_WINDOW
from .._time import display_time, format_time
from ..types._models import Listing
from .shape import field, parse_list

__all__ = [
    "ERROR_LOOKBACK",
    "LIST_CAP",
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

#: Scout answers a list of traces, error groups, errors or anomaly events with at most this many
#: (API notes, endpoints table; Scout's clients: "the most recent 100"). A full answer may have
#: left some out, so the listing says so (``Listing.capped``).
LIST_CAP = 100


_SECOND = timedelta(seconds=1)


def short_window(start: object, end: object, what: str) -> tuple[datetime, datetime]:
    """A checked window of at most 14 days: ``what`` is a summary over the window, so it cannot
    be split into requests and merged."""
    start_utc, end_utc = checked_window(start, end)
    if end_utc - start_utc > MAX_WINDOW:
        raise ArgumentError(
            f"{what} covers at most 14 days per call (Scout's limit), got "
            f"{display_time(start_utc)}..{display_time(end_utc)} ({end_utc - start_utc}); "
            "pass a shorter window"
        )
    return start_utc, end_utc


def _earliest(now: datetime, lookback: timedelta) -> datetime:
    earliest = now.astimezone(timezone.utc) - lookback + LOOKBACK_MARGIN
    if earliest.microsecond:
        earliest = earliest.replace(microsecond=0) + _SECOND
    return earliest


def lookback_window(
    start: object, end: object, *, now: datetime, lookback: timedelta, what: str, clamp: bool
) -> tuple[datetime, datetime]:
    """A checked window that starts within ``lookback`` of ``now``.

    With ``clamp=False`` an older ``start`` is a ``ValueError``; with ``clamp=True`` it is moved
    up to the earliest allowed instant, and only a window wholly before it is an error.
    """
    start_utc, end_utc = checked_window(start, end)  # whole seconds, as Scout will see them
    earliest = _earliest(now, lookback)
    if start_utc >= earliest:
        return start_utc, end_utc
    days = lookback // timedelta(days=1)
    limit = (
        f"Scout serves {what} only within the last {days} days: the earliest start is now "
        f"{display_time(earliest)} (now - {days} days + {LOOKBACK_MARGIN.seconds // 60} minute, as "
        f"exactly {days} x 24 h is refused)"
    )
    if not clamp:
        raise ArgumentError(
            f"start {display_time(start_utc)} is too old: {limit}. Pass a later start, or "
            "clamp=True to start at the earliest allowed instant"
        )
    if end_utc <= earliest:
        raise ArgumentError(
            f"the whole window {display_time(start_utc)}..{display_time(end_utc)} is too old, "
            f"even clamped: {limit}"
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
    core: Core,
    path: str,
    name: str,
    cls: type[T],
    start: datetime,
    end: datetime,
    *,
    key: Callable[[T], Hashable],
    time: Callable[[T], datetime | None],
    params: dict[str, str] | None = None,
) -> Listing[T]:
    """``results[name]`` of ``GET path?from&to`` over ``[start, end)``, as ``fetch_split`` merges
    it; ``params`` are sent with every request. ``capped`` if any answer held ``LIST_CAP``
    records or more (Scout's limit: it may have left some out)."""
    capped = False

    async def fetch(window_start: datetime, window_end: datetime) -> list[T]:
        nonlocal capped
        query = {"from": format_time(window_start), "to": format_time(window_end)}
        results = await core.get(path, query | (params or {}))
        items = parse_list(field(results, name, list, path), cls, path)
        capped = capped or len(items) >= LIST_CAP
        return items

    merged = await fetch_split(start, end, fetch, key=key, time=time)
    return Listing(merged, capped=capped)
