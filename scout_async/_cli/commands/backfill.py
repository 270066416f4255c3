"""``backfill``: every series of some apps over a window, at one step, into a file, a database or
a directory, with a checkpoint so that an interrupted run continues where it stopped."""

from __future__ import annotations

import os
import shlex
import time
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import attrs
import click
from click.core import ParameterSource

from ..._bulk.checkpoint import CheckpointFile, SavedPlan
from ..._bulk.report import BackfillResult
from ..._bulk.selection import SeriesKey
from ..._core import ClientStats
from ..._exceptions import ArgumentError
from ..._series.planner import Chunk, plan_range
from ..._series.steps import format_step
from ..._time import display_time
from ...sinks import Sink, open_sink
from ..context import CliError, Settings, pass_settings, scrub, stderr_console
from ..options import RESOLUTION, TIME, Ids, Names, selection_options, to_option
from ..progress import BackfillBars, WatchedSink, make_progress
from ..render import listing_console, print_backfill_summary
from ..stop import run_until_signalled
from ..times import TIME_HELP, TimeSpec, format_instant, resolve_window

__all__ = [
    "DIRECTORY_STATE_NAME",
    "backfill",
    "default_state_path",
    "open_output_sink",
    "resume_command",
    "writes_a_directory_of_files",
]

#: The state file of a backfill into a directory of per-series files lives inside it.
DIRECTORY_STATE_NAME = ".scout-backfill.json"

# Global options that shape how a job runs (never the key): repeated in the resume command when
# they were given on the command line.
_GLOBAL_OPTIONS = (
    ("url", "--url"),
    ("auth", "--auth"),
    ("concurrency", "--concurrency"),
    ("timeout", "--timeout"),
    ("max_retries", "--max-retries"),
)


def open_output_sink(output: Path, option: str = "--output") -> Sink:
    """The sink ``open_sink`` picks for ``output``; a usage error names ``option`` if none fits."""
    try:
        return open_sink(output)
    except ArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint=f"'{option}'") from None
    except ImportError as exc:  # .parquet without pyarrow
        raise CliError(str(exc)) from None


def writes_a_directory_of_files(sink: Sink) -> bool:
    """Whether ``sink`` is one file per series in a directory (its location ends in a separator)
    rather than one file, a database or a Parquet dataset."""
    return sink.location.endswith(os.sep) and not sink.location.startswith("parquet:")


def default_state_path(output: Path, sink: Sink) -> Path:
    """``DIR/.scout-backfill.json`` for a directory of per-series files, else ``OUTPUT.state.json``
    next to the output (``points.sqlite.state.json``)."""
    absolute = Path(os.path.abspath(output))
    if writes_a_directory_of_files(sink):
        return absolute / DIRECTORY_STATE_NAME
    return absolute.with_name(absolute.name + ".state.json")


@attrs.frozen
class _Job:
    apps: Ids
    metrics: Names
    start: datetime
    end: datetime
    chunks: list[Chunk]
    sink: Sink
    state: Path
    done_before: dict[SeriesKey, int]

    @property
    def step(self) -> timedelta:
        return self.chunks[0].step


@attrs.frozen
class _Outcome:
    result: BackfillResult | None
    signalled: str | None
    seconds: float
    stats: ClientStats


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) not in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    )


def _resumed_window(
    saved: SavedPlan, start: TimeSpec | None, end: TimeSpec
) -> tuple[datetime, datetime]:
    """The checkpoint's window; an explicit ISO ``--from``/``--to`` must be that very window (a
    relative one, such as ``30d``, would have moved since, so it is not compared)."""
    for spec, saved_at, option in ((start, saved.start, "--from"), (end, saved.end, "--to")):
        given = None if spec is None else spec.instant
        # Whole seconds: a checkpoint written through the library may hold microseconds.
        if given is not None and given.replace(microsecond=0) != saved_at.replace(microsecond=0):
            raise click.UsageError(
                f"{option} {format_instant(given)} is not the window of the checkpoint "
                f"({format_instant(saved.start)} → {format_instant(saved.end)}); resuming "
                "continues that window: leave out --from/--to, or pass the checkpoint's"
            )
    return saved.start, saved.end


def _done_before(saved: SavedPlan, chunks: list[Chunk]) -> dict[SeriesKey, int]:
    return {
        key: sum(1 for chunk in chunks if mark is not None and chunk.owned_end <= mark)
        for key, mark in saved.done_until.items()
    }


def _listed(values: Ids | Names) -> str:
    return values if isinstance(values, str) else ",".join(str(v) for v in values)


def resume_command(
    ctx: click.Context, job: _Job, output: Path, checkpoint: Path | None, *, resume: bool = True
) -> str:
    """The exact command that resumes ``job``: its plan spelled out, with ISO times; without
    ``resume``, the command that starts it over (nothing was written yet)."""
    root = ctx.find_root()
    words = ["scout-async"]
    for name, flag in _GLOBAL_OPTIONS:
        if root.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            words += [flag, str(root.params[name])]
    words += [
        "backfill",
        "--apps", _listed(job.apps),
        "--metrics", _listed(job.metrics),
        "--from", display_time(job.start),  # a fraction of a second too, if the plan has one
        "--to", display_time(job.end),
        "--resolution", format_step(job.step),
        "--output", str(output),
    ]  # fmt: skip
    if checkpoint is not None:
        words += ["--checkpoint", str(checkpoint)]
    if resume:
        words.append("--resume")
    return shlex.join(words)


async def _run(settings: Settings, job: _Job) -> _Outcome:
    began = time.monotonic()
    with make_progress(stderr_console(), transient=False) as progress:
        bars = BackfillBars(
            progress,
            chunks_per_series=len(job.chunks),
            rows=settings.concurrency,
            done_before=job.done_before,
        )
        async with settings.client() as client:
            result, signalled = await run_until_signalled(
                lambda: client.backfill(
                    apps=job.apps,
                    metrics=job.metrics,
                    start=job.start,
                    end=job.end,
                    resolution=job.step,
                    sink=WatchedSink(job.sink, bars),
                    checkpoint=job.state,
                    progress=bars.update,
                )
            )
            stats = client.stats
        bars.finish()
    return _Outcome(result, signalled, time.monotonic() - began, stats)


EPILOG = """\b
Examples:
  scout-async backfill --apps all --metrics all --from 30d --resolution 1m -o scout.sqlite
  scout-async backfill --apps 101,102 --metrics throughput,errors --from 7d -o points.jsonl
  scout-async backfill --apps 101 --from 2026-06-01 --to 2026-07-01 -o june/  # a file per series
  scout-async backfill -o scout.sqlite --resume       # continue an interrupted run
"""


@click.command(epilog=EPILOG)
@selection_options("all")
@click.option(
    "--from",
    "start",
    type=TIME,
    default=None,
    help=f"Window start; needed unless --resume. {TIME_HELP}",
)
@to_option
@click.option(
    "--resolution",
    type=RESOLUTION,
    default="1m",
    show_default=True,
    help="Step of every series; 1m is the finest Scout keeps (30 days at 1m: 720 requests per "
    "series).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Where the rows (app_id, metric, time, value) go, by extension: .sqlite/.db (upserted), "
    ".parquet (a dataset directory, needs pyarrow), .jsonl, .csv; a directory (or a path "
    "without extension, created) gets one .jsonl per series.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the backfill the checkpoint belongs to: its window, and its apps, metrics and "
    "resolution unless given. The output ends up as an uninterrupted run's.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="The state file that makes the job resumable.  [default: OUTPUT.state.json, or "
    "DIR/.scout-backfill.json for a directory]",
)
@pass_settings
def backfill(
    settings: Settings,
    apps: Ids,
    metrics: Names,
    start: TimeSpec | None,
    end: TimeSpec,
    resolution: timedelta,
    output: Path,
    resume: bool,
    checkpoint: Path | None,
) -> None:
    """Fetch every metric series of some apps over one window into one output, resumably.

    Series are fetched concurrently (the global --concurrency bounds the requests in flight),
    each one in time order; every grid bucket of the window lands in the output exactly once.
    A checkpoint next to the output records how far each series is written. A series that fails
    does not stop the others; the command then exits 1 and prints the command that resumes the
    job. An existing checkpoint is never overwritten: resume it with --resume, or delete it (and
    the output) to start over. The checkpoint is kept when the job is complete.

    Progress bars go to stderr on a terminal; the summary table to stdout.
    """
    ctx = click.get_current_context()
    sink = open_output_sink(output)
    state = checkpoint if checkpoint is not None else default_state_path(output, sink)
    saved: SavedPlan | None = None
    if resume:
        if not state.is_file():
            raise click.UsageError(
                f"--resume: there is no checkpoint at {state}, so nothing to resume; run without "
                "--resume to start the backfill"
            )
        saved = CheckpointFile(state).saved_plan()
        if saved is None:  # gone since: as if it never was
            raise click.UsageError(f"--resume: there is no checkpoint at {state}")
        window = _resumed_window(saved, start, end)
        apps = apps if _given(ctx, "apps") else saved.apps
        metrics = metrics if _given(ctx, "metrics") else saved.metrics
        resolution = resolution if _given(ctx, "resolution") else saved.step
    else:
        if state.exists():
            raise click.UsageError(
                f"a checkpoint of an earlier backfill is at {state}: pass --resume to continue "
                f"it, or delete it (and {output}) to start over"
            )
        if start is None:
            raise click.UsageError("Missing option '--from' (needed unless --resume)")
        try:
            # Whole seconds, as Scout reads times: the plan, checkpoint and resume command agree.
            now = settings.now().replace(microsecond=0)
            window = resolve_window(start, end, now)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    try:
        chunks = plan_range(window[0], window[1], resolution)
    except ArgumentError as exc:
        raise click.UsageError(f"--from/--to/--resolution: {exc}") from None
    settings.require_key()
    if writes_a_directory_of_files(sink):
        Path(output).mkdir(exist_ok=True)
    job = _Job(
        apps=apps,
        metrics=metrics,
        start=window[0],
        end=window[1],
        chunks=chunks,
        sink=sink,
        state=state,
        done_before={} if saved is None else _done_before(saved, chunks),
    )
    outcome = anyio.run(_run, settings, job)
    again = resume_command(ctx, job, output, checkpoint)
    if outcome.result is None:
        if not state.exists():  # stopped before the first checkpoint: nothing to resume
            fresh = resume_command(ctx, job, output, checkpoint, resume=False)
            raise CliError(
                f"interrupted ({outcome.signalled}) before anything was written. Start again "
                f"with: {fresh}"
            )
        raise CliError(
            f"interrupted ({outcome.signalled}); {state} holds what was written. Resume with: "
            f"{again}"
        )
    result = outcome.result
    print_backfill_summary(
        listing_console(),
        result,
        seconds=outcome.seconds,
        stats=outcome.stats,
        output=output,
        kind=sink.location.split(":", 1)[0],
        state=state,
        resumed=saved is not None,
        secret=settings.api_key,
    )
    if result.ok:
        return
    if result.stopped is not None:
        why = f"the job stopped: {scrub(result.stopped, settings.api_key)}"
    else:
        failed = sum(1 for s in result.series if s.status == "failed")
        why = f"{failed} of {len(result.series)} series failed (see the table)"
    raise CliError(f"{why}. Resume with: {again}")
