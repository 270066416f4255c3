"""Times, in one place (pure): the wire format and the display format.

``format_time`` is what goes to Scout (UTC, whole seconds, ``Z``); ``display_time`` is what a
person reads in a message, a checkpoint or the CLI (UTC, ``Z``, a fraction only when there is one).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ._constants import TIME_FORMAT

__all__ = ["display_time", "format_time", "parse_time"]


def format_time(moment: datetime) -> str:
    """Scout's wire format: UTC, whole seconds, ``Z`` (``2026-07-05T17:20:11Z``)."""
    if moment.tzinfo is timezone.utc and not moment.microsecond:  # the hot path: sinks, requests
        return moment.isoformat()[:19] + "Z"
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        # Callers check their arguments first (``_series.instants``): this is a bug, not input.
        raise ValueError(f"cannot send the naive datetime {moment.isoformat()}")
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def display_time(moment: datetime) -> str:
    """An instant for people: ISO 8601 in UTC with ``Z`` (``2026-07-05T17:20:11Z``), with its
    fraction of a second if it has one; a naive datetime is shown as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat() + "Z"


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
