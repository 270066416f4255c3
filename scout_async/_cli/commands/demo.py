"""``demo``: a real job against the bundled simulator, over HTTP on localhost, no account needed.

The simulator serves synthetic but realistic data on a free port; the demo lists its apps and
metrics, then backfills every series over the last ``--days`` at ``--resolution`` into one JSONL
file per series (``client.backfill`` with ``open_sink(output_dir)``), with a few transient server
faults on the way for the client to retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import attrs
import click

from ..._client import ScoutClient
from ..._resources.metrics import APP_METRICS
from ..._series.planner import plan_range
from ..._series.steps import format_step
from ...sinks import open_sink
from ..context import CliError, Settings, pass_settings, stderr_console, stdout_console
from ..options import RESOLUTION, IdList, NameList
from ..progress import BackfillBars, WatchedSink, heartbeat, make_progress
from ..stop import run_loop

if TYPE_CHECKING:
    from ...testing import Fault, ScoutSimulator

__all__ = ["FetchSummary", "demo", "fetch_series_to_files", "series_file"]

# The simulator's own key: a made-up one, so nothing real is ever sent anywhere.
DEMO_KEY = "scout-demo-key"
DEFAULT_OUTPUT_DIR = Path("scout-demo-output")


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


def series_file(output_dir: Path, app_id: int, metric: str) -> Path:
    """The JSONL file of one series in ``output_dir`` (``JsonlSink``'s per-series name)."""
    return output_dir / f"{app_id}-{quote(metric, safe='')}.jsonl"


async def fetch_series_to_files(
    client: ScoutClient,
    series: Mapping[int, Sequence[str]],
    *,
    start: datetime,
    end: datetime,
    resolution: timedelta,
    output_dir: Path,
    bars: BackfillBars | None = None,
) -> FetchSummary:
    """Backfill every series (app id -> its metrics) over ``[start, end)`` into ``output_dir``,
    one JSONL file per series, through ``client.backfill`` and ``open_sink(output_dir)``.

    Apps with the same metrics share one backfill, whose series run concurrently under the
    client's one limit; each series is written as it arrives, so memory stays bounded. Series
    fail one by one; if any did, the first error is raised once the job is over (the files of
    the others stay).
    """
    began = time.monotonic()
    groups: dict[tuple[str, ...], list[int]] = {}
    for app_id, metrics in series.items():
        if metrics:
            groups.setdefault(tuple(metrics), []).append(app_id)
    points = 0
    for metrics, app_ids in groups.items():
        sink = open_sink(output_dir)
        result = await client.backfill(
            apps=app_ids,
            metrics=list(metrics),
            start=start,
            end=end,
            resolution=resolution,
            sink=sink if bars is None else WatchedSink(sink, bars),
            progress=None if bars is None else bars.update,
        )
        points += result.points
        for failed in result.failed:
            if failed.error is not None:
                raise failed.error
        if result.stopped is not None:
            raise CliError(f"the demo stopped: {result.stopped}")
    files = [
        series_file(output_dir, app_id, metric)
        for app_id, metrics in series.items()
        for metric in metrics
    ]
    stats = client.stats
    return FetchSummary(
        series=len(files),
        points=points,
        bytes_written=sum(path.stat().st_size for path in files if path.exists()),
        seconds=time.monotonic() - began,
        requests=stats.requests,
        retries=stats.retries,
        rate_limited=stats.rate_limited,
        peak_in_flight=stats.peak_in_flight,
    )


def _faults(count: int, planned: int) -> list[Fault]:
    """``count`` transient faults spread over the metric requests: each one fails a request
    once, and the client's retry gets the data."""
    from ...testing import Fault

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


async def _plan_series(client: ScoutClient, options: _Options) -> dict[int, list[str]]:
    """App id -> the metrics to fetch: those asked for (or all) that the app offers."""
    available = {app.id: app for app in await client.apps.list()}
    wanted = options.app_ids or tuple(available)
    unknown = [app_id for app_id in wanted if app_id not in available]
    if unknown:
        raise click.UsageError(
            f"--apps: no app {', '.join(map(str, unknown))} in the simulator; it has "
            + ", ".join(map(str, available))
        )
    series: dict[int, list[str]] = {}
    for app_id in wanted:
        offered = await client.metrics.list(app_id)
        series[app_id] = [m for m in options.metric_names or offered if m in offered]
    return series


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


async def _run(settings: Settings, options: _Options, simulator: ScoutSimulator) -> None:
    from ...testing import SimulatorServer

    notes, out = stderr_console(), stdout_console()
    async with (
        SimulatorServer(simulator) as server,
        settings.client(api_key=DEMO_KEY, base_url=server.url) as client,
    ):
        series = await _plan_series(client, options)
        count = sum(len(metrics) for metrics in series.values())
        notes.print(
            f"Started the Scout API simulator at {server.url} (synthetic data, no account needed)",
            highlight=False,
            soft_wrap=True,
        )
        end = settings.now()
        start = end - timedelta(days=options.days)
        per_series = len(plan_range(start, end, options.resolution))
        for fault in _faults(options.faults, per_series * count):
            simulator.add_fault(fault)
        apps = sum(1 for metrics in series.values() if metrics)
        notes.print(
            f"Fetching {count} series ({apps} apps) over {options.days} days at "
            f"{format_step(options.resolution)}: {per_series * count:,} requests, "
            f"{settings.concurrency} in flight, {options.faults} transient faults injected",
            highlight=False,
            soft_wrap=True,
        )
        with (
            make_progress(notes, transient=False) as progress,
            heartbeat(progress, notes, settings.heartbeat, name="demo"),
        ):
            bars = BackfillBars(progress, chunks_per_series=per_series, rows=settings.concurrency)
            summary = await fetch_series_to_files(
                client,
                series,
                start=start,
                end=end,
                resolution=options.resolution,
                output_dir=options.output_dir,
                bars=bars,
            )
            bars.finish()
    rate = summary.points / summary.seconds if summary.seconds > 0 else 0.0
    retried = f"{summary.retries} retried"
    if summary.rate_limited:
        retried += f" ({summary.rate_limited} after a 429)"
    first = next(
        (series_file(options.output_dir, a, ms[0]) for a, ms in series.items() if ms),
        options.output_dir,
    )
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
        out.print(line, markup=False, highlight=False, soft_wrap=True)


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

    Starts the Scout API simulator on a free localhost port and backfills, over HTTP, every
    metric of every app for the last --days at --resolution (30 days at 5m: about 1,800
    requests), one JSONL file per series (APP-METRIC.jsonl), then prints what it took. The
    global --concurrency, --timeout, --max-retries and --auth apply; --api-key and --url are
    not used.

    \b
    scout-async demo
    scout-async demo --days 7 --resolution 1m --concurrency 16
    scout-async demo --days 1 --apps 101 --metrics throughput,apdex --faults 0
    """
    from ...testing import ScoutSimulator

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
    run_loop(lambda: _run(settings, options, simulator))
