"""Reading ``--from``/``--to``: ISO 8601 instants and relative times such as ``30d`` (pure).

Parsing and resolving are separate steps so that ``--from`` and ``--to`` are both resolved against
one "now", read once per command: ``--from 1h --to now`` is exactly one hour long.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import attrs

from .._time import display_time

__all__ = [
    "DURATION_HELP",
    "TIME_HELP",
    "TimeSpec",
    "format_instant",
    "parse_duration",
    "parse_time_spec",
    "resolve_time",
    "resolve_window",
]

TIME_HELP = (
    "ISO 8601 (2026-07-01, 2026-07-01T12:00:00Z, 2026-07-01T14:00+02:00; no offset means UTC) "
    "or a time relative to now: 30d, 12h, 90m, 2w, 1d12h, 45s, or 'now'."
)
DURATION_HELP = "a duration such as 30s, 5m, 12h, 30d, 2w or 1d12h"
#: Beyond this a relative time or a duration cannot be counted (Python's ``timedelta.max``).
_LONGEST = f"{timedelta.max.days:,} days"

_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PART = re.compile(r"(\d+)([smhdw])")
_RELATIVE = re.compile(r"(?:\d+[smhdw])+")
_OFFSET_WITHOUT_COLON = re.compile(r"([+-])(\d{2})(\d{2})$")


@attrs.frozen
class TimeSpec:
    """A parsed ``--from``/``--to``: an absolute UTC instant, or a duration before now."""

    text: str
    instant: datetime | None = None
    ago: timedelta | None = None


def _relative(text: str) -> timedelta | None:
    compact = text.replace(" ", "").lower()
    if compact.startswith("-"):
        compact = compact[1:]
    if compact.endswith("ago"):
        compact = compact[:-3]
    if not _RELATIVE.fullmatch(compact):
        return None
    try:
        return sum(
            (int(amount) * _UNITS[unit] for amount, unit in _PART.findall(compact)), timedelta(0)
        )
    except OverflowError:
        raise ValueError(f"{text!r} is too long: at most {_LONGEST}") from None


def _absolute(text: str) -> datetime | None:
    iso = text.strip()
    if iso[-1:] in ("Z", "z"):
        iso = iso[:-1] + "+00:00"
    # Python 3.10's fromisoformat wants "+02:00", not "+0200".
    iso = _OFFSET_WITHOUT_COLON.sub(r"\1\2:\3", iso) if "T" in iso or " " in iso else iso
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from None


def parse_time_spec(text: str) -> TimeSpec:
    """Read ``text`` as ``now``, a relative time or an ISO 8601 instant.

    >>> parse_time_spec("90m").ago
    datetime.timedelta(seconds=5400)
    >>> parse_time_spec("2026-07-01T12:00:00+02:00").instant
    datetime.datetime(2026, 7, 1, 10, 0, tzinfo=datetime.timezone.utc)

    Raises ``ValueError`` with the accepted forms for anything else, and for a relative time
    too long to count.
    """
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"an empty time; use {TIME_HELP}")
    if cleaned.lower() == "now":
        return TimeSpec(text=text, ago=timedelta(0))
    ago = _relative(cleaned)
    if ago is not None:
        return TimeSpec(text=text, ago=ago)
    instant = _absolute(cleaned)
    if instant is not None:
        return TimeSpec(text=text, instant=instant)
    raise ValueError(f"cannot read {text!r} as a time; use {TIME_HELP}")


def resolve_time(spec: TimeSpec, now: datetime) -> datetime:
    """The UTC instant ``spec`` names, relative times counted back from ``now`` (aware).

    Raises ``ValueError`` when a relative time reaches back before the year 1.
    """
    if spec.instant is not None:
        return spec.instant
    assert spec.ago is not None
    try:
        return now.astimezone(timezone.utc) - spec.ago
    except OverflowError:
        raise ValueError(
            f"{spec.text!r} reaches back before the year 1; give a later time"
        ) from None


def parse_duration(text: str, *, allow_zero: bool = False) -> timedelta:
    """Read ``text`` as a positive duration (``5m``, ``30d``, ``1d12h``; ``0s`` if
    ``allow_zero``).

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)

    Raises ``ValueError`` for anything else, and for a duration too long to count.
    """
    length = _relative(text.strip())
    if length is None or text.strip().startswith("-") or text.strip().lower().endswith("ago"):
        raise ValueError(f"cannot read {text!r} as a duration; use {DURATION_HELP}")
    if length <= timedelta(0) and not allow_zero:
        raise ValueError(f"{text!r} is no time at all; use {DURATION_HELP}")
    return length


def format_instant(moment: datetime) -> str:
    """``2026-07-05T17:20:11Z``: how the CLI shows an instant, the library's ``display_time`` in
    whole seconds (a reading of the clock, a server time)."""
    return display_time(moment.replace(microsecond=0))


def resolve_window(start: TimeSpec, end: TimeSpec, now: datetime) -> tuple[datetime, datetime]:
    """``--from``/``--to`` as UTC instants, both counted back from the one ``now``.

    Raises ``ValueError`` naming both instants when the window is empty, or naming the time that
    reaches back before the year 1.
    """
    start_at, end_at = resolve_time(start, now), resolve_time(end, now)
    if start_at >= end_at:
        raise ValueError(
            f"the window is empty: --from {format_instant(start_at)} is not before "
            f"--to {format_instant(end_at)}"
        )
    return start_at, end_at
