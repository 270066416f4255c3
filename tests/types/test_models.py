"""The API models as the live API fills them: units in the names, Scout's quirks read honestly,
and one odd value never costing a whole listing."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from scout_async import ResponseFormatError
from scout_async._resources.shape import parse, parse_list
from scout_async.types import (
    App,
    Endpoint,
    ErrorGroup,
    ErrorOccurrence,
    Job,
    Listing,
    Page,
    Span,
    Trace,
    TraceSummary,
)
from scout_async.types._convert import reset_warnings, structure

UTC = timezone.utc


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    """Each test sees the warnings its own records cause (they are logged once per field)."""
    reset_warnings()
    yield
    reset_warnings()


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "scout_async"]


# -- spans: seconds, despite the key names -----------------------------------------------------

# Scout's Go CLI, internal/api/traces_test.go (TestGetTraceFloatMemDelta): an 83.5 s request.
GO_CLI_TRACE: dict[str, Any] = {
    "id": 1827043988,
    "time": "2026-09-06T17:15:00.000-07:00",
    "total_call_time": 83483.85,
    "mem_delta": 2.9296875,
    "metric_name": "Controller/api/metrics/show",
    "uri": "/x",
    "context": {},
    "transaction_id": "abc",
    "hostname": "web-1",
    "git_sha": "deadbeef",
    "duration_in_seconds": 83.483853,
    "allocations_count": 15467,
    "limited": False,
    "spans": [
        {
            "id": "span-1",
            "parent_id": None,
            "operation": "Middleware/Summary",
            "type": "Middleware",
            "description": None,
            "duration_ms": 83.48,
            "exclusive_duration_ms": 0.0038,
            "allocations": 15467,
            "children": [],
        }
    ],
}


def test_span_durations_are_seconds_under_an_honest_name() -> None:
    trace = structure(GO_CLI_TRACE, Trace)
    (root,) = trace.spans
    assert root.duration_s == 83.48  # the whole 83.5 s request, not 83 ms
    assert root.exclusive_duration_s == 0.0038
    assert root.duration_s == pytest.approx(trace.duration_in_seconds or 0, abs=0.01)
    assert root.duration_s == pytest.approx((trace.total_call_time or 0) / 1000, abs=0.01)
    assert trace.time == datetime(2026, 9, 7, 0, 15, tzinfo=UTC)  # a 3-digit fraction, -07:00
    assert trace.mem_delta == 2.9296875


def test_span_has_no_field_named_in_ms_and_none_from_no_source() -> None:
    names = {a.name for a in attrs.fields(Span)}
    assert {"duration_s", "exclusive_duration_s"} <= names
    assert not {n for n in names if n.endswith("_ms")}  # no unit in a name that is not its unit
    assert "start_offset_ms" not in names  # in no source: Scout's span has no such key


def test_legacy_format_is_read() -> None:
    legacy = structure({**GO_CLI_TRACE, "legacy_format": True, "spans": []}, Trace)
    assert legacy.legacy_format is True
    assert legacy.spans == []
    assert structure(GO_CLI_TRACE, Trace).legacy_format is None  # not sent: unknown


# -- endpoints and jobs ------------------------------------------------------------------------


def test_max_allocations_keeps_its_fraction() -> None:
    endpoint = structure({"name": "users/index", "max_allocations": 1.7}, Endpoint)
    assert endpoint.max_allocations == 1.7
    assert structure({"name": "a/b", "max_allocations": 474271}, Endpoint).max_allocations == 474271


def test_a_job_id_made_from_the_name_is_url_safe_base64() -> None:
    # "q/???>Jo" is "cS8/Pz8+Sm8=" in the standard alphabet: the alphabets differ on it.
    assert base64.b64encode(b"q/???>Jo").decode() == "cS8/Pz8+Sm8="
    job = Job(full_name="q/???>Jo")
    assert job.id == "cS8_Pz8-Sm8="
    assert Job(full_name="q/???>Jo", job_id="given").id == "given"  # Scout's own id wins


# -- error groups: a count of 0 is unknown -----------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"), [(0, None), (1, 1), (4321, 4321), (None, None), ("absent", None)]
)
def test_an_errors_count_of_0_is_unknown(sent: Any, read: int | None) -> None:
    raw: dict[str, Any] = {"id": 7, "name": "NoMethodError"}
    if sent != "absent":
        raw["errors_count"] = sent
    assert structure(raw, ErrorGroup).errors_count == read
    assert structure(raw, ErrorGroup, lenient=True).errors_count == read


# -- one odd value -----------------------------------------------------------------------------


def test_an_empty_value_reads_as_none_and_is_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="scout_async")
    for lenient in (False, True):  # a listing's record, or one asked for alone
        app = structure({"id": 101, "name": "shop", "last_reported_at": ""}, App, lenient=lenient)
        assert app == App(id=101, name="shop", last_reported_at=None)
    assert structure({"id": 102, "name": ""}, App).name == ""  # text may be empty
    (message,) = warnings(caplog)
    assert "App.last_reported_at" in message
    assert "''" in message


def test_a_listing_record_survives_an_unreadable_optional_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="scout_async")
    raw = {
        "id": 9,
        "time": "yesterday",
        "total_call_time": "slow",
        "mem_delta": 1.5,
        "context": "none",
    }
    summary = structure(raw, TraceSummary, lenient=True)
    assert summary == TraceSummary(id=9, mem_delta=1.5)
    again = structure({**raw, "id": 10}, TraceSummary, lenient=True)
    assert again.id == 10
    found = warnings(caplog)
    assert len(found) == 3  # one per field, not one per record
    assert {m.split(" = ")[0].split()[-1] for m in found} == {
        "TraceSummary.time",
        "TraceSummary.total_call_time",
        "TraceSummary.context",
    }


def test_an_unreadable_value_of_one_record_asked_alone_is_an_error() -> None:
    with pytest.raises(ResponseFormatError, match=r"TraceSummary.*yesterday"):
        parse({"id": 9, "time": "yesterday"}, TraceSummary, "/x")
    with pytest.raises(ResponseFormatError, match=r"TraceSummary.*list"):
        parse({"id": 9, "context": ["a"]}, TraceSummary, "/x")


def test_an_unreadable_required_value_fails_even_a_listing() -> None:
    good = {"id": 8, "time": "2026-07-05T17:20:11Z"}
    with pytest.raises(ResponseFormatError, match=r"TraceSummary.*nine"):
        parse_list([good, {**good, "id": "nine"}], TraceSummary, "/x")
    with pytest.raises(ResponseFormatError, match=r"App.*name"):
        parse_list([{"id": 101}], App, "/apps")


def test_a_string_where_a_list_belongs_is_no_list_of_letters() -> None:
    with pytest.raises(ResponseFormatError, match="trace"):
        parse({"id": 1, "trace": "many"}, ErrorOccurrence, "/x")
    (read,) = parse_list([{"id": 1, "trace": "many"}], ErrorOccurrence, "/x")
    assert read.trace == []


def test_a_nested_record_is_repaired_in_place(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="scout_async")
    raw = {
        "id": 7,
        "last_error_at": "2026-07-05T16:00:00Z",
        "latest_error": {"id": 1, "created_at": "not a time", "trace": "many"},
    }
    group = structure(raw, ErrorGroup, lenient=True)
    assert group.last_error_at == datetime(2026, 7, 5, 16, tzinfo=UTC)
    assert group.latest_error is not None
    assert (group.latest_error.created_at, group.latest_error.trace) == (None, [])
    assert len(warnings(caplog)) == 2


# -- Listing and Page --------------------------------------------------------------------------


def test_a_listing_is_a_list_that_says_it_was_capped() -> None:
    listing = Listing([1, 2, 3], capped=True, total_count=7)
    assert isinstance(listing, list)
    assert listing == [1, 2, 3]
    assert listing[1:] == [2, 3]
    assert (listing.capped, listing.total_count) == (True, 7)
    assert repr(listing) == "Listing([1, 2, 3], capped=True, total_count=7)"
    plain = Listing[int]()
    assert (plain, plain.capped, plain.total_count) == ([], False, None)


def test_a_page_holds_scouts_paging_figures() -> None:
    page = Page(items=["a"], has_more=True, total_count=3, count=1, cursor=40, next_page=2)
    assert page == Page(["a"], True, 3, 1, 40, 2)
    assert Page(items=[], has_more=False).total_count is None
