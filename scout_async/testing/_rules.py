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
from datetime import datetime, timedelta, timezone

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
    "ceil_to_grid",
    "decode_id",
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


@attrs.frozen
class Band:
    """Window lengths in ``(lower, upper]`` are answered at ``step``."""

    step: timedelta
    lower: timedelta
    upper: timedelta

    def contains(self, length: timedelta) -> bool:
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


def step_for_window(length: timedelta) -> timedelta:
    """The documented step for a window of ``length``; ``ValueError`` outside ``(0, 14 d]``.

    The routes check the window first (a bad one is a 422), so the error is a simulator bug.
    """
    for band in BANDS:
        if band.contains(length):
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


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant (``Z``, an offset, or none meaning UTC) as an aware UTC datetime.

    What Scout accepts in ``from``/``to`` beyond its clients' format is not documented; the
    simulator is lenient (offsets, no zone) and refuses a bare date. Raises ``ValueError``.
    """
    value = text.strip()
    # Python 3.10's fromisoformat does not read a trailing Z.
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if "T" not in value and " " not in value:
        raise ValueError(f"not a date and time: {text!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# -- ids ---------------------------------------------------------------------------------------


def encode_endpoint_id(name: str) -> str:
    """An endpoint's id: standard base64 of its name, padding kept.

    Source: API notes, quirk 3 (the last segment of an endpoint's ``link``), and the real body
    in tests/fixtures/endpoints.json (``api/metrics/show`` -> ``YXBpL21ldHJpY3Mvc2hvdw==``).
    """
    return base64.b64encode(name.encode()).decode("ascii")


def encode_job_id(full_name: str) -> str:
    """A job's id: base64 of its ``queue/JobName`` full name, padding kept.

    Source: API notes, the endpoints table ("``job_id`` is base64 of ``queue/JobName``"); the
    Go CLI's fixture test/fixtures/jobs.json has only ids without ``+``/``/`` either way. Its
    ``cmd/jobs.go`` (``resolveJobID``) says the API expects the URL-safe alphabet (Ruby's
    ``Base64.urlsafe_encode64``); the simulator still sends the standard alphabet and accepts
    both (see ``decode_id``). Issue 10 tracks changing this.
    """
    return base64.b64encode(full_name.encode()).decode("ascii")


def decode_id(text: str) -> str | None:
    """The name behind an endpoint or job id, or None.

    Both base64 alphabets are accepted, as Rails' lenient decoding would (an assumption; it
    lets a client that sends either alphabet find the record).
    """
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        return raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
