"""``--from``/``--to`` parsing: ISO 8601 instants, relative times, ``now`` (table-driven)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scout_async._cli.times import TIME_HELP, TimeSpec, parse_time_spec, resolve_time

UTC = timezone.utc
NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=UTC)

RELATIVE = [
    ("now", timedelta(0)),
    ("NOW", timedelta(0)),
    (" now ", timedelta(0)),
    ("30d", timedelta(days=30)),
    ("12h", timedelta(hours=12)),
    ("90m", timedelta(minutes=90)),
    ("2w", timedelta(weeks=2)),
    ("45s", timedelta(seconds=45)),
    ("1d12h", timedelta(days=1, hours=12)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("30D", timedelta(days=30)),
    (" 12h ", timedelta(hours=12)),
    ("-2h", timedelta(hours=2)),
    ("2h ago", timedelta(hours=2)),
    ("0m", timedelta(0)),
]

ABSOLUTE = [
    ("2026-07-01", datetime(2026, 7, 1, tzinfo=UTC)),
    ("2026-07-01T12:00:00Z", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T12:00:00z", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T12:00Z", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T14:00:00+02:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T14:00+0200", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T07:00:00-05:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T12:00:00+00:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    # No offset: UTC, as the help says.
    ("2026-07-01T12:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T12:00:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01 12:00:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
    ("2026-07-01T12:00:00.250Z", datetime(2026, 7, 1, 12, 0, 0, 250000, tzinfo=UTC)),
    # The day before DST ends in Europe: fixed offsets only, no zone rules involved.
    ("2026-10-25T02:30:00+01:00", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
]

INVALID = [
    "",
    "   ",
    "yesterday",
    "30",  # a number without a unit
    "1mo",  # months are not fixed durations
    "1y",
    "d",
    "12h30",
    "now-1h",
    "+2h",
    "2026-13-01",
    "2026-07-01T25:00:00Z",
    "07/01/2026",
]


@pytest.mark.parametrize(("text", "ago"), RELATIVE)
def test_relative(text: str, ago: timedelta) -> None:
    spec = parse_time_spec(text)
    assert spec.ago == ago
    assert spec.instant is None
    assert resolve_time(spec, NOW) == NOW - ago


@pytest.mark.parametrize(("text", "instant"), ABSOLUTE)
def test_absolute(text: str, instant: datetime) -> None:
    spec = parse_time_spec(text)
    assert spec.instant == instant
    assert spec.instant is not None
    assert spec.instant.utcoffset() == timedelta(0)
    assert resolve_time(spec, NOW) == instant  # "now" does not move an absolute time


@pytest.mark.parametrize("text", INVALID)
def test_invalid_names_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="30d") as info:
        parse_time_spec(text)
    assert TIME_HELP in str(info.value)


def test_resolve_counts_back_from_an_aware_now_in_any_zone() -> None:
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    resolved = resolve_time(TimeSpec(text="1h", ago=timedelta(hours=1)), tokyo)
    assert resolved == NOW - timedelta(hours=1)
    assert resolved.tzinfo == UTC


def test_the_text_is_kept_for_messages() -> None:
    assert parse_time_spec("30d").text == "30d"
