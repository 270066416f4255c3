"""Instants and windows as Scout sees them (pure): aware, in UTC, and sent in whole seconds.

Every call that takes a time checks it here first, so a naive datetime or an empty window is an
``ArgumentError`` before any request.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .._constants import EARLIEST_DATA, FUTURE_MARGIN
from .._exceptions import ArgumentError, ArgumentTypeError
from .._time import display_time

__all__ = ["require_aware", "require_reachable", "sent_window"]


def require_aware(value: object, name: str) -> datetime:
    """``value`` as a UTC datetime; ``TypeError``/``ValueError`` unless it is an aware one."""
    if not isinstance(value, datetime):
        raise ArgumentTypeError(
            f"{name} must be a datetime, got {type(value).__name__}; "
            f"pass e.g. datetime(2026, 7, 1, tzinfo=timezone.utc)"
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ArgumentError(
            f"{name}={value.isoformat()} is a naive datetime, so its instant is ambiguous; "
            f"pass an aware datetime, e.g. {name}=datetime(..., tzinfo=timezone.utc)"
        )
    return value.astimezone(timezone.utc)


def sent_window(start: object, end: object) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC and whole seconds, as they are sent; ``TypeError``/``ValueError``
    unless aware and ``start < end`` in whole seconds.

    Times go out in whole seconds, so a window within one second would reach Scout as
    ``from == to`` (a 422), and a window cut from unrounded times could end in such a piece.
    """
    start_utc, end_utc = require_aware(start, "start"), require_aware(end, "end")
    if start_utc >= end_utc:
        raise ArgumentError(
            f"start ({display_time(start_utc)}) must be before end ({display_time(end_utc)}); "
            "pass a non-empty window with start < end"
        )
    start_sent, end_sent = start_utc.replace(microsecond=0), end_utc.replace(microsecond=0)
    if start_sent >= end_sent:
        raise ArgumentError(
            f"start ({display_time(start_utc)}) and end ({display_time(end_utc)}) fall in the same "
            "second: Scout takes whole seconds, so the window would be empty; pass a window "
            "that spans at least one whole second"
        )
    return start_sent, end_sent


def require_reachable(start: datetime, end: datetime, *, now: datetime) -> None:
    """``ArgumentError`` unless Scout could hold data for part of ``[start, end)``: ``start`` not
    before ``EARLIEST_DATA`` (Scout did not exist) and ``end`` at most ``FUTURE_MARGIN`` (a day)
    after ``now``, the client's clock; so a typo'd year never plans thousands of requests.

    ``start`` and ``end`` are aware (see ``sent_window``).
    """
    now = require_aware(now, "clock.now()")
    if start < EARLIEST_DATA:
        raise ArgumentError(
            f"start ({display_time(start)}) is before {EARLIEST_DATA.year}: Scout did not exist "
            f"yet and holds no data from then; check the year (e.g. datetime({now.year}, ...))"
        )
    if end > now + FUTURE_MARGIN:
        raise ArgumentError(
            f"end ({display_time(end)}) is more than a day after now ({display_time(now)} by "
            "the client's clock): Scout holds no data from the future; end the window at now, "
            "or check the year"
        )
