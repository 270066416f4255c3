"""``demo``: a real job against the bundled simulator, over HTTP on localhost, no account needed.

The simulator serves synthetic but realistic data on a free port; the demo lists its apps and
metrics, then streams every series over the last ``--days`` at ``--resolution`` into one JSONL
file per series, with a few transient server faults on the way for the client to retry.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio
import attrs
import click
from rich.progress import Progress, TaskID

from .._client import ScoutClient
from .._exceptions import ScoutError
from .._planner import plan_range
from .._resources.metrics import APP_METRICS
from .._steps import format_step
from ._context import Settings, pass_settings, stderr_console, stdout_console
from ._output import jsonl_line
from ._params import RESOLUTION, IdList, NameList
from ._progress import ChunkCounter, make_progress

if TYPE_CHECKING:
    from scout_async.testing import Fault, ScoutSimulator

__all__ = ["FetchProgress", "FetchSummary", "SeriesJob", "demo", "fetch_series_to_files"]

# The simulator's own key: a made-up one, so nothing real is ever sent anywhere.
DEMO_KEY = "scout-demo-key"
DEFAULT_OUTPUT_DIR = Path("scout-demo-output")
_WRITE_BATCH = 2048  # lines per file write: bounded memory, few thread hops


@attrs.frozen
class SeriesJob:
    """One series to fetch and the JSONL file it goes to."""

    app_id: int
    metric: str
    path: Path


@attrs.frozen
class FetchSummary:
    series: int
    points: int
    bytes_written: int
    seconds: float
    requests: int
    retries: int
    rate_limited: int
    peak_in_flight: int


class FetchProgress(Protocol):
    def chunks_done(self, count: int) -> None: ...

    def series_done(self) -> None: ...


async def _write_series(
    client: ScoutClient,
    job: SeriesJob,
    *,
    start: datetime,
    end: datetime,
    resolution: timedelta,
    progress: FetchProgress,
) -> tuple[int, int]:
    counter = ChunkCounter(plan_range(start, end, resolution))
    points = written = 0
    batch: list[str] = []
    async with await anyio.open_file(job.path, "w", encoding="utf-8") as out:
        stream = client.metrics.stream(
            job.app_id, job.metric, start=start, end=end, resolution=resolution
        )
        async with contextlib.aclosing(stream):
            async for point in stream:
                batch.append(jsonl_line(point))
                points += 1
                progress.chunks_done(counter.passed(point.time))
                if len(batch) >= _WRITE_BATCH:
                    text = "".join(batch)
                    await out.write(text)
                    written += len(text)
                    batch.clear()
        text = "".join(batch)
        await out.write(text)
        written += len(text)
    progress.chunks_done(counter.finish())
    progress.series_done()
    return points, written


async def fetch_series_to_files(
    client: ScoutClient,
    jobs: Sequence[SeriesJob],
    *,
    start: datetime,
    end: datetime,
    resolution: timedelta,
    progress: FetchProgress,
) -> FetchSummary:
    """Stream every series of ``jobs`` over ``[start, end)`` into its JSONL file.

    Up to ``client.max_concurrency`` series run at once, and the client keeps requests in flight
    under the same limit; each series is written as it arrives, so memory stays bounded. The first
    failure stops the rest and is raised (files written so far stay, the failing one is partial).
    """
    began = time.monotonic()
    limiter = anyio.CapacityLimiter(client.max_concurrency)
    totals = [0, 0]
    failures: list[BaseException] = []

    async def run(job: SeriesJob, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                points, written = await _write_series(
                    client, job, start=start, end=end, resolution=resolution, progress=progress
                )
            except (ScoutError, OSError) as exc:
                failures.append(exc)
                scope.cancel()
                return
            totals[0] += points
            totals[1] += written

    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(run, job, tg.cancel_scope)
    if failures:
        raise failures[0]
    stats = client.stats
    return FetchSummary(
        series=len(jobs),
        points=totals[0],
        bytes_written=totals[1],
        seconds=time.monotonic() - began,
        requests=stats.requests,
        retries=stats.retries,
        rate_limited=stats.rate_limited,
        peak_in_flight=stats.peak_in_flight,
    )


class _Bars:
    """``FetchProgress`` on two rich progress bars: series done, and requests (chunks) done."""

    def __init__(self, progress: Progress, series: TaskID, chunks: TaskID) -> None:
        self._progress, self._series, self._chunks = progress, series, chunks

    def chunks_done(self, count: int) -> None:
        if count:
            self._progress.advance(self._chunks, count)

    def series_done(self) -> None:
        self._progress.advance(self._series)


def _faults(count: int, planned: int) -> list[Fault]:
    """``count`` transient faults spread over the metric requests: each one fails a request
    once, and the client's retry gets the data."""
    from scout_async.testing import Fault

    kinds = [
        Fault(path="/apps/*/metrics/*", status=503),
        Fault(path="/apps/*/metrics/*", status=429, retry_after="1"),
        Fault(path="/apps/*/metrics/*", drop=True),
        Fault(path="/apps/*/metrics/*", status=500),
    ]
    spread = []
    for index in range(count):
        # A fault only counts the requests that reach it; earlier faults each take one.
        skip = max(0, (index + 1) * planned // (count + 1) - index - 1)
        spread.append(attrs.evolve(kinds[index % len(kinds)], skip=skip))
    return spread


@attrs.frozen
class _Options:
    days: int
    resolution: timedelta
    app_ids: tuple[int, ...]
    metric_names: tuple[str, ...]
    output_dir: Path
    faults: int
    latency: float


async def _plan_jobs(client: ScoutClient, options: _Options) -> list[SeriesJob]:
    available = {app.id: app for app in await client.apps.list()}
    wanted = options.app_ids or tuple(available)
    unknown = [app_id for app_id in wanted if app_id not in available]
    if unknown:
        raise click.UsageError(
            f"--apps: no app {', '.join(map(str, unknown))} in the simulator; it has "
            + ", ".join(map(str, available))
        )
    jobs = []
    for app_id in wanted:
        offered = await client.metrics.list(app_id)
        for metric in options.metric_names or offered:
            if metric in offered:
                path = options.output_dir / f"app{app_id}-{metric}.jsonl"
                jobs.append(SeriesJob(app_id=app_id, metric=metric, path=path))
    return jobs


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


async def _run(settings: Settings, options: _Options, simulator: ScoutSimulator) -> None:
    from scout_async.testing import SimulatorServer

    notes, out = stderr_console(), stdout_console()
    async with (
        SimulatorServer(simulator) as server,
        settings.client(api_key=DEMO_KEY, base_url=server.url) as client,
    ):
        jobs = await _plan_jobs(client, options)
        notes.print(
            f"Started the Scout API simulator at {server.url} (synthetic data, no account needed)",
            highlight=False,
            soft_wrap=True,
        )
        end = datetime.now(timezone.utc)
        start = end - timedelta(days=options.days)
        per_series = len(plan_range(start, end, options.resolution))
        for fault in _faults(options.faults, per_series * len(jobs)):
            simulator.add_fault(fault)
        apps = len({job.app_id for job in jobs})
        notes.print(
            f"Fetching {len(jobs)} series ({apps} apps) over {options.days} days at "
            f"{format_step(options.resolution)}: {per_series * len(jobs):,} requests, "
            f"{settings.concurrency} in flight, {options.faults} transient faults injected",
            highlight=False,
            soft_wrap=True,
        )
        with make_progress(notes, transient=False) as progress:
            bars = _Bars(
                progress,
                progress.add_task("series", total=len(jobs), unit="series"),
                progress.add_task("requests", total=per_series * len(jobs), unit="chunks"),
            )
            summary = await fetch_series_to_files(
                client,
                jobs,
                start=start,
                end=end,
                resolution=options.resolution,
                progress=bars,
            )
    rate = summary.points / summary.seconds if summary.seconds > 0 else 0.0
    retried = f"{summary.retries} retried"
    if summary.rate_limited:
        retried += f" ({summary.rate_limited} after a 429)"
    first = jobs[0].path if jobs else options.output_dir
    lines = [
        f"Done: {summary.series} series, {summary.points:,} points in {summary.seconds:.1f} s "
        f"({rate:,.0f} points/s)",
        f"  requests  {summary.requests:,} sent, {retried}, "
        f"peak {summary.peak_in_flight} in flight",
        f"  files     {options.output_dir}/ ({summary.series} JSONL files, "
        f"{_size(summary.bytes_written)})",
        f"  look      head -3 {first}",
    ]
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)


@click.command()
@click.option(
    "--days",
    type=click.IntRange(1, 30),
    default=30,
    show_default=True,
    help="How far back to fetch (the simulator keeps 30 days, like Scout).",
)
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="5m",
    show_default=True,
    help="Step of every series.",
)
@click.option(
    "--apps",
    "app_ids",
    type=IdList(),
    default=None,
    help="Comma-separated app ids.  [default: all five, 101-105]",
)
@click.option(
    "--metrics",
    "metric_names",
    type=NameList(APP_METRICS),
    default=None,
    help="Comma-separated metrics.  [default: all six]",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT_DIR,
    show_default=True,
    help="Where the JSONL files go (created if missing; files of the same name are replaced).",
)
@click.option(
    "--faults",
    type=click.IntRange(min=0),
    default=4,
    show_default=True,
    help="Transient server faults to inject (503, 429, a dropped connection, 500), each "
    "retried by the client; 0 for a clean run.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Simulated server latency per request.",
)
@pass_settings
def demo(
    settings: Settings,
    days: int,
    resolution: timedelta,
    app_ids: tuple[int, ...] | None,
    metric_names: tuple[str, ...] | None,
    output_dir: Path,
    faults: int,
    latency: float,
) -> None:
    """Run a real backfill against the bundled simulator: no account or key needed.

    Starts the Scout API simulator on a free localhost port and fetches, over HTTP, every metric
    of every app for the last --days at --resolution (30 days at 5m: about 1,800 requests), one
    JSONL file per series, then prints what it took. The global --concurrency, --timeout,
    --max-retries and --auth apply; --api-key and --url are not used.

    \b
    scout-async demo
    scout-async demo --days 7 --resolution 1m --concurrency 16
    scout-async demo --days 1 --apps 101 --metrics throughput,apdex --faults 0
    """
    from scout_async.testing import ScoutSimulator

    options = _Options(
        days=days,
        resolution=resolution,
        app_ids=app_ids or (),
        metric_names=metric_names or (),
        output_dir=output_dir,
        faults=faults,
        latency=latency,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    simulator = ScoutSimulator(api_key=DEMO_KEY, latency=latency)
    anyio.run(_run, settings, options, simulator)
