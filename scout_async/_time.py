"""Times, in one place (pure): the wire format and the display format.

``format_time`` is what goes to Scout (UTC, whole seconds, ``Z``); ``display_time`` is what a
person reads in a message, a checkpoint or the CLI (UTC, ``Z``, a fraction only when there is one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo

from ._constants import TIME_FORMAT

__all__ = ["display_time", "format_epochs", "format_time", "grid_text", "parse_time"]


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
    """An ISO 8601 timestamp from Scout as an aware UTC datetime (``Z``, an offset; naive = UTC).

    The same forms are read on every Python version: Python 3.10's ``fromisoformat`` refuses a
    fraction of other than 3 or 6 digits (``.5``, ``.1234567``), an offset without a colon
    (``+0000``) or of hours only (``+00``), a ``Z`` and a comma before the fraction, all of which
    3.11 reads. The common form takes ``fromisoformat`` (fast); the rest ``_parse_lenient``.
    """
    if len(text) == 20 and text[19] == "Z":
        # Scout's own form, ``2026-07-05T17:20:11Z``, once per point: no further checks (the
        # offset read is UTC itself). Any other form, or a malformed one, takes the full path.
        try:
            return _fromisoformat(text[:19] + "+00:00")
        except ValueError:
            pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_lenient(text)
    if moment.tzinfo is timezone.utc:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


_fromisoformat = datetime.fromisoformat

_ISO = re.compile(
    r"(?P<year>\d{4})-?(?P<month>\d{2})-?(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})"
    r"(?:[.,](?P<fraction>\d+))?)?)?"
    r"(?P<offset>[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?)?",
    re.ASCII,
)


def _parse_lenient(text: str) -> datetime:
    """The ISO 8601 forms ``fromisoformat`` reads on 3.11 but not on 3.10 (see ``parse_time``);
    a fraction beyond microseconds is cut, as 3.11 does. ``ValueError`` for anything else."""
    found = _ISO.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not an ISO 8601 date and time: {text!r}")
    part = found.groupdict()
    fraction = (part["fraction"] or "")[:6].ljust(6, "0")
    zone: tzinfo | None = None
    if part["offset"]:
        sign = -1 if part["offset"][0] == "-" else 1
        digits = part["offset"][1:].replace(":", "")
        seconds = float(digits[4:]) if len(digits) > 4 else 0.0
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0), seconds=seconds)
        zone = timezone(sign * offset)
    return datetime(
        int(part["year"]),
        int(part["month"]),
        int(part["day"]),
        int(part["hour"] or 0),
        int(part["minute"] or 0),
        int(part["second"] or 0),
        int(fraction),
        tzinfo=zone,
    )


_DAY = 86_400
_EPOCH_DATE = date(1970, 1, 1)
#: A step's times of day, ``["00:00:00", "00:05:00", ...]``, per step in seconds (a handful).
_TIMES_OF_DAY: dict[int, list[str]] = {}


def _times_of_day(step: int) -> list[str]:
    found = _TIMES_OF_DAY.get(step)
    if found is None:
        found = _TIMES_OF_DAY[step] = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(0, _DAY, step)
        ]
    return found


def grid_text(first: int, step: int, count: int) -> str | None:
    """``format_time`` of ``first + k * step`` for ``k < count`` (epoch seconds), concatenated.

    What a regular answer's time strings joined must equal: comparing one string with another
    checks every point's time at C speed, instead of parsing each (the decode's fast path).
    ``None`` if ``step`` does not divide a day or ``first`` is not on its grid.
    """
    if step <= 0 or _DAY % step or first % step or count <= 0:
        return None
    parts: list[str] = []
    moment = first
    left = count
    while left > 0:
        day, second = divmod(moment, _DAY)
        times = _times_of_day(step)
        start = second // step
        take = min(len(times) - start, left)
        day_text = (_EPOCH_DATE + timedelta(days=day)).isoformat()
        parts.append(day_text + "T" + f"Z{day_text}T".join(times[start : start + take]) + "Z")
        left -= take
        moment += take * step
    return "".join(parts)


#: ``"HH:MM:"`` of each minute of a day, ``"SSZ"`` of each second of a minute: a time of day is
#: two look-ups in ``format_epochs``, not three numbers formatted (a quarter of the time).
_MINUTE_TEXTS = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(_DAY // 60)]
_SECOND_TEXTS = [f"{s:02d}Z" for s in range(60)]


def format_epochs(times: Iterable[int]) -> list[str]:
    """``format_time`` of each of ``times`` (epoch seconds), fast for many (the sinks' path)."""
    days: dict[int, str] = {}
    minutes, seconds = _MINUTE_TEXTS, _SECOND_TEXTS
    out: list[str] = []
    append = out.append
    for moment in times:
        day, second = divmod(moment, _DAY)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = (_EPOCH_DATE + timedelta(days=day)).isoformat() + "T"
        append(prefix + minutes[second // 60] + seconds[second % 60])
    return out
