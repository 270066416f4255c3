"""The simulator's own copy of every API rule it serves: windows, steps, the grid, times and ids.

The simulator imports nothing from the client: if both sides shared one table, a wrong rule would
be agreed on by both and no test could notice. Each rule names its source: Scout's API notes
(``shared/scout-api/README.md``, which quotes Scout's docs and FAQ), the real response bodies in
``tests/fixtures/``, or Scout's own Go CLI (``scoutapp/scout-cli``). Where a rule is an assumption,
the comment says so.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from typing import Literal

import attrs

__all__ = [
    "BANDS",
    "DEFAULT_RETENTION",
    "EPOCH",
    "ERROR_LOOKBACK",
    "MAX_WINDOW",
    "TRACE_LOOKBACK",
    "WIRE_TIME_FORMAT",
    "Band",
    "BandEdges",
    "ceil_to_grid",
    "decode_id",
    "decode_job_id",
    "encode_endpoint_id",
    "encode_job_id",
    "epoch_seconds",
    "floor_to_grid",
    "format_billing_time",
    "format_time",
    "parse_time",
    "step_for_window",
]

# -- time windows ------------------------------------------------------------------------------

# API notes, "Time windows and steps": `to - from` must not exceed 14 days; exactly 14 days is
# accepted; `from` must precede `to`; otherwise 422 "Invalid timeframe parameters".
MAX_WINDOW = timedelta(days=14)

# API notes, quirk 4: traces only within the last 7 days ("exactly 7x24 h was refused"), so a
# `from` at or before `now - 7 d` is refused.
TRACE_LOOKBACK = timedelta(days=7)
# API notes, quirk 4 and the endpoints table: error groups and anomaly events within 30 days
# (the same at-or-before rule as traces is assumed).
ERROR_LOOKBACK = timedelta(days=30)
# API notes, quirk 4: "metric data is retained about 30 days". The exact edge is an assumption.
DEFAULT_RETENTION = timedelta(days=30)

# -- steps -------------------------------------------------------------------------------------


#: Where a window of exactly a band's upper edge falls: in that band (``"inclusive"``, as the docs
#: put it: 60 min -> 1 min) or in the next (``"exclusive"``: 60 min -> 2 min). Quirk 16: nobody
#: has recorded what the live API does at exactly an edge, so the simulator serves either.
BandEdges = Literal["inclusive", "exclusive"]


@attrs.frozen
class Band:
    """Window lengths in ``(lower, upper]`` are answered at ``step`` (``[lower, upper)`` with
    exclusive edges)."""

    step: timedelta
    lower: timedelta
    upper: timedelta

    def contains(self, length: timedelta, edges: BandEdges = "inclusive") -> bool:
        if edges == "exclusive":
            return self.lower <= length < self.upper and length > timedelta(0)
        return self.lower < length <= self.upper


_M = timedelta(minutes=1)
_H = timedelta(hours=1)
_D = timedelta(days=1)

# API notes, "Time windows and steps" (Scout's docs): the caller cannot choose the step; the
# window's length picks it, and "once a duration exceeds a tier, the next larger tier is used".
# The docs' tiers are <=30 min and <=60 min -> 1 min, <=3 h -> 2 min, <=6 h and <=12 h -> 5 min,
# <=1 d -> 10 min, <=3 d -> 30 min, <=7 d -> 1 h, <=14 d -> 2 h; merged into bands of equal step
# below. Upper edges are inclusive as documented (60 min -> 1 min, 14 d -> 2 h); quirk 16: nobody
# has recorded what the live API does at exactly an edge.
BANDS: tuple[Band, ...] = (
    Band(step=1 * _M, lower=timedelta(0), upper=60 * _M),  # docs: <=30 min and <=60 min: 1 min
    Band(step=2 * _M, lower=1 * _H, upper=3 * _H),  # docs: <=3 h: 2 min
    Band(step=5 * _M, lower=3 * _H, upper=12 * _H),  # docs: <=6 h and <=12 h: 5 min
    Band(step=10 * _M, lower=12 * _H, upper=1 * _D),  # docs: <=1 d: 10 min
    Band(step=30 * _M, lower=1 * _D, upper=3 * _D),  # docs: <=3 d: 30 min
    Band(step=1 * _H, lower=3 * _D, upper=7 * _D),  # docs: <=7 d: 1 h
    Band(step=2 * _H, lower=7 * _D, upper=MAX_WINDOW),  # docs: <=14 d: 2 h
)


def step_for_window(length: timedelta, edges: BandEdges = "inclusive") -> timedelta:
    """The documented step for a window of ``length``; ``ValueError`` outside ``(0, 14 d]``.

    With ``edges="exclusive"`` a window of exactly a band's upper edge takes the next band's
    step; a window of exactly 14 days, the longest accepted, stays at 2 h (there is no next band).
    The routes check the window first (a bad one is a 422), so the error is a simulator bug.
    """
    if edges == "exclusive" and length == MAX_WINDOW:
        return BANDS[-1].step
    for band in BANDS:
        if band.contains(length, edges):
            return band.step
    raise ValueError(f"no documented step for a window of {length}")


# -- the grid ----------------------------------------------------------------------------------

# Buckets sit on a grid aligned to the Unix epoch (UTC). Evidence: the real series in
# tests/fixtures/metrics.json starts on whole minutes (`2026-02-12T19:15:00Z`, one a minute);
# alignment of the coarser steps (for example 2 h buckets at even hours) is an assumption.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def floor_to_grid(moment: datetime, step: timedelta) -> datetime:
    """The grid point at or before ``moment`` on the epoch-aligned grid of ``step``."""
    return moment - (moment - EPOCH) % step


def ceil_to_grid(moment: datetime, step: timedelta) -> datetime:
    """The grid point at or after ``moment`` on the epoch-aligned grid of ``step``."""
    rest = (moment - EPOCH) % step
    return moment if not rest else moment + (step - rest)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch (floored)."""
    return (moment - EPOCH) // timedelta(seconds=1)


# -- times on the wire -------------------------------------------------------------------------

# API notes, quirk 1 and quirk 7: series times come as `2026-02-12T19:15:00Z` (tests/fixtures/
# metrics.json, apps_list.json) and Scout's clients send `%Y-%m-%dT%H:%M:%SZ` (UTC, seconds).
WIRE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(moment: datetime) -> str:
    """Scout's wire format, ``2026-07-05T17:20:11Z`` (UTC, whole seconds)."""
    return moment.astimezone(timezone.utc).strftime(WIRE_TIME_FORMAT)


def format_billing_time(moment: datetime) -> str:
    """``2026-03-01T00:00:00+00:00``: how ``/usage`` dates its billing period.

    Rails' ``DateTime#iso8601``. An assumption: ``/usage`` is not in the API notes' field
    lists, and Scout's Go CLI tests build billing periods from plain dates (``cmd/usage_test.go``:
    ``"2026-03-01"``), so the exact form is unconfirmed.
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant (``Z``, an offset, or none meaning UTC) as an aware UTC datetime.

    What Scout accepts in ``from``/``to`` beyond its clients' format is not documented; the
    simulator is lenient (offsets with or without a colon, any fraction, no zone) and refuses a
    bare date. Its own parser, so it reads the same forms on every Python version (3.10's
    ``fromisoformat`` refuses ``.5`` and ``+0000``). Raises ``ValueError``.
    """
    found = _INSTANT.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a date and time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        int((fraction or "")[:6].ljust(6, "0")),
        tzinfo=timezone.utc,
    )
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return moment


# -- ids ---------------------------------------------------------------------------------------


def encode_endpoint_id(name: str) -> str:
    """An endpoint's id: standard base64 of its name, padding kept.

    Source: API notes, quirk 3 (the last segment of an endpoint's ``link``), and the real body
    in tests/fixtures/endpoints.json (``api/metrics/show`` -> ``YXBpL21ldHJpY3Mvc2hvdw==``).
    """
    return base64.b64encode(name.encode()).decode("ascii")


def encode_job_id(full_name: str) -> str:
    """A job's id: the URL-safe base64 of its ``queue/JobName`` full name, padding kept.

    Source: Scout's Go CLI, ``cmd/jobs.go`` (``resolveJobID``: "the Base64 URL-safe job ID the
    API expects (matching Ruby's Base64.urlsafe_encode64, including padding)") and
    ``internal/api/types.go`` ("JobID is its Base64 URL-safe encoding"); openapi.yaml, the
    ``JobId`` parameter: "Base64 URL-encoded job identifier". The API notes' endpoints table
    says only "base64 of ``queue/JobName``"; the ids in the Go CLI's fixtures
    (test/fixtures/jobs.json) hold no character on which the two alphabets differ.
    """
    return base64.urlsafe_b64encode(full_name.encode()).decode("ascii")


def decode_id(text: str) -> str | None:
    """The name behind an endpoint or job id, or None.

    Both base64 alphabets are accepted, padding optional: an assumption that Scout decodes as
    Ruby's ``Base64.urlsafe_decode64`` does (it maps ``-``/``_`` and reads ``+``/``/`` as well,
    and pads what lacks padding); Scout's CLI sends both padded and unpadded ids.
    """
    bare = text.rstrip("=")
    if len(bare) % 4 == 1:
        return None
    padded = bare.replace("-", "+").replace("_", "/") + "=" * (-len(bare) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
        return raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def decode_job_id(text: str) -> str | None:
    """The ``queue/JobName`` behind a job id, or None when the id names no such thing.

    Scout answers such an id on a job's metric paths with a bare HTTP 500 (Scout's Go CLI,
    ``cmd/jobs.go``: the server "answers an unrecognized id with a bare 500", which is why the
    CLI checks that an id decodes to a name with a ``/`` before sending it).
    """
    name = decode_id(text)
    return name if name is not None and "/" in name.strip("/") else None
