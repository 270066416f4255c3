"""Datetime validation and Scout's wire format for times (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

from ._constants import TIME_FORMAT

__all__ = ["format_time", "parse_time", "require_aware", "sent_window"]


def require_aware(value: object, name: str) -> datetime:
    """``value`` as a UTC datetime; ``TypeError``/``ValueError`` unless it is an aware one."""
    if not isinstance(value, datetime):
        raise TypeError(
            f"{name} must be a datetime, got {type(value).__name__}; "
            f"pass e.g. datetime(2026, 7, 1, tzinfo=timezone.utc)"
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{name}={value.isoformat()} is a naive datetime, so its instant is ambiguous; "
            f"pass an aware datetime, e.g. {name}=datetime(..., tzinfo=timezone.utc)"
        )
    return value.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """Scout's wire format: UTC, whole seconds, ``Z`` (``2026-07-05T17:20:11Z``)."""
    if moment.tzinfo is timezone.utc and not moment.microsecond:  # the hot path: sinks, requests
        return moment.isoformat()[:19] + "Z"
    return require_aware(moment, "time").strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp from Scout as an aware UTC datetime (``Z``, an offset; naive = UTC)."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is timezone.utc:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def sent_window(start: object, end: object) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC and whole seconds, as they are sent; ``TypeError``/``ValueError``
    unless aware and ``start < end`` in whole seconds.

    Times go out in whole seconds, so a window within one second would reach Scout as
    ``from == to`` (a 422), and a window cut from unrounded times could end in such a piece.
    """
    start_utc, end_utc = require_aware(start, "start"), require_aware(end, "end")
    if start_utc >= end_utc:
        raise ValueError(
            f"start ({start_utc.isoformat()}) must be before end ({end_utc.isoformat()}); "
            "pass a non-empty window with start < end"
        )
    start_sent, end_sent = start_utc.replace(microsecond=0), end_utc.replace(microsecond=0)
    if start_sent >= end_sent:
        raise ValueError(
            f"start ({start_utc.isoformat()}) and end ({end_utc.isoformat()}) fall in the same "
            "second: Scout takes whole seconds, so the window would be empty; pass a window "
            "that spans at least one whole second"
        )
    return start_sent, end_sent
