"""Each known quirk of the live API (issue 10), against the simulator behaving like it.

Every test here fails without the client's handling of its quirk; docs/scout-api.md lists the
quirks with their sources.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import pytest

import scout_async
from scout_async import ScoutClient
from scout_async.testing import DEFAULT_API_KEY, ScoutSimulator
from scout_async.types import Listing, Page
from scout_async.types._convert import reset_warnings
from tests.conftest import VirtualClock

NOW = datetime(2026, 7, 5, 17, 20, 11, tzinfo=timezone.utc)
APP = 101
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def sim() -> ScoutSimulator:
    return ScoutSimulator(now=NOW, unreported_apps=[104])


@pytest.fixture
async def client(sim: ScoutSimulator) -> AsyncIterator[ScoutClient]:
    async with (
        sim.http_client() as http,
        ScoutClient(api_key=DEFAULT_API_KEY, http_client=http, clock=VirtualClock(wall=NOW)) as c,
    ):
        yield c


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    reset_warnings()
    yield
    reset_warnings()


# -- 1. span durations are seconds -------------------------------------------------------------


async def test_span_durations_are_read_as_seconds(client: ScoutClient) -> None:
    endpoint = (await client.endpoints.list(APP, start=NOW - DAY, end=NOW))[0]
    listed = await client.traces.list(APP, endpoint_id=endpoint.id, start=NOW - DAY, end=NOW)
    trace = await client.traces.get(APP, listed[0].id)
    root = trace.root_spans[0]
    assert trace.total_call_time is not None
    assert root.duration_s is not None
    # The root span is the whole request: total_call_time is in ms, the span in seconds.
    assert root.duration_s == pytest.approx(trace.total_call_time / 1000, abs=1e-6)
    assert root.duration_s == trace.duration_in_seconds
    for span in trace.spans:
        assert span.duration_s is not None
        assert span.duration_s <= root.duration_s
        assert span.exclusive_duration_s is not None
        assert span.exclusive_duration_s <= span.duration_s


# -- 2. the anomaly `endpoint` filter matches scoped names -------------------------------------


async def test_anomalies_of_an_endpoint_given_its_plain_name_or_id(client: ScoutClient) -> None:
    start = NOW - 14 * DAY
    events = await client.anomalies.list(APP, start=start, end=NOW)
    scoped = next(e.endpoint for e in events if e.endpoint)
    assert scoped.startswith("Controller/")  # what Scout stores
    plain = scoped.removeprefix("Controller/")
    by_scoped = await client.anomalies.list(APP, start=start, end=NOW, endpoint=scoped)
    by_plain = await client.anomalies.list(APP, start=start, end=NOW, endpoint=plain)
    endpoint_id = base64.b64encode(plain.encode()).decode()
    by_id = await client.anomalies.list(APP, start=start, end=NOW, endpoint=endpoint_id)
    assert by_scoped
    assert by_plain == by_scoped == by_id
    assert {e.endpoint for e in by_plain} == {scoped}


async def test_an_anomaly_endpoint_that_is_no_name_is_refused(
    client: ScoutClient, sim: ScoutSimulator
) -> None:
    with pytest.raises(scout_async.ArgumentError, match="neither an endpoint name"):
        await client.anomalies.list(APP, start=NOW - DAY, end=NOW, endpoint="users")
    assert sim.requests == []


# -- 3. errors_count 0 on an error group's detail ----------------------------------------------


async def test_the_detail_count_of_0_is_not_passed_on(client: ScoutClient) -> None:
    groups = await client.errors.list(APP, start=NOW - 14 * DAY, end=NOW)
    assert all(g.errors_count for g in groups)  # the listing's figures are real
    detail = await client.errors.get(APP, groups[0].id)
    assert detail.errors_count is None  # the live API says 0: unknown, not "no errors"
    errors = await client.errors.list_errors(APP, groups[0].id)
    assert errors  # the group does have errors


# -- 4. a job id naming no queue/JobName: a bare 500 on the live API ---------------------------

NO_QUEUE = [
    "TWFpbGVySm9i",  # "MailerJob": a class name copy-pasted without its queue
    "bm9wZQ==",  # "nope"
    "default/MailerJob",  # the full name, not its id
]


@pytest.mark.parametrize("job_id", NO_QUEUE)
async def test_a_job_id_of_no_queue_and_job_is_not_found_without_a_request(
    client: ScoutClient, sim: ScoutSimulator, job_id: str
) -> None:
    calls = [
        client.metrics.get(APP, "throughput", job_id=job_id, start=NOW - HOUR, end=NOW),
        client.metrics.list(APP, job_id=job_id),
        client.traces.list(APP, job_id=job_id, start=NOW - HOUR, end=NOW),
    ]
    for call in calls:
        with pytest.raises(scout_async.NotFoundError, match="no job has the id") as info:
            await call
        assert "bare HTTP 500" in str(info.value)
        assert info.value.path is not None
        assert info.value.path.startswith(f"/apps/{APP}/jobs/")
    with pytest.raises(scout_async.NotFoundError):  # checked at the call, as its arguments are
        client.metrics.stream(APP, "throughput", job_id=job_id, start=NOW - HOUR, end=NOW)
    assert sim.requests == []  # nothing sent, nothing retried


async def test_what_the_simulator_answers_such_an_id(sim: ScoutSimulator) -> None:
    # The same id sent anyway: a bare 500, retried and then a ServerError. The client never
    # sends it; this shows the answer it avoids.
    async with (
        sim.http_client() as http,
        ScoutClient(
            api_key=DEFAULT_API_KEY, http_client=http, clock=VirtualClock(wall=NOW), max_retries=0
        ) as raw,
    ):
        with pytest.raises(scout_async.ScoutError) as info:
            await raw._core.get(f"/apps/{APP}/jobs/TWFpbGVySm9i/metrics/throughput")
    assert isinstance(info.value, scout_async.ServerError)
    assert [r.status for r in sim.requests] == [500]


async def test_a_well_formed_id_of_no_job(client: ScoutClient) -> None:
    nope = base64.urlsafe_b64encode(b"default/NoSuchJob").decode()
    # Its metrics: an empty series, as Scout answers (its CLI's tests); its traces: not found.
    series = await client.metrics.get(APP, "throughput", job_id=nope, start=NOW - HOUR, end=NOW)
    assert series.points == []
    with pytest.raises(scout_async.NotFoundError, match="Job not found"):
        await client.traces.list(APP, job_id=nope, start=NOW - HOUR, end=NOW)


# -- 5. one odd value does not fail a listing --------------------------------------------------


async def test_an_app_that_never_reported_does_not_fail_the_listing(
    client: ScoutClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="scout_async")
    apps = await client.apps.list()
    assert [a.id for a in apps] == [101, 102, 103, 104, 105]
    quiet = next(a for a in apps if a.id == 104)
    assert quiet.last_reported_at is None  # Scout sent "": no report yet
    assert all(a.last_reported_at is not None for a in apps if a.id != 104)
    assert (await client.apps.get(104)).last_reported_at is None
    await client.apps.list()
    logged = [r.getMessage() for r in caplog.records if r.name == "scout_async"]
    assert len(logged) == 1  # once, however often it is seen
    assert "App.last_reported_at" in logged[0]


# -- 7. the smaller ones -----------------------------------------------------------------------


async def test_max_allocations_keep_their_fractions(client: ScoutClient) -> None:
    endpoints = await client.endpoints.list(APP, start=NOW - DAY, end=NOW)
    values = [e.max_allocations for e in endpoints]
    assert all(isinstance(v, float) for v in values)
    assert any(v is not None and v != int(v) for v in values)


async def test_job_ids_are_url_safe_base64(client: ScoutClient, sim: ScoutSimulator) -> None:
    # "q/???>Jo" is "cS8/Pz8+Sm8=" in the standard alphabet and "cS8_Pz8-Sm8=" URL-safe.
    made = sim.add_job(APP, "q/???>Jo")
    assert made == "cS8_Pz8-Sm8="
    jobs = await client.jobs.list(APP, start=NOW - DAY, end=NOW)
    job = next(j for j in jobs if j.full_name == "q/???>Jo")
    assert job.id == made
    series = await client.metrics.get(APP, "throughput", job_id=job.id, start=NOW - HOUR, end=NOW)
    assert series.points
    assert type(job)(full_name=job.full_name).id == made  # computed from the name alike


async def test_the_100_item_caps_are_flagged(client: ScoutClient) -> None:
    endpoint = next(
        e
        for e in await client.endpoints.list(APP, start=NOW - DAY, end=NOW)
        if e.name == "api/metrics/show"
    )
    week = await client.traces.list(
        APP, endpoint_id=endpoint.id, start=NOW - 7 * DAY, end=NOW, clamp=True
    )
    hour = await client.traces.list(APP, endpoint_id=endpoint.id, start=NOW - 6 * HOUR, end=NOW)
    assert isinstance(week, Listing)
    assert (len(week), week.capped) == (100, True)  # Scout stopped at 100: there are more
    assert hour.capped is False
    assert len(hour) < 100
    groups = await client.errors.list(APP, start=NOW - 14 * DAY, end=NOW)
    assert groups.capped is False
    busiest = max(groups, key=lambda g: g.errors_count or 0)
    assert (busiest.errors_count or 0) > 100
    errors = await client.errors.list_errors(APP, busiest.id)
    assert (len(errors), errors.capped) == (100, True)
    events = await client.anomalies.list(APP, start=NOW - 14 * DAY, end=NOW)
    assert isinstance(events, Listing)
    assert events.capped is False


async def test_paging_totals_are_kept(client: ScoutClient) -> None:
    everything = await client.endpoints.list(APP, start=NOW - DAY, end=NOW)
    page = await client.endpoints.page(APP, start=NOW - DAY, end=NOW, limit=3, sort_by="throughput")
    assert isinstance(page, Page)
    assert (page.total_count, page.count, len(page.items), page.has_more) == (
        len(everything),
        3,
        3,
        True,
    )
    last = await client.endpoints.page(APP, start=NOW - DAY, end=NOW, limit=50, offset=3)
    assert (last.total_count, last.count, last.has_more) == (
        len(everything),
        len(everything) - 3,
        False,
    )

    history = await client.insights.history_page(APP, start=NOW - 7 * DAY, end=NOW, limit=5)
    assert history.total_count is not None
    assert history.total_count > 5
    assert (len(history.items), history.has_more) == (5, True)
    assert history.cursor == history.items[-1].id
    after = await client.insights.history_page(
        APP, start=NOW - 7 * DAY, end=NOW, limit=5, cursor=history.cursor, page=history.next_page
    )
    assert {i.id for i in after.items}.isdisjoint({i.id for i in history.items})
    assert after.total_count == history.total_count


async def test_insights_history_pages_backwards(client: ScoutClient) -> None:
    start = NOW - 20 * DAY  # two windows: the older one first when reading backwards
    forward = [i async for i in client.insights.history(APP, start=start, end=NOW, limit=7)]
    backward = [
        i
        async for i in client.insights.history(
            APP, start=start, end=NOW, limit=7, direction="backward"
        )
    ]
    assert len(forward) > 14
    assert [i.id for i in backward] == [i.id for i in reversed(forward)]
    seen = [i.first_seen_at for i in backward]
    assert seen == sorted(seen)  # type: ignore[type-var]
    # What is new since an insight already seen: backward from it.
    mark = backward[len(backward) // 2]
    newer = [
        i
        async for i in client.insights.history(
            APP, start=start, end=NOW, direction="backward", cursor=mark.id
        )
    ]
    assert [i.id for i in newer] == [i.id for i in backward[len(backward) // 2 + 1 :]]


async def test_insights_history_checks_direction_and_cursor(client: ScoutClient) -> None:
    with pytest.raises(scout_async.ArgumentError, match="direction"):
        client.insights.history(APP, start=NOW - DAY, end=NOW, direction="sideways")
    with pytest.raises(scout_async.ArgumentError, match="cursor"):
        client.insights.history(APP, start=NOW - DAY, end=NOW, cursor=-1)
    with pytest.raises(scout_async.ArgumentError, match="14 days"):
        await client.insights.history_page(APP, start=NOW - 20 * DAY, end=NOW)
