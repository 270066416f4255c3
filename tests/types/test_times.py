"""Times as Scout may send them, read alike on every Python version.

Python 3.10's ``datetime.fromisoformat`` refuses forms that 3.11 reads: a fraction of other than
3 or 6 digits, an offset without a colon (``+0000``) or of hours only, a ``Z``, a comma before the
fraction. The client's parser reads them all; the forms are tested through the fallback itself
(``_parse_lenient``), which is what runs on 3.10, so these tests mean the same on any version.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scout_async._time import _parse_lenient, format_time, parse_time
from scout_async.types import App
from scout_async.types._convert import structure

UTC = timezone.utc
T = datetime(2026, 2, 12, 19, 15, tzinfo=UTC)

# (text, the instant) for forms Python 3.10's fromisoformat refuses.
REFUSED_BY_310 = [
    ("2026-02-12T19:15:00.1Z", T + timedelta(microseconds=100_000)),
    ("2026-02-12T19:15:00.12Z", T + timedelta(microseconds=120_000)),
    ("2026-02-12T19:15:00.12345+00:00", T + timedelta(microseconds=123_450)),
    ("2026-02-12T19:15:00.1234567Z", T + timedelta(microseconds=123_456)),  # cut, as 3.11 does
    ("2026-02-12T19:15:00.123456789+00:00", T + timedelta(microseconds=123_456)),
    ("2026-02-12T19:15:00+0000", T),
    ("2026-02-12T19:15:00+00", T),
    ("2026-02-12T21:15:00+0200", T),
    ("2026-02-12T11:45:00-0730", T),
    ("2026-02-12T19:15:00,5+00:00", T + timedelta(microseconds=500_000)),
    ("20260212T191500Z", T),
    ("2026-02-12T19:15:00.5-0000", T + timedelta(microseconds=500_000)),
]


@pytest.mark.parametrize(("text", "instant"), REFUSED_BY_310, ids=[t for t, _ in REFUSED_BY_310])
def test_forms_python_310_refuses_are_read(text: str, instant: datetime) -> None:
    assert parse_time(text) == instant
    assert parse_time(text).tzinfo is UTC
    # The fallback alone (a trailing Z is turned into +00:00 before it, as parse_time does).
    fallback = _parse_lenient(text[:-1] + "+00:00" if text.endswith("Z") else text)
    assert fallback.astimezone(UTC) == instant


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-02-12T19:15:00Z", T),
        ("2026-09-06T17:15:00.000-07:00", datetime(2026, 9, 7, 0, 15, tzinfo=UTC)),  # Go CLI
        ("2026-02-12 19:15:00", T),  # no zone: UTC
        ("2026-02-12T19:15", T),
        ("2026-02-12", datetime(2026, 2, 12, tzinfo=UTC)),
    ],
)
def test_common_forms_are_read(text: str, instant: datetime) -> None:
    assert parse_time(text) == instant
    moment = _parse_lenient(text.replace("Z", "+00:00"))
    assert (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) == instant


@pytest.mark.parametrize(
    "text", ["", "soon", "2026-02-12T19:15:00+5", "2026-13-01T00:00:00Z", "2026-02-12T25:00"]
)
def test_what_is_no_time_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601|must be in|out of range"):
        parse_time(text)


def test_a_model_reads_such_a_time() -> None:
    app = structure({"id": 1, "name": "a", "last_reported_at": "2026-02-12T19:15:00.1+0000"}, App)
    assert app.last_reported_at == T + timedelta(microseconds=100_000)


@pytest.mark.parametrize("step", [60, 120, 300, 600, 1800, 3600, 7200])
@pytest.mark.parametrize("count", [1, 2, 97, 3000])
def test_grid_text_is_the_grid_formatted_and_joined(step: int, count: int) -> None:
    from scout_async._time import grid_text

    # Starting 22:00 the day before a leap day: the grid crosses midnights and Feb 29.
    first = int(datetime(2028, 2, 28, 22, tzinfo=timezone.utc).timestamp())
    want = "".join(
        format_time(datetime.fromtimestamp(first + k * step, timezone.utc)) for k in range(count)
    )
    assert grid_text(first, step, count) == want


def test_grid_text_refuses_what_is_not_a_grid() -> None:
    from scout_async._time import grid_text

    assert grid_text(30, 60, 3) is None  # not on the step's grid
    assert grid_text(0, 7, 3) is None  # a step that does not divide a day
    assert grid_text(0, 60, 0) is None
    assert grid_text(0, 0, 3) is None
