"""``fetch``: one metric series (of an app, an endpoint or a job) over any window, streamed to
stdout or a file."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import attrs
import click
from rich.console import Console

from ..._client import ScoutClient
from ..._exceptions import ArgumentError, ScoutError
from ..._resources.metrics import APP_METRICS, JOB_METRICS
from ..._series.planner import Chunk, plan_range
from ..._series.steps import format_step
from ...types._models import Point
from ..context import Settings, make_console, pass_settings, stderr_console
from ..options import RESOLUTION, TIME, app_and, app_option, endpoint_ref, job_ref, to_option
from ..progress import ChunkCounter, heartbeat, make_progress
from ..render import (
    FORMATS,
    PointWriter,
    SeriesInfo,
    default_format,
    make_writer,
    note,
    open_output,
)
from ..stop import run_loop
from ..times import TIME_HELP, TimeSpec, format_instant, resolve_window
from ..units import metric_unit

__all__ = ["fetch"]

# click lists the metrics of every scope; the command then checks METRIC against its own scope.
_ALL_METRICS = tuple(dict.fromkeys(APP_METRICS + JOB_METRICS))


def _points(client: ScoutClient, info: SeriesInfo) -> AsyncGenerator[Point, None]:
    scope = dict([info.scope]) if info.scope is not None else {}
    return client.metrics.stream(
        info.app_id,
        info.metric,
        start=info.start,
        end=info.end,
        resolution=info.step,
        endpoint_id=scope.get("endpoint_id"),
        job_id=scope.get("job_id"),
    )


def _check_metric(metric: str, job: str | None) -> None:
    valid, scope = (
        (JOB_METRICS, "a job") if job is not None else (APP_METRICS, "an app or endpoint")
    )
    if metric not in valid:
        also = (
            "" if job is not None or metric not in JOB_METRICS else " (a job metric: add --job ID)"
        )
        raise click.BadParameter(
            f"{metric!r} is not a metric of {scope}; use one of {', '.join(valid)}{also}",
            param_hint="'METRIC'",
        )


@attrs.define
class _Fetched:
    count: int = 0
    first: datetime | None = None


#: Scout keeps about this much metric data (the API notes, quirk 4).
RETENTION = timedelta(days=30)


async def _stream_to(
    settings: Settings,
    info: SeriesInfo,
    chunks: list[Chunk],
    writer: PointWriter,
    progress_console: Console,
    beat: float,
) -> _Fetched:
    """Stream the series into ``writer`` with a progress bar (requests, rate, ETA, retries) or,
    off a terminal, a heartbeat line; returns how many points came and the first one's time."""
    fetched = _Fetched()
    counter = ChunkCounter(chunks)
    with make_progress(progress_console, transient=True) as progress:
        task = progress.add_task(info.title, total=counter.total, unit="requests")
        async with settings.client() as client:
            stream = _points(client, info)
            with heartbeat(progress, progress_console, beat, name="fetch"):
                try:
                    async with contextlib.aclosing(stream):
                        async for point in stream:
                            writer.write(point)
                            if fetched.first is None:
                                fetched.first = point.time
                            fetched.count += 1
                            done = counter.passed(point.time)
                            if done:
                                retried = client.stats.retries
                                unit = f"requests, {retried} retried" if retried else "requests"
                                progress.update(task, advance=done, unit=unit)
                except ScoutError as exc:
                    if fetched.count == 0:
                        exc.resume_from = None  # nothing was written: "resume there" confuses
                    raise
        progress.advance(task, counter.finish())
    return fetched


def _retention_note(info: SeriesInfo, fetched: _Fetched, now: datetime) -> None:
    """Past Scout's ~30 days of metrics: say where the data starts (its first point, or about
    30 days ago)."""
    begins = now - RETENTION
    if info.start >= begins:
        return
    if fetched.first is not None and fetched.first <= info.origin + info.step:
        return  # the server had data from the start of the window after all
    starts = (
        format_instant(fetched.first)
        if fetched.first is not None
        else (f"about {format_instant(begins)}")
    )
    note(
        f"the window starts before Scout's ~30 days of metrics: the data starts at {starts}; "
        "earlier buckets are not in the output"
    )


@click.command()
@click.argument("first", metavar="[APP]", required=False)
@click.argument("second", metavar="METRIC", required=False)
@app_option
@click.option(
    "--from", "start", type=TIME, default=None, help=f"Window start (needed). {TIME_HELP}"
)
@to_option
@click.option(
    "--resolution",
    type=RESOLUTION,
    default=None,
    help="Step of the series. Default: the step Scout gives the whole window (up to 14 days), "
    "2h beyond. A finer step over a long window takes more requests.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="table: summary with units, an 8-line chart, first and last points. jsonl: {time, "
    "value} per line. csv: time,value. json: one object with app_id, metric, unit, step, "
    "points. Default: json with --json, table on a terminal, else the --output suffix "
    "(.csv/.json/.jsonl), else jsonl.",
)
@click.option(
    "--endpoint",
    "endpoint_id",
    metavar="ID",
    default=None,
    help="The series of one endpoint of APP: its id from `endpoints` (or its name).",
)
@click.option(
    "--job",
    "job_id",
    metavar="ID",
    default=None,
    help="The series of one background job of APP: its id from `jobs` (or its queue/name).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="Write to FILE instead of stdout. The file appears only once the series is complete.",
)
@pass_settings
def fetch(
    settings: Settings,
    first: str | None,
    second: str | None,
    start: TimeSpec | None,
    end: TimeSpec,
    resolution: timedelta | None,
    endpoint_id: str | None,
    job_id: str | None,
    fmt: str | None,
    output: Path | None,
) -> None:
    """Fetch METRIC of APP (or of one of its endpoints or jobs) from --from to --to, at one
    step, in time order.

    APP is an app id (see `apps`). METRIC of an app or an endpoint is one of apdex,
    response_time, response_time_95th, errors, throughput, queue_time; of a job, one of
    throughput, execution_time, latency, errors, allocations.

    Units: response_time, response_time_95th, queue_time, execution_time and
    latency in ms; throughput per minute; apdex 0 to 1; errors per step.
    Points stream out as they arrive (jsonl, csv, json), so a month at one
    minute needs no more memory than a day. Times are UTC; each point is the
    start of its bucket, and the window is half-open: buckets from the one
    holding --from up to, not including, --to. Scout keeps about 30 days.

    \b
    scout-async fetch 101 response_time --from 24h
    scout-async fetch 101 throughput --from 30d --resolution 1m -o throughput.csv
    scout-async fetch 101 apdex --from 2026-06-01 --to 2026-06-08 --format json
    scout-async fetch 101 response_time --endpoint YXBpL21ldHJpY3Mvc2hvdw== --from 7d
    scout-async fetch 101 execution_time --job ZGVmYXVsdC9NYWlsZXJKb2I= --from 1d
    """
    if endpoint_id is not None and job_id is not None:
        raise click.UsageError("--endpoint and --job exclude each other: pass one of them")
    if second is None and first is not None and first.isdigit():
        raise click.UsageError(
            "Missing argument 'METRIC'. Choose from: " + ", ".join(_ALL_METRICS) + "."
        )
    app_id, metric = app_and(settings, first, second, "METRIC", numeric=False)
    metric = click.Choice(_ALL_METRICS).convert(metric, None, click.get_current_context())
    _check_metric(metric, job_id)
    if start is None:
        raise click.UsageError("Missing option '--from'.")
    endpoint_id = None if endpoint_id is None else endpoint_ref(endpoint_id)
    job_id = None if job_id is None else job_ref(job_id)
    try:
        start_at, end_at = resolve_window(start, end, settings.now())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        chunks = plan_range(start_at, end_at, resolution)
    except ArgumentError as exc:
        raise click.UsageError(f"--from/--to/--resolution: {exc}") from None
    step = chunks[0].step
    info = SeriesInfo(
        app_id=app_id,
        metric=metric,
        step=step,
        start=start_at,
        end=end_at,
        origin=chunks[0].owned_start,
        buckets=(chunks[-1].owned_end - chunks[0].owned_start) // step,
        scope=None
        if endpoint_id is None and job_id is None
        else ("endpoint_id", endpoint_id)
        if endpoint_id is not None
        else ("job_id", str(job_id)),
        unit=metric_unit(metric, job=job_id is not None),
    )
    to_stdout = output is None or str(output) == "-"
    if fmt is not None:
        chosen = fmt
    elif settings.json and to_stdout:
        chosen = "json"
    else:
        chosen = default_format(output, stdout_is_terminal=sys.stdout.isatty())
    settings.require_key()  # before creating the output file
    errors = stderr_console()
    # Lines streaming to a terminal are their own progress; a bar on the same screen would be
    # drawn in between them.
    lines_on_screen = to_stdout and chosen != "table" and sys.stdout.isatty()
    bars = make_console(sys.stderr, force_interactive=False) if lines_on_screen else errors
    beat = 0.0 if lines_on_screen else settings.heartbeat
    with open_output(output) as out:
        console = make_console(out) if to_stdout else _file_console(out)
        writer = make_writer(chosen, out, info, console)
        fetched = run_loop(lambda: _stream_to(settings, info, chunks, writer, bars, beat))
        writer.close()
    if not to_stdout:
        errors.print(
            f"wrote {fetched.count:,} points ({format_step(step)} step, {chosen}) to {output}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    elif fetched.count == 0 and chosen != "table":
        errors.print(
            "note: no points in this window (Scout keeps about 30 days of metrics)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    _retention_note(info, fetched, settings.now())


def _file_console(out: TextIO) -> Console:
    # A table in a file: no colour codes, and wide enough not to wrap timestamps.
    return make_console(out, color_system=None, width=100, force_terminal=False)
