"""backfill: every point once and in order, under faults, cancellation, crashes and limits."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

import scout_async
import scout_async.sinks
from scout_async import (
    APIConnectionError,
    ArgumentError,
    AuthenticationError,
    BackfillResult,
    NotFoundError,
    Point,
    Progress,
    ScoutClient,
    ServerError,
)
from scout_async._series.steps import ceil_to_grid, floor_to_grid
from scout_async.sinks import JsonlSink, ParquetSink
from scout_async.testing import DEFAULT_API_KEY, Fault, ScoutSimulator, SimulatorServer
from tests.bulk.backfill_worker import (
    SECRET,
    SIM_NOW,
    T0,
    WORKER_APPS,
    WORKER_END,
    WORKER_METRICS,
    WORKER_START,
    Row,
    api_path,
    check_rows,
    chunks_done,
    client_of,
    data_requests,
    expected_rows,
    read_rows,
    rows_of,
    simulator,
    window,
)
from tests.conftest import VirtualClock

M = timedelta(minutes=1)
ROOT = Path(__file__).resolve().parents[2]

APPS = [101, 102, 103]
METRICS = ["apdex", "errors", "throughput"]
START = T0 + timedelta(minutes=7, seconds=30)
END = T0 + timedelta(hours=13, minutes=3)
PLAN = scout_async.plan_range(START, END, "1m")
CHUNKS = len(PLAN)  # per series
JOB: dict[str, Any] = {
    "apps": APPS,
    "metrics": METRICS,
    "start": START,
    "end": END,
    "resolution": "1m",
}
WANT = expected_rows(APPS, METRICS, START, END, M)
# A smaller job for the many interrupted runs: 4 series of 6 chunks.
SMALL: dict[str, Any] = JOB | {
    "apps": [101, 102],
    "metrics": ["apdex", "throughput"],
    "end": START + timedelta(hours=5, minutes=50),
}
SMALL_CHUNKS = len(scout_async.plan_range(SMALL["start"], SMALL["end"], "1m"))
SMALL_WANT = expected_rows(SMALL["apps"], SMALL["metrics"], SMALL["start"], SMALL["end"], M)

SINKS = {
    "jsonl": "out.jsonl",
    "csv": "out.csv",
    "dir": "out",
    "sqlite": "out.db",
    "parquet": "out.parquet",
}


def target(root: Path, kind: str, run: str = "run") -> Path:
    (root / run).mkdir(exist_ok=True)
    return root / run / SINKS[kind]


class Interrupt(Exception):
    """Raised from a progress callback: the job dies without its final checkpoint (a crash)."""


async def run_until(
    sim: ScoutSimulator,
    calls: int,
    *,
    crash: bool = False,
    max_concurrency: int = 3,
    job: dict[str, Any] = SMALL,
    clock: VirtualClock | None = None,
    **kwargs: Any,
) -> BackfillResult | None:
    """Run ``job`` until ``progress`` was called ``calls`` times, then cancel it (or crash it);
    the client runs on ``clock`` if given."""
    seen = 0
    with anyio.CancelScope() as scope:

        def progress(_: Progress) -> None:
            nonlocal seen
            seen += 1
            if seen == calls:
                if crash:
                    raise Interrupt
                scope.cancel()

        async with client_of(sim, max_concurrency=max_concurrency, clock=clock) as client:
            try:
                return await client.backfill(**(job | kwargs), progress=progress)
            except Interrupt:
                return None
    return None


def same_output(kind: str, got: Path, reference: Path) -> None:
    rows, want = read_rows(got), read_rows(reference)
    check_rows(rows, sorted(want))
    if kind == "dir":
        names = sorted(p.name for p in reference.iterdir())
        assert sorted(p.name for p in got.iterdir()) == names
        for name in names:
            assert (got / name).read_bytes() == (reference / name).read_bytes(), name
    if kind == "sqlite":
        assert rows == want


def test_the_account_has_both_kinds_of_gap() -> None:
    # Guards the data every test below compares with: Scout may leave a bucket out or send it
    # as null (quirk 9), and a backfill must carry both through as they came.
    buckets = 9 * ((ceil_to_grid(END, M) - floor_to_grid(START, M)) // M)
    assert any(value is None for *_, value in WANT)
    assert len({(a, m, t) for a, m, t, _ in WANT}) == len(WANT) < buckets


# -- complete, ordered ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SINKS)
async def test_every_point_arrives_once_and_in_order(kind: str, tmp_path: Path) -> None:
    sim = simulator(metrics={101: ["apdex", "errors"], 102: ["throughput"], 103: METRICS})
    snapshots: list[Progress] = []
    async with client_of(sim, max_concurrency=4) as client:
        result = await client.backfill(
            **(JOB | {"apps": "all", "metrics": "all"}),
            sink=target(tmp_path, kind),
            progress=snapshots.append,
        )
    want = (
        expected_rows([101], ["apdex", "errors"], START, END, M)
        + expected_rows([102], ["throughput"], START, END, M)
        + expected_rows([103], METRICS, START, END, M)
    )
    check_rows(read_rows(target(tmp_path, kind)), want)
    assert result.ok
    assert result.stopped is None
    assert result.points == len(want)
    assert result.chunks == 6 * CHUNKS
    assert result.step == M
    assert [(s.app_id, s.metric) for s in result.series] == [
        (101, "apdex"),
        (101, "errors"),
        (102, "throughput"),
        (103, "apdex"),
        (103, "errors"),
        (103, "throughput"),
    ]
    assert all(s.resume_from is None and s.error is None for s in result.series)
    last = snapshots[-1]
    assert (last.chunks_done, last.chunks_total) == (6 * CHUNKS, 6 * CHUNKS)
    assert (last.series_done, last.series_failed, last.series_total) == (6, 0, 6)
    assert last.points_written == len(want)
    assert last.fraction == 1.0


async def test_inclusive_or_exclusive_end_makes_no_difference(tmp_path: Path) -> None:
    for inclusive in (True, False):
        sim = simulator(inclusive_end=inclusive)
        assert sim.inclusive_end is inclusive
        async with client_of(sim) as client:
            await client.backfill(**JOB, sink=target(tmp_path, "jsonl", f"run-{inclusive}"))
        check_rows(read_rows(target(tmp_path, "jsonl", f"run-{inclusive}")), WANT)


async def test_faults_neither_lose_nor_repeat_points(tmp_path: Path, clock: VirtualClock) -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps/101/metrics/*", skip=2, status=429, retry_after="3"))
    sim.add_fault(Fault(path="/apps/102/metrics/errors", skip=5, status=503, times=2))
    sim.add_fault(Fault(path="/apps/103/metrics/apdex", skip=1, drop=True, times=2))
    sim.add_fault(Fault(path="/apps/103/metrics/throughput", skip=9, status=500))
    sim.add_fault(Fault(path="/apps/101/metrics/errors", skip=10, drop=True))
    async with client_of(sim, max_concurrency=4, clock=clock) as client:
        result = await client.backfill(**JOB, sink=target(tmp_path, "jsonl"))
        stats = client.stats
    assert result.ok
    check_rows(read_rows(target(tmp_path, "jsonl")), WANT)
    assert sum(1 for r in sim.requests if r.fault is not None) == 7  # every fault hit
    assert stats.retries == 7
    assert stats.rate_limited == 1
    assert 3.0 in clock.sleeps  # Retry-After was honoured


async def test_requests_share_the_clients_one_limit(tmp_path: Path) -> None:
    sim = simulator(latency=0.002)
    async with client_of(sim, max_concurrency=3) as client:
        result = await client.backfill(**JOB, sink=target(tmp_path, "sqlite"))
        assert client.stats.peak_in_flight == 3
    assert result.ok
    assert sim.peak_in_flight == 3
    assert len(data_requests(sim)) == 9 * CHUNKS


def test_backfill_runs_on_trio(tmp_path: Path) -> None:
    async def main() -> BackfillResult:
        async with client_of(simulator(), max_concurrency=3) as client:
            return await client.backfill(**JOB, sink=target(tmp_path, "csv"))

    assert trio.run(main).ok
    check_rows(read_rows(target(tmp_path, "csv")), WANT)


# -- cancel, crash, resume --------------------------------------------------------------------


@pytest.mark.parametrize("calls", [1, 5, 16])
@pytest.mark.parametrize("kind", SINKS)
async def test_cancel_then_resume_equals_an_uninterrupted_run(
    kind: str, calls: int, tmp_path: Path
) -> None:
    async with client_of(simulator(), max_concurrency=3) as client:
        await client.backfill(**SMALL, sink=target(tmp_path, kind, "reference"))
    sink, state = target(tmp_path, kind), tmp_path / "state.json"
    sim = simulator()
    cut = await run_until(sim, calls, sink=sink, checkpoint=state, checkpoint_every=3600)
    assert cut is None  # it was cancelled
    done = chunks_done(state, SMALL["start"], SMALL["end"])
    assert done > 0  # the cancelled job checkpointed what it had written
    sent = len(data_requests(sim))
    async with client_of(sim, max_concurrency=3) as client:
        result = await client.backfill(**SMALL, sink=sink, checkpoint=state)
    assert result.ok
    assert result.chunks == 4 * SMALL_CHUNKS - done
    # Nothing the checkpoint holds was fetched again.
    assert len(data_requests(sim)) - sent == 4 * SMALL_CHUNKS - done
    same_output(kind, sink, target(tmp_path, kind, "reference"))


async def test_a_single_file_resumed_is_byte_identical(tmp_path: Path) -> None:
    # With one series at a time the rows' order is deterministic, so compare bytes.
    async with client_of(simulator(), max_concurrency=1) as client:
        await client.backfill(**SMALL, sink=target(tmp_path, "csv", "reference"))
    sink, state = target(tmp_path, "csv"), tmp_path / "state.json"
    # Crashes without a checkpoint since the last run leave rows past it in the file.
    for calls, crash, every in [(3, True, 3600), (5, False, 0), (4, True, 3600), (8, False, 3600)]:
        await run_until(
            simulator(),
            calls,
            crash=crash,
            max_concurrency=1,
            sink=sink,
            checkpoint=state,
            checkpoint_every=every,
        )
    async with client_of(simulator(), max_concurrency=1) as client:
        assert (await client.backfill(**SMALL, sink=sink, checkpoint=state)).ok
    assert sink.read_bytes() == target(tmp_path, "csv", "reference").read_bytes()


@settings(max_examples=10, deadline=None)
@given(
    kind=st.sampled_from(sorted(SINKS)),
    stops=st.lists(
        st.tuples(st.integers(1, 30), st.booleans(), st.sampled_from([0.0, 3600.0])),
        min_size=1,
        max_size=3,
    ),
    concurrency=st.integers(1, 4),
)
def test_interrupted_any_number_of_times_the_output_is_complete(
    kind: str, stops: list[tuple[int, bool, float]], concurrency: int
) -> None:
    async def main(root: Path) -> None:
        sink, state = target(root, kind), root / "state.json"
        for calls, crash, every in stops:
            await run_until(
                simulator(),
                calls,
                crash=crash,
                max_concurrency=concurrency,
                sink=sink,
                checkpoint=state,
                checkpoint_every=every,
            )
        async with client_of(simulator(), max_concurrency=concurrency) as client:
            result = await client.backfill(**SMALL, sink=sink, checkpoint=state)
        assert result.ok
        check_rows(read_rows(sink), SMALL_WANT)

    with tempfile.TemporaryDirectory() as root:
        anyio.run(main, Path(root))


@pytest.mark.parametrize(
    ("kind", "progress", "over_http"),
    [("jsonl", 30, False), ("parquet", 100, True)],
)
def test_killed_with_sigkill_then_resumed(
    kind: str, progress: int, over_http: bool, tmp_path: Path
) -> None:
    # The worker reaches the account in its own process, or the simulator served here.
    sink, state = target(tmp_path, kind), tmp_path / "state.json"
    job: dict[str, Any] = {
        "apps": WORKER_APPS,
        "metrics": WORKER_METRICS,
        "start": WORKER_START,
        "end": WORKER_END,
        "resolution": "1m",
    }
    sim = simulator(latency=0.005)
    with SimulatorServer(sim) as server:
        url = [server.url] if over_http else []
        _kill_midway(["0.005", *url], sink, state, progress)

        async def resume() -> tuple[BackfillResult, list[Row]]:
            client = (
                ScoutClient(api_key=SECRET, base_url=server.url)
                if over_http
                else client_of(simulator())
            )
            async with client:
                result = await client.backfill(**job, sink=sink, checkpoint=state)
                return result, await _reference_rows(client, job)

        result, want = anyio.run(resume)
    assert result.ok
    check_rows(read_rows(sink), want)


def _kill_midway(arguments: list[str], sink: Path, state: Path, progress: int) -> None:
    """Run the worker until its checkpoint holds ``progress`` chunks, then SIGKILL it."""
    log = state.with_name("worker.log")
    with open(log, "wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.bulk.backfill_worker", str(sink), str(state), *arguments],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        done = 0
        deadline = time.monotonic() + 20
        while done < progress and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
            done = chunks_done(state, WORKER_START, WORKER_END)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert worker.returncode == -signal.SIGKILL, log.read_text()
    total = 9 * len(scout_async.plan_range(WORKER_START, WORKER_END, "1m"))
    assert 0 < chunks_done(state, WORKER_START, WORKER_END) < total  # killed mid-run


async def _reference_rows(client: ScoutClient, job: dict[str, Any]) -> list[Row]:
    """The rows a backfill of ``job`` must produce, read with ``metrics.get`` (sorted)."""
    rows: list[Row] = []
    for app_id in sorted(job["apps"]):
        for metric in sorted(job["metrics"]):
            series = await client.metrics.get(
                app_id, metric, start=job["start"], end=job["end"], resolution=job["resolution"]
            )
            rows.extend(rows_of(app_id, metric, series.points))
    return rows


# -- parquet: few, large parts ----------------------------------------------------------------

DAY_JOB: dict[str, Any] = {
    "apps": [101, 102, 103],
    "metrics": ["apdex", "errors"],
    "start": T0,
    "end": T0 + timedelta(days=1),
    "resolution": "1m",
}
DAY_WANT = expected_rows(DAY_JOB["apps"], DAY_JOB["metrics"], DAY_JOB["start"], DAY_JOB["end"], M)


class SlowParquetSink(ParquetSink):
    """A ``ParquetSink`` each of whose writes takes ``seconds`` on a virtual ``clock``: a day of
    1-minute data seems to take over a minute, without waiting for it."""

    def __init__(self, path: Path, clock: VirtualClock, seconds: float, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.clock = clock
        self.seconds = seconds

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        self.clock.now_s += self.seconds
        await super().write(app_id, metric, points)


@pytest.mark.parametrize(("checkpoint_every", "parts"), [(None, (1, 3)), (5.0, (10, 40))])
async def test_parquet_makes_a_handful_of_parts_unless_told_to_checkpoint_often(
    checkpoint_every: float | None, parts: tuple[int, int], tmp_path: Path, clock: VirtualClock
) -> None:
    path, state = target(tmp_path, "parquet"), tmp_path / "state.json"
    sink = SlowParquetSink(path, clock, seconds=0.5)
    every: dict[str, Any] = (
        {} if checkpoint_every is None else {"checkpoint_every": checkpoint_every}
    )
    async with client_of(simulator(), max_concurrency=3, clock=clock) as client:
        result = await client.backfill(**DAY_JOB, sink=sink, checkpoint=state, **every)
    assert result.ok
    # Left at the default, the sink's minute wins over the default second (1 s would make one
    # part per second of the job: over 70 here); a cadence given is kept.
    assert parts[0] <= len(list(path.glob("part-*.parquet"))) <= parts[1]
    check_rows(read_rows(path), DAY_WANT)


async def test_parquet_resumes_exactly_with_parts_finished_after_the_checkpoint(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path, state = target(tmp_path, "parquet"), tmp_path / "state.json"
    # Parts of 1000 rows: some fill up after the last checkpoint and before the crash (a chunk
    # is written each 0.75 s, so the minute's checkpoint comes at chunk 80).
    cut = await run_until(
        simulator(),
        130,
        crash=True,
        job=DAY_JOB,
        clock=clock,
        sink=SlowParquetSink(path, clock, seconds=0.75, rows_per_part=1000),
        checkpoint=state,
    )
    assert cut is None
    done = chunks_done(state, DAY_JOB["start"], DAY_JOB["end"])
    assert 0 < done < 130  # the checkpoint (at a minute) is behind the crash
    assert len(list(path.glob("part-*.parquet"))) > json.loads(state.read_text())["sink"]["parts"]
    async with client_of(simulator(), max_concurrency=3) as client:
        result = await client.backfill(
            **DAY_JOB, sink=ParquetSink(path, rows_per_part=1000), checkpoint=state
        )
    assert result.ok
    assert result.chunks == 6 * 24 - done
    check_rows(read_rows(path), DAY_WANT)


# -- against the bundled simulator, over real HTTP --------------------------------------------


async def test_end_to_end_against_the_simulator_with_faults(tmp_path: Path) -> None:
    clock = VirtualClock(wall=SIM_NOW)
    sim = ScoutSimulator(now=SIM_NOW, latency=0.001)
    sim.add_fault(Fault(path="/apps/101/metrics/*", skip=3, status=429, retry_after="2"))
    sim.add_fault(Fault(path="/apps/102/metrics/*", skip=5, status=503, times=2))
    sim.add_fault(Fault(path="/apps/103/metrics/*", skip=2, drop=True, times=2))
    sim.add_fault(Fault(path="/apps/104/metrics/apdex", skip=7, status=502))
    job: dict[str, Any] = {
        "apps": "all",
        "metrics": ["apdex", "throughput"],
        "start": SIM_NOW - timedelta(hours=20, minutes=13),
        "end": SIM_NOW - timedelta(minutes=30),
        "resolution": "1m",
    }
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(
            api_key=DEFAULT_API_KEY, base_url=server.url, max_concurrency=4, clock=clock
        ) as client,
    ):
        result = await client.backfill(
            **job, sink=tmp_path / "out.db", checkpoint=tmp_path / "state.json"
        )
        assert client.stats.retries == 6
        assert 2.0 in clock.sleeps  # the 429's Retry-After, waited on the client's clock
        want = await _reference_rows(client, job | {"apps": [101, 102, 103, 104, 105]})
    assert result.ok
    assert len(result.series) == 10
    assert sum(1 for r in sim.requests if r.fault is not None) == 6
    check_rows(read_rows(tmp_path / "out.db"), want)


async def test_a_429_from_the_simulator_pauses_every_request(tmp_path: Path) -> None:
    sim = ScoutSimulator(now=SIM_NOW, latency=0.05)
    sim.add_fault(Fault(path="/apps/*/metrics/*", skip=9, status=429, retry_after="0.5"))
    async with (
        SimulatorServer(sim) as server,
        ScoutClient(api_key=DEFAULT_API_KEY, base_url=server.url, max_concurrency=4) as client,
    ):
        result = await client.backfill(
            apps=[101, 102],
            metrics=["apdex", "errors"],
            start=SIM_NOW - timedelta(hours=8),
            end=SIM_NOW - timedelta(hours=2),
            sink=tmp_path / "out.jsonl",
        )
    assert result.ok
    limited = next(r for r in sim.requests if r.status == 429)
    assert limited.answered >= limited.time + 0.05  # its latency, then the 429 went out
    pause = (limited.answered + 0.02, limited.answered + 0.5 - 0.02)
    assert [r for r in sim.requests if pause[0] < r.time < pause[1]] == []
    assert any(r.time >= pause[1] for r in sim.requests)


# -- failures ---------------------------------------------------------------------------------


async def test_a_failed_series_does_not_stop_the_others(
    tmp_path: Path, clock: VirtualClock
) -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps/102/metrics/errors", skip=4, status=404))
    sim.add_fault(Fault(path="/apps/103/metrics/apdex", status=503, times=None))
    async with client_of(sim, max_concurrency=2, clock=clock) as client:
        result = await client.backfill(
            **JOB, sink=target(tmp_path, "jsonl"), max_consecutive_failures=2
        )
    assert result.stopped is None
    failed = {(s.app_id, s.metric): s for s in result.failed}
    assert set(failed) == {(102, "errors"), (103, "apdex")}
    assert isinstance(failed[(102, "errors")].error, NotFoundError)
    resume = PLAN[4].owned_start
    assert failed[(102, "errors")].resume_from == resume
    assert failed[(102, "errors")].chunks == 4
    assert isinstance(failed[(103, "apdex")].error, ServerError)
    assert failed[(103, "apdex")].resume_from == PLAN[0].owned_start
    cut = resume.strftime("%Y-%m-%dT%H:%M:%SZ")
    want = [
        r
        for r in WANT
        if (r[0], r[1]) not in failed or ((r[0], r[1]) == (102, "errors") and r[2] < cut)
    ]
    check_rows(read_rows(target(tmp_path, "jsonl")), want)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(path="/apps/*/metrics/*", status=503, times=None), ServerError),
        (Fault(path="/apps/*/metrics/*", drop=True, times=None), APIConnectionError),
    ],
    ids=["503", "dropped"],
)
async def test_a_dead_server_stops_the_job_fast_with_a_valid_checkpoint(
    fault: Fault, error: type[Exception], tmp_path: Path, clock: VirtualClock
) -> None:
    sim = simulator()
    sink, state = target(tmp_path, "parquet"), tmp_path / "state.json"
    # Healthy for a while, then dead.
    sim.add_fault(attrs.evolve(fault, skip=20))
    async with client_of(sim, max_concurrency=3, clock=clock) as client:
        result = await client.backfill(**JOB, sink=sink, checkpoint=state)
    assert result.stopped is not None
    assert "3 series in a row" in result.stopped
    statuses = [s.status for s in result.series]
    assert statuses.count("failed") >= 3
    assert statuses.count("failed") + statuses.count("skipped") == 9
    assert all(isinstance(s.error, error) for s in result.series if s.status == "failed")
    assert all(s.resume_from is not None for s in result.series)
    # Bounded: (3 requests at a time) x 4 attempts each, not 117 chunks x 4 attempts.
    assert len(data_requests(sim)) <= 20 + 3 * 3 * 4 + 3
    sim.clear_faults()  # the server is back
    async with client_of(sim, max_concurrency=3, clock=clock) as client:
        again = await client.backfill(**JOB, sink=sink, checkpoint=state)
    assert again.ok
    check_rows(read_rows(sink), WANT)


async def test_a_refused_key_stops_the_job_at_once(tmp_path: Path) -> None:
    sim = simulator()
    sim.add_fault(Fault(status=403, times=None))
    async with client_of(sim, max_concurrency=2) as client:
        result = await client.backfill(**JOB, sink=target(tmp_path, "jsonl"))
    assert result.stopped is not None
    assert "refused" in result.stopped
    assert len(sim.requests) <= 2 * 2
    assert any(isinstance(s.error, AuthenticationError) for s in result.series)


async def test_an_app_whose_metrics_cannot_be_listed_is_reported_and_listed_on_resume(
    tmp_path: Path, clock: VirtualClock
) -> None:
    metrics = {101: ["apdex", "errors"], 102: ["throughput"], 103: ["apdex"]}
    sim = simulator(metrics=metrics)
    sim.add_fault(Fault(path="/apps/102/metrics", status=503, times=None))
    sink, state = target(tmp_path, "jsonl"), tmp_path / "state.json"
    job = JOB | {"apps": "all", "metrics": "all"}
    snapshots: list[Progress] = []
    async with client_of(sim, max_concurrency=3, clock=clock) as client:
        result = await client.backfill(
            **job, sink=sink, checkpoint=state, progress=snapshots.append
        )
    assert not result.ok
    assert result.stopped is None
    assert [(s.app_id, s.metric, s.status) for s in result.series] == [
        (101, "apdex", "ok"),
        (101, "errors", "ok"),
        (102, "*", "failed"),
        (103, "apdex", "ok"),
    ]
    [unlisted] = result.failed
    assert isinstance(unlisted.error, ServerError)
    assert unlisted.error.path == "/apps/102/metrics"
    assert (unlisted.points, unlisted.chunks, unlisted.resume_from) == (0, 0, PLAN[0].owned_start)
    last = snapshots[-1]
    assert (last.series_done, last.series_failed, last.series_total) == (3, 1, 4)
    assert last.chunks_done == last.chunks_total == 3 * CHUNKS
    others = expected_rows([101, 103], ["apdex", "errors"], START, END, M)
    check_rows(read_rows(sink), [r for r in others if r[1] in metrics[r[0]]])

    sim.clear_faults()  # app 102 can be listed again: the rerun backfills its series
    async with client_of(sim, max_concurrency=3, clock=clock) as client:
        again = await client.backfill(**job, sink=sink, checkpoint=state)
    assert again.ok
    assert [(s.app_id, s.metric) for s in again.series] == [
        (101, "apdex"),
        (101, "errors"),
        (102, "throughput"),
        (103, "apdex"),
    ]
    assert again.chunks == CHUNKS  # only app 102's series was fetched
    want = sorted(
        [*others, *expected_rows([102], ["throughput"], START, END, M)],
        key=lambda r: (r[0], r[1], r[2]),
    )
    check_rows(read_rows(sink), [r for r in want if r[1] in metrics[r[0]]])


async def test_a_refused_key_while_listing_metrics_fails_the_backfill(tmp_path: Path) -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps/102/metrics", status=403, times=None))
    sink = target(tmp_path, "jsonl")
    async with client_of(sim, max_concurrency=3) as client:
        with pytest.raises(AuthenticationError):
            await client.backfill(**(JOB | {"metrics": "all"}), sink=sink)
    assert data_requests(sim) == []
    assert not sink.exists()


class BrokenSink(JsonlSink):
    def __init__(self, path: Path, fail_at: int) -> None:
        super().__init__(path)
        self.writes = 0
        self.fail_at = fail_at

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError(28, "No space left on device")
        await super().write(app_id, metric, points)


async def test_a_sink_error_ends_the_job_and_the_checkpoint_stays_valid(tmp_path: Path) -> None:
    sink, state = target(tmp_path, "jsonl"), tmp_path / "state.json"
    async with client_of(simulator(), max_concurrency=3) as client:
        with pytest.raises(OSError, match="No space left"):
            await client.backfill(
                **JOB, sink=BrokenSink(sink, fail_at=30), checkpoint=state, checkpoint_every=0
            )
        assert client._core.running_jobs == 0
        result = await client.backfill(**JOB, sink=sink, checkpoint=state)
    assert result.ok
    check_rows(read_rows(sink), WANT)


async def test_a_failing_progress_callback_ends_the_job(tmp_path: Path) -> None:
    def progress(p: Progress) -> None:
        if p.chunks_done == 3:
            raise ValueError("my progress bar broke")

    async with client_of(simulator()) as client:
        with pytest.raises(ValueError, match="progress bar"):
            await client.backfill(**JOB, sink=target(tmp_path, "jsonl"), progress=progress)


# -- limits -----------------------------------------------------------------------------------


async def test_a_429_pauses_every_task_of_the_client(tmp_path: Path) -> None:
    # Slow answers, so that a request let through during the pause would show up well inside it.
    sim = simulator(latency=0.05)
    sim.add_fault(Fault(path="/apps/*/metrics/*", skip=9, status=429, retry_after="0.5"))
    async with client_of(sim, max_concurrency=4) as client:
        result = await client.backfill(**SMALL, sink=target(tmp_path, "sqlite"))
        assert client.stats.rate_limited == 1
    assert result.ok
    limited = next(r for r in sim.requests if r.status == 429)
    assert limited.answered >= limited.time + 0.05
    pause = (limited.answered + 0.01, limited.answered + 0.5 - 0.01)
    assert [r for r in sim.requests if pause[0] < r.time < pause[1]] == []
    assert any(r.time >= pause[1] for r in sim.requests)
    check_rows(read_rows(target(tmp_path, "sqlite")), SMALL_WANT)


async def test_rate_limit_is_respected(tmp_path: Path, clock: VirtualClock) -> None:
    # On the client's clock (virtual here, so the test does not depend on this machine's load):
    # 14 requests at 50 per second cannot all start before 13/50 s have passed.
    sim = simulator()
    job = JOB | {"apps": [101, 102], "metrics": ["apdex"], "end": START + timedelta(hours=6)}
    async with client_of(sim, max_concurrency=4, rate_limit=50, clock=clock) as client:
        result = await client.backfill(**job, sink=target(tmp_path, "jsonl"))
    assert result.ok
    assert len(sim.requests) == 14
    assert clock.monotonic() - VirtualClock.START >= 13 / 50 - 1e-9
    # Every start after the first waited for its own slot in the schedule: 13 pacing waits, each
    # at most the 4 slots ahead of it in the queue (4 tasks in flight at 1/50 s apiece).
    pacing = [s for s in clock.sleeps if s > 0]
    assert len(pacing) == 13
    assert max(pacing) <= 4 / 50 + 1e-9


# -- progress and validation ------------------------------------------------------------------


async def test_progress_snapshots_are_immutable_and_count_up(
    tmp_path: Path, clock: VirtualClock
) -> None:
    sim = simulator()
    sim.add_fault(Fault(path="/apps/102/*", skip=3, status=502, times=2))
    sim.add_fault(Fault(path="/apps/103/*", skip=3, status=429, retry_after="2"))
    snapshots: list[Progress] = []

    async def progress(p: Progress) -> None:  # an async callback is awaited
        await anyio.lowlevel.checkpoint()
        snapshots.append(p)

    async with client_of(sim, max_concurrency=2, clock=clock) as client:
        result = await client.backfill(**JOB, sink=target(tmp_path, "jsonl"), progress=progress)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        snapshots[0].chunks_done = 0  # type: ignore[misc]
    done = [p.chunks_done for p in snapshots]
    assert done == sorted(done)
    assert done[0] == 1
    assert len([p for p in snapshots if p.series_done + p.series_failed]) >= 9
    last = snapshots[-1]
    assert last.chunks_done == last.chunks_total == 9 * CHUNKS
    assert last.points_written == result.points == len(WANT)
    assert (last.retries, last.rate_limited) == (3, 1)
    assert last.rate_limit_wait >= 0


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"apps": []}, ValueError, "apps is empty"),
        ({"apps": "some"}, TypeError, "'all'"),
        ({"apps": 101}, TypeError, "'all'"),
        ({"apps": [0]}, ValueError, "positive"),
        ({"apps": ["101"]}, TypeError, "app_id"),
        ({"metrics": ["latency"]}, ValueError, "response_time"),
        ({"metrics": "apdex"}, TypeError, "'all'"),
        ({"metrics": []}, ValueError, "metrics is empty"),
        ({"start": START.replace(tzinfo=None)}, ValueError, "naive"),
        ({"end": START}, ValueError, "before end"),
        ({"resolution": "3m"}, ValueError, "1m"),
        ({"sink": 42}, TypeError, "sink must be"),
        ({"sink": "out.xlsx"}, ValueError, "jsonl"),
        ({"checkpoint": "/no/such/dir/state.json"}, ValueError, "does not exist"),
        ({"progress": 5}, TypeError, "progress"),
        ({"max_consecutive_failures": 0}, ValueError, "max_consecutive_failures"),
        ({"checkpoint_every": -1}, ValueError, "checkpoint_every"),
        ({"checkpoint_every": "1"}, TypeError, "checkpoint_every"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    changes: dict[str, Any],
    error: type[Exception],
    match: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    sim = simulator()
    async with client_of(sim) as client:
        with pytest.raises(error, match=match):
            await client.backfill(**(JOB | {"sink": "out.jsonl"} | changes))
    assert sim.requests == []
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("metric", ["latency", "execution_time", "Apdex", "apdex/../x", 7])
async def test_a_bad_metric_is_refused_as_the_metrics_resource_refuses_it(
    metric: object, tmp_path: Path
) -> None:
    sim = simulator()
    async with client_of(sim) as client:
        with pytest.raises(ArgumentError) as refused:
            await client.metrics.get(101, metric, start=START, end=END)  # type: ignore[arg-type]
        with pytest.raises(ArgumentError) as by_backfill:
            await client.backfill(
                **(JOB | {"metrics": ["apdex", metric]}), sink=target(tmp_path, "jsonl")
            )
        with pytest.raises(ArgumentError) as by_poll:
            client.poll(apps=[101], metrics=["apdex", metric])  # type: ignore[list-item]
    assert str(by_backfill.value) == str(by_poll.value) == str(refused.value)
    assert sim.requests == []
    assert not target(tmp_path, "jsonl").exists()


async def test_a_backfill_reads_the_series_the_metrics_resource_reads(tmp_path: Path) -> None:
    # The same series through client.metrics.get and through a backfill: the same requests.
    sim = simulator()
    async with client_of(sim, max_concurrency=2) as client:
        await client.metrics.get(102, "throughput", start=START, end=END, resolution="1m")
        by_get = sorted((api_path(r), *window(r)) for r in data_requests(sim))
        sim.requests.clear()
        await client.backfill(
            **(JOB | {"apps": [102], "metrics": ["throughput"]}), sink=target(tmp_path, "jsonl")
        )
        by_backfill = sorted((api_path(r), *window(r)) for r in data_requests(sim))
    assert len(by_get) == CHUNKS
    assert by_backfill == by_get
    assert {path for path, _, _ in by_get} == {"/apps/102/metrics/throughput"}


class TimedSink(JsonlSink):
    """A ``JsonlSink`` each of whose writes takes ``seconds`` on a virtual ``clock``; records
    when it was flushed (a flush comes before every checkpoint)."""

    def __init__(self, path: Path, clock: VirtualClock, seconds: float) -> None:
        super().__init__(path)
        self.clock = clock
        self.seconds = seconds
        self.flushed_at: list[float] = []

    async def write(self, app_id: int, metric: str, points: Sequence[Point]) -> None:
        self.clock.now_s += self.seconds
        await super().write(app_id, metric, points)

    async def flush(self) -> dict[str, Any]:
        self.flushed_at.append(self.clock.monotonic() - VirtualClock.START)
        return await super().flush()


async def test_the_checkpoint_cadence_follows_the_clients_monotonic_clock(
    tmp_path: Path, clock: VirtualClock
) -> None:
    # One series at a time, a chunk written every 4 s of the client's clock, a checkpoint due
    # every 10 s: after every third chunk (12 s), whatever the real time says.
    sink = TimedSink(target(tmp_path, "jsonl"), clock, seconds=4.0)
    snapshots: list[Progress] = []
    async with client_of(simulator(), max_concurrency=1, clock=clock) as client:
        result = await client.backfill(
            **SMALL,
            sink=sink,
            checkpoint=tmp_path / "state.json",
            checkpoint_every=10,
            progress=snapshots.append,
        )
    assert result.ok
    writes = 4 * SMALL_CHUNKS
    assert sink.flushed_at == [0.0, *(12.0 * k for k in range(1, writes // 3 + 1)), 4.0 * writes]
    # Progress.elapsed is read on the same clock.
    assert [p.elapsed for p in snapshots if p.chunks_done][:3] == [4.0, 8.0, 12.0]
    assert snapshots[-1].elapsed == 4.0 * writes
    check_rows(read_rows(target(tmp_path, "jsonl")), SMALL_WANT)


async def test_a_job_on_a_clock_that_stands_still_checkpoints_only_at_its_ends(
    tmp_path: Path, clock: VirtualClock
) -> None:
    # A checkpoint due every 50 ms is never due on a clock that does not move, though the job
    # takes a quarter of a second of real time (24 requests of 10 ms, one at a time).
    sink = TimedSink(target(tmp_path, "jsonl"), clock, seconds=0.0)
    sim = simulator(latency=0.01)
    async with client_of(sim, max_concurrency=1, clock=clock) as client:
        result = await client.backfill(
            **SMALL, sink=sink, checkpoint=tmp_path / "state.json", checkpoint_every=0.05
        )
    assert result.ok
    assert len(data_requests(sim)) == 4 * SMALL_CHUNKS
    assert sink.flushed_at == [0.0, 0.0]  # the starting point, and the end


async def test_a_closed_client_refuses_to_backfill(tmp_path: Path) -> None:
    client = client_of(simulator())
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.backfill(**JOB, sink=target(tmp_path, "jsonl"))


def test_public_names_are_exported() -> None:
    for name in ("BackfillResult", "SeriesResult", "Progress", "PollUpdate"):
        assert name in scout_async.__all__
    for name in ("Sink", "open_sink"):  # the sinks' tier
        assert name in scout_async.sinks.__all__
    assert issubclass(scout_async.CheckpointMismatchError, scout_async.ScoutError)
    assert callable(scout_async.ScoutClient.backfill)


class HangingFlushSink:
    """An interruptible sink (``Sink.interruptible``) whose flush never returns: a database that
    stopped answering at the cancel-time checkpoint."""

    location = "hanging:"
    interruptible = True

    def __init__(self) -> None:
        self.rows = 0
        self.closed = False

    async def open(self, resume: Any = None) -> None:
        pass

    async def write(self, app_id: int, metric: str, points: Any) -> None:
        self.rows += len(points)

    async def flush(self) -> dict[str, Any]:
        await anyio.sleep(30)  # "never" for the test; finite, so a shielded one fails, not hangs
        return {"rows": self.rows}

    async def close(self) -> None:
        self.closed = True


async def test_an_interruptible_sinks_cancel_time_checkpoint_is_given_up_after_a_grace(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import scout_async._bulk.backfill as engine

    monkeypatch.setattr(engine, "_GRACE", 0.3)
    sim = simulator()
    sim.add_fault(Fault(path="/apps/*/metrics/*", latency=3600, times=None))  # cancelled waiting
    sink = HangingFlushSink()
    async with client_of(sim, max_concurrency=2) as client:
        started = time.monotonic()
        with anyio.move_on_after(0.5) as scope:
            await client.backfill(**SMALL, sink=sink)
        took = time.monotonic() - started
    assert scope.cancelled_caught
    assert sink.closed  # closed after the checkpoint was given up
    assert 0.5 + 0.3 <= took < 10  # the grace was given, and the job came back after it
    given_up = [r.getMessage() for r in caplog.records if "given up" in r.getMessage()]
    assert given_up == [
        "hanging:: the last checkpoint did not finish within 0.3 s and was given up; a rerun "
        "resumes from the last commit"
    ]
