"""ScoutExporter over real localhost HTTP while it polls the simulator: values, labels, units,
self-metrics, and faults (5xx, 429, an app that hangs, a refused key, a failing start)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio
import anyio.to_thread
import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)

from scout_async import ArgumentError, AuthenticationError, ScoutClient
from scout_async._series.steps import floor_to_grid
from scout_async.exporters import ScoutExporter
from scout_async.testing import Fault, ScoutSimulator, SimulatorServer

from .support import (
    SECRET,
    M,
    ScaledClock,
    Scrape,
    eventually,
    parse,
    promtool_check,
    running,
)

APPS = [101, 102]
LATENESS = timedelta(minutes=2)


def has_values(scrape: Scrape, app: str, count: int = 6) -> bool:
    return len(scrape.get("scout_app_bucket_timestamp_seconds", app_id=app)) == count


async def test_every_app_and_metric_is_a_gauge_in_base_units_with_its_bucket() -> None:
    async with running(apps=APPS, metrics="all") as run:
        scrape = await run.until(
            lambda s: has_values(s, "101") and has_values(s, "102"), what="values of both apps"
        )
        now = run.clock.now()
        names = {101: "Storefront Production", 102: "Storefront Staging"}
        for app in APPS:
            for metric, name, scale in [
                ("response_time", "scout_app_response_time_seconds", 0.001),
                ("response_time_95th", "scout_app_response_time_p95_seconds", 0.001),
                ("queue_time", "scout_app_queue_time_seconds", 0.001),
                ("throughput", "scout_app_throughput_requests_per_second", 1 / 60),
                ("apdex", "scout_app_apdex_ratio", 1.0),
                ("errors", "scout_app_errors", 1.0),
            ]:
                labels = {"app_id": str(app), "app_name": names[app], "metric": metric}
                assert scrape.label_sets(name).count(labels) == 1
                value = scrape.one(name, **labels)
                bucket = scrape.one("scout_app_bucket_timestamp_seconds", **labels)
                assert value is not None
                assert bucket is not None
                start = datetime.fromtimestamp(bucket, tz=timezone.utc)
                assert floor_to_grid(start, M) == start
                # A complete bucket: it ended at least `lateness` ago.
                assert start + M <= now - LATENESS
                # Its value is Scout's for that very bucket, in the exported unit.
                series = await run.client.metrics.get(
                    app, metric, start=start, end=start + M, resolution="1m"
                )
                sent = [p.value for p in series.points if p.time == start]
                assert sent
                assert sent[0] is not None
                assert value == pytest.approx(sent[0] * scale)
                assert scrape.one("scout_exporter_series_stale", **labels) == 0.0
                success = scrape.one("scout_exporter_last_success_timestamp_seconds", **labels)
                assert success is not None
                assert success <= now.timestamp()


async def test_a_coarse_step_has_its_last_complete_bucket_at_once() -> None:
    # At 17:45 the last complete hour (lateness 2m) is 16:00-17:00: more than 30 minutes back.
    clock = ScaledClock(60, wall=datetime(2026, 7, 5, 17, 45, tzinfo=timezone.utc))
    async with running(clock=clock, apps=[101], metrics=["throughput"], resolution="1h") as run:
        scrape = await run.until(lambda s: has_values(s, "101", 1), what="an hourly value")
        bucket = scrape.one("scout_app_bucket_timestamp_seconds", app_id="101")
        assert bucket == datetime(2026, 7, 5, 16, tzinfo=timezone.utc).timestamp()
        assert scrape.one("scout_exporter_resolution_seconds") == 3600
        assert run.clock.elapsed() < 15 * 60  # long before the next hour completes


async def test_self_metrics_and_configuration_are_exposed() -> None:
    async with running(apps=APPS, metrics=["throughput", "apdex"]) as run:
        scrape = await run.until(
            lambda s: has_values(s, "101", 2) and has_values(s, "102", 2), what="values"
        )
        for app, name in [("101", "Storefront Production"), ("102", "Storefront Staging")]:
            polls = scrape.one("scout_exporter_polls_total", app_id=app, app_name=name)
            assert polls is not None
            assert polls >= 2
        assert scrape.get("scout_exporter_poll_errors_total") == []
        requests = scrape.one("scout_exporter_requests_total")
        assert requests is not None
        assert requests >= 4
        assert scrape.one("scout_exporter_retries_total") == 0
        assert scrape.one("scout_exporter_rate_limited_total") == 0
        assert scrape.one("scout_exporter_rate_limit_wait_seconds_total") == 0
        assert scrape.one("scout_exporter_rate_limit_pause_seconds") == 0
        assert scrape.one("scout_exporter_requests_in_flight") is not None
        assert scrape.one("scout_exporter_poll_restarts_total") == 0
        assert scrape.one("scout_exporter_app_list_errors_total") == 0
        (info,) = scrape.label_sets("scout_exporter_build_info")
        assert info["version"] == __import__("scout_async").__version__
        assert scrape.one("scout_exporter_build_info") == 1
        assert scrape.one("scout_exporter_interval_seconds") == 60
        assert scrape.one("scout_exporter_resolution_seconds") == 60
        # lateness 2m + resolution 1m + three polls of 1m; stale after two polls + the timeout.
        assert scrape.one("scout_exporter_max_age_seconds") == 360
        assert scrape.one("scout_exporter_stale_after_seconds") == 180
        # Polls go on: the buckets move forward as the (fast) clock does.
        first = scrape.one("scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex")
        assert first is not None
        await run.until(
            lambda s: (
                (s.one("scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex") or 0)
                >= first + 120
            ),
            what="two more buckets",
        )


async def test_the_exposition_passes_promtool_and_both_parsers_and_holds_no_key(
    promtool: str,
) -> None:
    async with running(apps=APPS, metrics="all") as run:
        run.sim.add_fault(Fault(path="/apps/102/metrics/apdex", status=503, times=None))
        scrape = await run.until(
            lambda s: has_values(s, "101") and bool(s.get("scout_exporter_poll_errors_total")),
            what="values and an error",
        )
        checked = promtool_check(promtool, scrape.text)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout + checked.stderr == ""
        # OpenMetrics when Prometheus asks for it (and prometheus_client's strict parser agrees).
        response = await run.http.get(
            run.url + "/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        parsed = openmetrics_families(response.text)  # type: ignore[no-untyped-call]
        families = {family.name for family in parsed}
        assert {"scout_app_response_time_seconds", "scout_exporter_polls"} <= families
        # No key anywhere: not in the exposition, the other routes, or the exporter's repr.
        seen = [scrape.text, response.text, repr(run.exporter)]
        for path in ("/", "/healthz", "/readyz"):
            seen.append((await run.http.get(run.url + path)).text)
        assert all(SECRET not in text for text in seen)


async def test_a_failing_app_is_marked_stale_then_dropped_and_never_holds_up_the_others() -> None:
    async with running(
        speed=120,
        apps=APPS,
        metrics="all",
        lateness=timedelta(minutes=1),
        # Two minutes past the least allowed (lateness + resolution + one poll): a value
        # outlives the first failed poll by two minutes, then goes.
        max_age=timedelta(minutes=5),
        client_options={"max_retries": 1},
    ) as run:
        await run.until(lambda s: has_values(s, "101") and has_values(s, "102"), what="values")
        run.sim.add_fault(Fault(path="/apps/102/metrics/*", status=503, times=None))
        labels = {"app_id": "102", "metric": "apdex"}
        stale_with_value = await run.until(
            lambda s: s.one("scout_exporter_series_stale", **labels) == 1.0,
            what="app 102 stale",
        )
        # Marked stale at once, its last value still there while younger than max_age.
        assert stale_with_value.one("scout_app_apdex_ratio", **labels) is not None
        dropped = await run.until(
            lambda s: s.one("scout_app_apdex_ratio", **labels) is None, what="102 dropped"
        )
        assert dropped.one("scout_exporter_series_stale", **labels) == 1.0
        assert dropped.one("scout_exporter_last_success_timestamp_seconds", **labels) is not None
        errors = dropped.one("scout_exporter_poll_errors_total", app_id="102", error="ServerError")
        assert errors is not None
        assert errors >= 6
        assert dropped.get("scout_exporter_poll_errors_total", app_id="101") == []
        retries = dropped.one("scout_exporter_retries_total")
        assert retries is not None
        assert retries >= 6
        # App 101 kept going: fresh values, never stale, its buckets still moving.
        assert has_values(dropped, "101")
        assert dropped.get("scout_exporter_series_stale", app_id="101") == [0.0] * 6
        before = dropped.one("scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex")
        assert before is not None
        await run.until(
            lambda s: (
                (s.one("scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex") or 0)
                > before
            ),
            what="101 moving on",
        )
        # Once app 102 answers again, it is back.
        run.sim.clear_faults()
        await run.until(
            lambda s: (
                s.one("scout_app_apdex_ratio", **labels) is not None
                and s.one("scout_exporter_series_stale", **labels) == 0.0
            ),
            what="102 back",
        )


async def test_a_hanging_app_never_holds_up_the_others_or_the_scrape() -> None:
    async with running(apps=APPS, metrics="all", timeout=0.5) as run:
        await run.until(lambda s: has_values(s, "101"), what="values of 101")
        run.sim.add_fault(Fault(path="/apps/102/metrics/*", latency=30.0, times=None))
        first = (await run.scrape()).one(
            "scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex"
        )
        assert first is not None
        scrapes_during_a_hang = 0

        def check(s: Scrape) -> bool:
            return (
                s.one("scout_exporter_poll_errors_total", app_id="102", error="APITimeoutError")
                or 0
            ) >= 6 and (
                s.one("scout_app_bucket_timestamp_seconds", app_id="101", metric="apdex") or 0
            ) >= first + 180

        while True:
            hanging = run.sim.in_flight
            scrape = await run.scrape()
            if hanging and run.sim.in_flight:
                scrapes_during_a_hang += 1  # answered while a request to Scout hung
            if check(scrape):
                break
            await anyio.sleep(0.02)
            assert run.clock.elapsed() < 3600, scrape.text
        assert scrapes_during_a_hang > 0
        assert scrape.get("scout_exporter_series_stale", app_id="102") == [1.0] * 6
        assert scrape.get("scout_exporter_series_stale", app_id="101") == [0.0] * 6
        assert has_values(scrape, "101")


async def test_a_429_pauses_every_request_so_the_exporter_slows_down() -> None:
    retry_after = 120.0
    concurrency = 4
    async with running(
        speed=120,
        apps=APPS,
        metrics="all",
        client_options={"max_concurrency": concurrency, "max_retries": 3},
    ) as run:
        await run.until(lambda s: has_values(s, "101") and has_values(s, "102"), what="values")
        before = len(run.sim.requests)
        start = run.clock.monotonic()
        run.sim.add_fault(
            Fault(path="/apps/*/metrics/*", status=429, retry_after="120", times=None)
        )
        paused = await run.until(
            lambda s: (s.one("scout_exporter_rate_limit_pause_seconds") or 0) > 0,
            what="the pause",
        )
        assert (paused.one("scout_exporter_rate_limited_total") or 0) >= 1
        scrape = await run.until(
            lambda s: (
                run.clock.monotonic() - start > 10 * 60
                and (s.one("scout_exporter_rate_limit_wait_seconds_total") or 0) > 0
                and len(s.get("scout_exporter_poll_errors_total", error="RateLimitError")) == 2
            ),
            what="ten minutes of 429s",
        )
        elapsed = run.clock.monotonic() - start
        sent = len(run.sim.requests) - before
        # Each pause lets at most `concurrency` requests out; without it, each of the twelve
        # series would try 1 + 3 times every minute (480 requests in ten minutes).
        assert sent <= (elapsed / retry_after + 2) * concurrency, sent
        assert scrape.get("scout_exporter_series_stale") == [1.0] * 12


async def test_one_429_holds_every_request_of_the_exporter_for_its_retry_after() -> None:
    concurrency = 4
    async with running(
        speed=60, apps=APPS, metrics="all", client_options={"max_concurrency": concurrency}
    ) as run:
        await run.until(lambda s: has_values(s, "101") and has_values(s, "102"), what="values")
        # One 429 saying "two minutes": two real seconds here, two polls of every series.
        run.sim.add_fault(Fault(path="/apps/*/metrics/*", status=429, retry_after="120"))
        await run.until(lambda s: s.one("scout_exporter_rate_limited_total") == 1, what="the 429")
        (limited,) = [r for r in run.sim.requests if r.status == 429]
        await run.until(
            lambda s: (
                (s.one("scout_exporter_rate_limit_pause_seconds") or 0) == 0
                and run.sim.requests[-1].time > limited.time + 2.0
            ),
            what="the pause over and polls going on",
        )
        # Between the 429 and the end of its pause (a margin at both ends), only requests that
        # were already on their way reach Scout; without the pause the next poll would send
        # every other series' request (eleven) within that second.
        during = [r for r in run.sim.requests if limited.time + 0.3 < r.time < limited.time + 1.5]
        assert len(during) <= concurrency - 1, during
        after = [r for r in run.sim.requests if r.time > limited.time + 2.0]
        assert after
        assert all(r.status == 200 for r in after)


async def test_failing_to_list_the_apps_restarts_polling_and_names_come_later() -> None:
    clock = ScaledClock(120)
    sim = ScoutSimulator(api_key=SECRET, now=clock.now)
    # The names listing fails once, then the poll's own listing twice (no retries).
    sim.add_fault(Fault(path="/apps", status=503, times=3))
    async with running(
        clock=clock, sim=sim, apps="all", metrics=["apdex"], client_options={"max_retries": 0}
    ) as run:
        scrape = await run.until(
            lambda s: (
                len(s.label_sets("scout_app_apdex_ratio")) == 5
                and all(ls["app_name"] for ls in s.label_sets("scout_app_apdex_ratio"))
            ),
            what="five apps, named",
        )
        assert scrape.one("scout_exporter_poll_restarts_total") == 2
        assert scrape.one("scout_exporter_app_list_errors_total") == 1
        assert {ls["app_name"] for ls in scrape.label_sets("scout_app_apdex_ratio")} >= {
            "Storefront Production",
            "Billing API Production",
        }


async def test_health_and_readiness_follow_the_poll() -> None:
    clock = ScaledClock(60)
    sim = ScoutSimulator(api_key=SECRET, now=clock.now)
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url, clock=clock) as client,
    ):
        exporter = ScoutExporter(client, apps=[101], metrics=["apdex"])
        transport = httpx.ASGITransport(app=exporter.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:

            async def status(path: str) -> tuple[int, str]:
                response = await http.get(path)
                return response.status_code, response.text.strip()

            assert await status("/healthz") == (503, "not polling")
            assert await status("/readyz") == (503, "not polling")
            assert not exporter.healthy
            assert not exporter.ready
            sim.latency = 0.5  # the first poll takes a while
            async with anyio.create_task_group() as tg:
                tg.start_soon(exporter.run)
                await anyio.sleep(0.05)
                assert await status("/healthz") == (200, "ok")
                assert await status("/readyz") == (503, "waiting for the first successful poll")
                sim.latency = 0.0
                await eventually(lambda: exporter.ready)
                assert await status("/readyz") == (200, "ready")
                tg.cancel_scope.cancel()
            assert await status("/healthz") == (503, "not polling")
            assert not exporter.ready


async def test_a_refused_key_ends_polling_and_says_so_without_the_key() -> None:
    clock = ScaledClock(60)
    sim = ScoutSimulator(api_key="another-key", now=clock.now)
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url, clock=clock) as client,
    ):
        exporter = ScoutExporter(client, apps="all", metrics="all")
        with pytest.raises(AuthenticationError):
            await exporter.run()
        transport = httpx.ASGITransport(app=exporter.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            health = await http.get("/healthz")
            metrics = await http.get("/metrics")
        assert (health.status_code, health.text) == (
            503,
            "polling stopped: AuthenticationError\n",
        )
        assert metrics.status_code == 200
        assert SECRET not in health.text + metrics.text
        assert not exporter.healthy


async def test_serve_raises_a_refused_key_and_stops_serving() -> None:
    sim = ScoutSimulator(api_key="another-key")
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url) as client,
    ):
        exporter = ScoutExporter(client, apps=[101], metrics=["apdex"])
        with pytest.raises(AuthenticationError):
            await exporter.serve("127.0.0.1", 0)


async def test_a_collector_for_any_registry_and_any_thread() -> None:
    async with running(apps=[101], metrics=["apdex", "throughput"]) as run:
        await run.until(lambda s: has_values(s, "101", 2), what="values")
        registry = CollectorRegistry()
        registry.register(run.exporter)
        with pytest.raises(ValueError, match="Duplicated"):
            registry.register(run.exporter)  # describe() names every family
        # prometheus_client's own HTTP server collects on a thread of its own.
        text = (await anyio.to_thread.run_sync(generate_latest, registry)).decode()
        scrape = parse(text)
        assert scrape.one("scout_app_apdex_ratio", app_id="101") is not None
        assert parse(generate_latest(run.exporter.registry).decode()).one(
            "scout_app_apdex_ratio", app_id="101"
        ) == scrape.one("scout_app_apdex_ratio", app_id="101")


async def test_a_system_clock_off_the_event_loop_leaves_out_only_the_pause() -> None:
    # Nothing is polled here: the exposition of an exporter that has not run yet.
    async with ScoutClient(api_key=SECRET, base_url="http://127.0.0.1:9/api/v0") as client:
        exporter = ScoutExporter(client, apps=[101], metrics=["apdex"])
        here = parse(generate_latest(exporter.registry).decode())
        there = parse((await anyio.to_thread.run_sync(generate_latest, exporter.registry)).decode())
    assert here.one("scout_exporter_rate_limit_pause_seconds") == 0
    assert there.one("scout_exporter_rate_limit_pause_seconds") is None
    assert here.names() - there.names() == {"scout_exporter_rate_limit_pause_seconds"}


async def test_stopping_the_exporter_ends_its_poll_and_leaves_the_client_usable() -> None:
    sim = ScoutSimulator(api_key=SECRET)
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=SECRET, base_url=server.url) as client,
    ):
        exporter = ScoutExporter(client, apps=[101], metrics=["apdex"])
        async with anyio.create_task_group() as tg:
            tg.start_soon(exporter.run)
            await eventually(lambda: exporter.ready)
            assert client._core.running_jobs == 1  # the poll's producer
            tg.cancel_scope.cancel()
        # The poll was closed with the exporter, not left to the client's close.
        await eventually(lambda: client._core.running_jobs == 0)
        assert not exporter.healthy
        assert [app.id for app in await client.apps.list()][:1] == [101]
        # And it can run again.
        async with anyio.create_task_group() as tg:
            tg.start_soon(exporter.run)
            await eventually(lambda: exporter.ready)
            tg.cancel_scope.cancel()


async def test_arguments_are_checked_before_anything_runs() -> None:
    async with ScoutClient(api_key=SECRET, base_url="http://127.0.0.1:9/api/v0") as client:
        with pytest.raises(ArgumentError, match="max_age must be a timedelta of at least"):
            ScoutExporter(client, max_age=timedelta(minutes=3))  # lateness 2m + 1m + 1m
        with pytest.raises(ArgumentError, match="stale_after"):
            ScoutExporter(client, stale_after=timedelta(0))
        with pytest.raises(ArgumentError, match="interval"):
            ScoutExporter(client, interval=timedelta(0))
        with pytest.raises(ArgumentError):
            ScoutExporter(client, metrics=["nope"])
        exporter = ScoutExporter(client, interval=timedelta(minutes=5), resolution="5m")
        assert exporter.max_age == timedelta(minutes=2 + 5 + 3 * 5)
        assert exporter.stale_after == timedelta(minutes=2 * 5 + 5)
        assert "ScoutExporter(apps='all'" in repr(exporter)
    with pytest.raises(RuntimeError, match="closed"):
        ScoutExporter(client)


async def test_run_twice_at_once_is_refused() -> None:
    async with running(apps=[101], metrics=["apdex"]) as run:
        with pytest.raises(RuntimeError, match="already running"):
            await run.exporter.run()
